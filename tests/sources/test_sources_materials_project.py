"""Materials Project source, mocked at the HTTP layer with responses of the real API's shape.

``data/mp_summary_fe.json`` has the layout the summary endpoint returns for
``MPRester().materials.summary.search(fields=[...])`` (``data`` documents with the requested
emmet ``SummaryDoc`` fields, structures as ``Structure.as_dict()`` with ``magmom`` site
properties; ``meta`` with ``total_doc``); the numbers in it are illustrative. No test touches
the network: ``responses`` refuses any request that is not registered.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest
import requests
import responses

from magscreen.errors import InputError, ServiceError
from magscreen.sources import query_materials_project

DATA = Path(__file__).parent / "data"
ENDPOINT = "https://api.materialsproject.org/"
HEARTBEAT = ENDPOINT + "heartbeat"
SUMMARY = ENDPOINT + "materials/summary/"
KEY = "Xk7Qp2Lm9Vt4Rz8Wn3Bc6Hd1Fs5Gj0Ya"  # 32 characters, not a real key


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def heartbeat():
    return json.loads((DATA / "mp_heartbeat.json").read_text())


@pytest.fixture
def summary():
    return json.loads((DATA / "mp_summary_fe.json").read_text())


def test_search_returns_candidates_and_sends_the_query(mocked, heartbeat, summary, monkeypatch):
    monkeypatch.setenv("MP_API_KEY", KEY)
    mocked.get(HEARTBEAT, json=heartbeat)
    mocked.get(SUMMARY, json=summary)

    candidates = query_materials_project(elements=["Fe"], max_atoms=20, energy_above_hull=0.05)

    assert [c.candidate_id for c in candidates] == ["mp-13", "mp-19770"]
    iron, hematite = candidates
    assert iron.source == "materials_project" and iron.formula == "Fe"
    assert iron.mp_ordering == "FM" and iron.total_magnetization == pytest.approx(2.2320971)
    assert hematite.mp_ordering == "AFM" and len(hematite.structure) == 10 and hematite.structure.is_ordered
    assert hematite.energy_above_hull == 0.0
    assert "mp-19770" in hematite.reference

    search = next(call.request for call in mocked.calls if call.request.url.startswith(SUMMARY))
    query = requests.utils.urlparse(search.url).query
    for expected in (
        "elements=Fe",
        "nsites_max=20",
        "energy_above_hull_max=0.05",
        "num_magnetic_sites_min=1",
        "_fields=material_id",
    ):
        assert expected in query
    assert search.headers["x-api-key"] == KEY
    assert all(KEY not in c.model_dump_json() for c in candidates)


def test_limit_asks_for_one_page_of_that_size(mocked, heartbeat, summary):
    mocked.get(HEARTBEAT, json=heartbeat)
    mocked.get(SUMMARY, json=summary)
    candidates = query_materials_project(formula="Fe", limit=1, api_key=KEY)
    assert len(candidates) == 1
    search = next(call.request for call in mocked.calls if call.request.url.startswith(SUMMARY))
    assert "_limit=1" in search.url and "formula=Fe" in search.url


def test_transient_server_error_is_retried(mocked, heartbeat, summary):
    mocked.get(HEARTBEAT, status=503)
    mocked.get(HEARTBEAT, json=heartbeat)
    mocked.get(SUMMARY, json=summary)
    candidates = query_materials_project(elements=["Fe"], api_key=KEY, backoff_s=0.01)
    assert len(candidates) == 2


def test_unreachable_service_raises_service_error_quickly(mocked, caplog):
    mocked.get(HEARTBEAT, body=requests.exceptions.ConnectionError("Name or service not known"))
    caplog.set_level(logging.DEBUG)
    start = time.perf_counter()
    with pytest.raises(
        ServiceError,
        match=r"Materials Project at https://api.materialsproject.org/ is "
        r"unreachable after 3 attempts",
    ) as info:
        query_materials_project(elements=["Fe"], api_key=KEY, retries=2, backoff_s=0.01)
    assert time.perf_counter() - start < 5.0
    assert len(mocked.calls) == 3  # first try + 2 retries
    assert KEY not in str(info.value) and KEY not in caplog.text
    assert "retrying" in caplog.text


def test_missing_key_is_an_input_error_naming_the_variable(mocked, monkeypatch):
    monkeypatch.delenv("MP_API_KEY", raising=False)
    with pytest.raises(InputError, match=r"Materials Project: MP_API_KEY: no API key: set the MP_API_KEY"):
        query_materials_project(elements=["Fe"])
    assert len(mocked.calls) == 0


def test_malformed_key_is_rejected_without_echoing_it(monkeypatch):
    monkeypatch.setenv("MP_API_KEY", "short-secret-value")
    with pytest.raises(InputError, match="32-character") as info:
        query_materials_project(elements=["Fe"])
    assert "short-secret-value" not in str(info.value)


def test_refused_key_is_an_input_error_without_the_key(mocked, heartbeat):
    mocked.get(HEARTBEAT, json=heartbeat)
    mocked.get(SUMMARY, status=401, json={"detail": f"Invalid API key {KEY}"})
    with pytest.raises(
        InputError, match=r"MP_API_KEY: the Materials Project refused the API key \(HTTP 401\)"
    ) as info:
        query_materials_project(elements=["Fe"], api_key=KEY, backoff_s=0.01)
    assert KEY not in str(info.value)
    assert sum(call.request.url.startswith(SUMMARY) for call in mocked.calls) == 1  # not retried


def test_unknown_search_criterion_is_an_input_error(mocked, heartbeat):
    mocked.get(HEARTBEAT, json=heartbeat)
    with pytest.raises(InputError, match="criteria: invalid search") as info:
        query_materials_project(extra_criteria={"colour": "blue"}, api_key=KEY)
    assert "colour" in str(info.value) and "\x1b[" not in str(info.value)  # terminal colour codes removed


def test_criterion_given_twice_is_an_input_error():
    with pytest.raises(InputError, match="extra_criteria: criteria given twice: elements"):
        query_materials_project(elements=["Fe"], extra_criteria={"elements": ["Co"]}, api_key=KEY)


def test_snapshot_style_name_as_material_id_is_an_input_error(mocked, heartbeat):
    mocked.get(HEARTBEAT, json=heartbeat)
    with pytest.raises(InputError, match="criteria: invalid search: Invalid identifier Fe-bcc"):
        query_materials_project(material_ids=["Fe-bcc"], api_key=KEY)


def test_connection_lost_during_the_search_is_retried_then_reported(mocked, heartbeat):
    mocked.get(HEARTBEAT, json=heartbeat)
    mocked.get(SUMMARY, body=requests.exceptions.ConnectionError("Connection reset by peer"))
    with pytest.raises(ServiceError, match="unreachable after 2 attempts: .*Connection reset by peer"):
        query_materials_project(elements=["Fe"], api_key=KEY, retries=1, backoff_s=0.01)
    assert sum(call.request.url.startswith(SUMMARY) for call in mocked.calls) == 2


def test_closed_local_port_fails_fast_with_a_real_socket():
    """Real HTTP stack, no mock and no network: nothing listens on 127.0.0.1:9."""
    start = time.perf_counter()
    with pytest.raises(ServiceError, match=r"http://127.0.0.1:9/ is unreachable after 2 attempts"):
        query_materials_project(
            elements=["Fe"],
            api_key=KEY,
            endpoint="http://127.0.0.1:9",
            retries=1,
            backoff_s=0.01,
            timeout_s=2.0,
        )
    assert time.perf_counter() - start < 5.0


def test_bad_element_symbol_is_an_input_error_before_any_request(mocked):
    with pytest.raises(InputError, match="Materials Project: exclude_elements: not element symbols: Xx"):
        query_materials_project(elements=["Fe"], exclude_elements=["Xx"], api_key=KEY)
    assert len(mocked.calls) == 0
