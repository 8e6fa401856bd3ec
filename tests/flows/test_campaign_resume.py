"""A campaign killed with SIGKILL mid-run and re-run ends with the same store as an uninterrupted run:
the same orderings, candidates and campaign record (which counts the orderings the re-run skipped)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from typer.testing import CliRunner

from magscreen.cli import app
from magscreen.store import DATABASE_FILE, SQLiteStore

runner = CliRunner()
VOLATILE = {"completed_at", "wall_time_s"}


def contents(folder) -> dict:
    """Orderings, candidates and campaigns of a store, without timestamps and wall times."""
    out = {}
    for name, key in (("orderings", "ordering_id"), ("candidates", "candidate_key"), ("campaigns", "name")):
        store = SQLiteStore(str(folder / "db" / DATABASE_FILE), name, key=key)
        store.connect()
        out[name] = {d[key]: {k: v for k, v in d.items() if k not in VOLATILE} for d in store.query()}
        store.close()
    return out


def test_sigkill_mid_run_then_rerun_matches_uninterrupted(tmp_path, tiny_model, write_config):
    # every relaxation runs its full 25 steps, so a run takes a few seconds
    relax = {"steps": 25, "fmax": 1e-9}
    reference = write_config(tmp_path / "reference", str(tiny_model), relax=relax)
    result = runner.invoke(app, ["run", str(reference), "--report-dir", str(tmp_path / "r1")])
    assert result.exit_code == 0, result.output
    expected = contents(tmp_path / "reference")
    assert len(expected["orderings"]) == 6 and list(expected["campaigns"]) == ["test"]

    folder = tmp_path / "killed"
    config = write_config(folder, str(tiny_model), relax=relax)
    command = [sys.executable, "-c", "from magscreen.cli import app; app()", "run", str(config)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(
        command, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    orderings = SQLiteStore(str(folder / "db" / DATABASE_FILE), "orderings", key="ordering_id")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if (folder / "db" / DATABASE_FILE).exists():
            orderings.connect()
            if orderings.count() >= 1:
                break
        time.sleep(0.02)
    assert process.poll() is None, "the campaign finished before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    done = orderings.count()
    orderings.close()
    assert 1 <= done < 6, f"expected a partial store after the kill, found {done} orderings"

    result = runner.invoke(app, ["run", str(config), "--report-dir", str(tmp_path / "r2")])
    assert result.exit_code == 0, result.output
    assert f"orderings: {6 - done} computed, {done} skipped" in result.output
    # the campaign record differs from the uninterrupted run's only in its own store path and counts
    campaign = expected["campaigns"]["test"]
    assert campaign["n_orderings_computed"] == 6 and campaign["n_orderings_skipped"] == 0
    campaign["config"]["store"]["path"] = str(folder / "db")
    if "extend" in campaign["config"]:  # config paths resolve against each config's folder
        campaign["config"]["extend"]["models"] = str(folder / "extended-models")
    campaign.update(n_orderings_computed=6 - done, n_orderings_skipped=done)
    assert contents(folder) == expected
