"""Mocked VASP for the validation tests (atomate2's pattern: reference inputs checked, outputs copied).

``mock_vasp`` is atomate2's own ``monkeypatch_vasp``: VASP is never run; POTCARs are replaced by
POTCAR.spec files; each job's INCAR/KPOINTS/POSCAR/POTCAR.spec are compared with
``test_data/<run>/inputs`` and ``test_data/<run>/outputs`` is copied in as the result.
``written_inputs`` additionally keeps what each job wrote, for assertions on the exact values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import atomate2.vasp.jobs.base
import pytest
from atomate2.utils.testing.vasp import monkeypatch_vasp
from jobflow import CURRENT_JOB
from pymatgen.io.vasp import Incar, Kpoints, Poscar
from validation_structures import TEST_DATA


@pytest.fixture
def mock_vasp(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Callable]:
    """Register reference directories per job name: ``mock_vasp({job_name: "run/dir"})``."""
    monkeypatch.chdir(tmp_path)
    yield from monkeypatch_vasp(monkeypatch, TEST_DATA)


@pytest.fixture
def written_inputs(mock_vasp: Callable, monkeypatch: pytest.MonkeyPatch) -> dict[str, dict]:
    """INCAR, KPOINTS, POSCAR and POTCAR symbols each job wrote, keyed by job name."""
    seen: dict[str, dict] = {}
    mocked_run = atomate2.vasp.jobs.base.run_vasp

    def capture_then_run(*args, **kwargs) -> None:
        seen[CURRENT_JOB.job.name] = {
            "incar": Incar.from_file("INCAR"),
            "kpoints": Kpoints.from_file("KPOINTS"),
            "poscar": Poscar.from_file("POSCAR"),
            "potcar": Path("POTCAR.spec").read_text().split(),
        }
        mocked_run(*args, **kwargs)

    monkeypatch.setattr(atomate2.vasp.jobs.base, "run_vasp", capture_then_run)
    return seen
