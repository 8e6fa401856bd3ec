"""DFT validation of the best candidates: one sub-package per engine beside a shared base.

- ``base.py``: the maker call every engine shares, the anisotropy directions, and
  :func:`~magscreen.validation.base.build_validation_maker` (config -> maker);
- ``gpaw/``: the open-source GPAW engine (runs here);
- ``vasp/``: VASP through atomate2 (clusters).

Nothing is imported here, so ``import magscreen.validation`` pulls in no DFT code.
"""
