"""Screening with the ML potential: relax each ordering, rank the orderings of each candidate.

- ``calculators.py``: the calculator a ``relax.calculator`` spec names (shipped model, checkpoint,
  toy Heisenberg model);
- ``ml_relax.py``: :func:`relax_ordering` (lattice at fixed moments, then the moments);
- ``ranking.py``: energy ladder, gap, order of candidates;
- ``relax_maker.py``, ``rank_maker.py``, ``screen_maker.py``: their jobflow Makers;
- ``outcomes.py``, ``progress.py``: what the jobs pass on, and their progress events.

Nothing is imported here: the CLI imports the module it needs when a command runs.
"""
