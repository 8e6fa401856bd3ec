"""Reference dataset builder: compounds -> ordering ladders -> strained, rattled copies -> GPAW -> extxyz.

Modules: ``settings`` (the build config), ``kinds`` (frame-kind registry), ``plan`` (which frames,
in which order), ``engine`` (GPAW or any ASE calculator), ``store`` (records and claims),
``runner`` (resumable workers), ``export`` (extended XYZ and provenance). Command line:
``magscreen dataset build|status|export CONFIG``.
"""
