"""The pymongo and maggma snippets of docs/query.md run, and answer right on a small known store."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest
from pymongo import MongoClient

from magscreen.config import StoreConfig
from magscreen.store import build_stores

QUERY_DOC = Path(__file__).resolve().parents[2] / "docs" / "query.md"
DOC_URI = "mongodb://127.0.0.1:27117/"


def _candidate(candidate_id, formula, elements, label, fingerprint):
    return {
        "candidate_key": f"{candidate_id}:m1",
        "candidate_id": candidate_id,
        "formula": formula,
        "magnetic_elements": elements,
        "resolved": label is not None,
        "ground_state_label": label,
        "ground_state_fingerprint": fingerprint,
        "lowest_ordering_label": label or "FM",
        "gap_meV": 20.0,
        "model_version": "m1",
    }


def _validation(candidate_id, formula, label, fingerprint, energy, calculation="static", mae=None):
    return {
        "validation_id": f"{candidate_id}:{fingerprint}:gpaw:{calculation}",
        "candidate_id": candidate_id,
        "formula": formula,
        "ordering_label": label,
        "ordering_fingerprint": fingerprint,
        "engine": "gpaw",
        "calculation": calculation,
        "energy_per_magnetic_atom_eV": energy,
        "converged": True,
        "model_version": "m1",
        "mae_ueV_per_atom": mae,
        "easy_axis": None if mae is None else [0, 0, 1],
    }


CANDIDATES = [
    _candidate("mp-13", "Fe", ["Fe"], "AFM q=(0,1/2,1/2)", "fe-afm"),  # ML says AFM ...
    _candidate("mp-19009", "NiO", ["Ni"], "AFM-II", "nio-afm2"),
    _candidate("mp-2260", "FePt", ["Fe", "Pt"], "FM", "fept-fm"),
    _candidate("FeO", "FeO", ["Fe"], None, None),  # unresolved: no ML ground state to disagree with
]
VALIDATIONS = [
    _validation("mp-13", "Fe", "AFM q=(0,1/2,1/2)", "fe-afm", -8.6),
    _validation("mp-13", "Fe", "FM", "fe-fm", -8.8),  # ... DFT says FM: disagreement
    _validation("mp-19009", "NiO", "AFM-II", "nio-afm2", -5.0),
    _validation("mp-19009", "NiO", "FM", "nio-fm", -4.9),  # agreement
    _validation("mp-2260", "FePt", "FM", "fept-fm", -8.0, "soc_force_theorem", mae=1400.0),
    _validation("FeO", "FeO", "AFM-II", "feo-afm2", -7.0),
    _validation("FeO", "FeO", "FM", "feo-fm", -6.9),
]
ORDERINGS = [
    {
        "ordering_id": "mp-19009:nio-afm2:m1",
        "candidate_id": "mp-19009",
        "label": "AFM-II",
        "fingerprint": "nio-afm2",
        "relative_energy_meV": 0.0,
    },
    {
        "ordering_id": "mp-19009:nio-fm:m1",
        "candidate_id": "mp-19009",
        "label": "FM",
        "fingerprint": "nio-fm",
        "relative_energy_meV": 54.0,
    },
    {
        "ordering_id": "mp-19009:nio-afm1:m1",
        "candidate_id": "mp-19009",
        "label": "AFM-I",
        "fingerprint": "nio-afm1",
        "relative_energy_meV": 62.0,
    },
]


def test_query_doc_snippets_answer_the_questions(mongodb_uri, tmp_path):
    if not QUERY_DOC.is_file():
        pytest.skip("docs/query.md is not there")
    text = QUERY_DOC.read_text()
    embedded = re.search(r'path="([^"]+)"', text).group(1)
    blocks = [
        b.replace(DOC_URI, mongodb_uri).replace(embedded, str(tmp_path / "db"))
        for b in re.findall(r"```python\n(.*?)```", text, flags=re.S)
    ]
    assert len(blocks) == 6

    database = MongoClient(mongodb_uri)["magscreen"]
    for name in ("candidates", "validations", "orderings"):
        database.drop_collection(name)
    database.candidates.insert_many([dict(d) for d in CANDIDATES])
    database.validations.insert_many([dict(d) for d in VALIDATIONS])
    database.orderings.insert_many([dict(d) for d in ORDERINGS])
    stores = build_stores(StoreConfig(kind="embedded", path=tmp_path / "db"))
    stores.candidates.update([dict(d) for d in CANDIDATES])

    namespace: dict = {}
    printed = []
    for block in blocks:
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            exec(block, namespace)  # noqa: S102 - the documentation's own code
        printed.append(buffer.getvalue())
    opening, by_element, disagree, largest_mae, ladder, embedded_out = printed

    assert "mp-13" in by_element and "mp-2260" in by_element and "mp-19009" not in by_element
    assert "mp-13" in disagree and "'dft_ground_state': 'FM'" in disagree and "mp-19009" not in disagree
    assert "FeO" not in disagree  # an unresolved ML ground state is no prediction to disagree with
    assert largest_mae.count("\n") == 1 and "1400" in largest_mae
    lines = ladder.strip().splitlines()
    assert [line.split()[0] for line in lines] == ["AFM-II", "FM", "AFM-I"]
    assert "100.0 meV" in lines[1] and lines[2].endswith("None")  # DFT FM 0.1 eV above; AFM-I not validated
    assert embedded_out.strip() == "NiO AFM-II"
    stores.close()
