"""Shared pytest settings (one thread, no network) and the MongoDB-wire test server.

``mongodb_uri`` starts CongoDB (in memory, on a local port) for the cluster-path tests; they skip
when node or the server (``tests/workflows/congodb/setup.sh``) is missing.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.pop("MP_API_KEY", None)

CONGODB = Path(__file__).resolve().parent / "workflows" / "congodb"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def mongodb_uri() -> Iterator[str]:
    """URI of a fresh CongoDB server (``mongodb://127.0.0.1:PORT/``), stopped after the session."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (needed for the CongoDB MongoDB test server)")
    if not (CONGODB / "congodb" / "index.js").is_file() or not (CONGODB / "node_modules").is_dir():
        pytest.skip(f"CongoDB test server not installed: run {CONGODB / 'setup.sh'}")
    port = _free_port()
    server = subprocess.Popen(
        [node, "serve.mjs", str(port)],
        cwd=CONGODB,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        line = server.stdout.readline()
        if not line.startswith("ready"):
            pytest.skip(f"CongoDB did not start: {line.strip()}")
        yield f"mongodb://127.0.0.1:{port}/"
    finally:
        server.terminate()
        server.wait(timeout=10)
