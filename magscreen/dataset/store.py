"""What a build has done: one JSON record per finished or failed frame, and one claim file per running frame.

``<work_dir>/records/<frame_id>.json`` is written atomically (a temporary file renamed into place)
when a frame ends, converged or not; ``<work_dir>/claims/<frame_id>.json`` is created exclusively
(``O_CREAT | O_EXCL``) by the worker that computes the frame, so several workers, in one build or
in several, never compute the same frame twice. A claim whose process no longer runs on this host
(or held by the claiming process itself: left by an earlier run in it) is stale and may be taken
over, so a killed build resumes where it stopped.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

__all__ = ["FrameStore"]


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class FrameStore:
    """Records and claims of one build's frames under ``work_dir``."""

    def __init__(self, work_dir: str | Path) -> None:
        self.work_dir = Path(work_dir)
        self.records_dir = self.work_dir / "records"
        self.claims_dir = self.work_dir / "claims"
        self.records_dir.mkdir(parents=True, exist_ok=True)
        self.claims_dir.mkdir(parents=True, exist_ok=True)

    def record_path(self, frame_id: str) -> Path:
        """Record file of a frame."""
        return self.records_dir / f"{frame_id}.json"

    def has_record(self, frame_id: str) -> bool:
        """Whether the frame ended (converged or failed)."""
        return self.record_path(frame_id).is_file()

    def read(self, frame_id: str) -> dict:
        """The record of a frame."""
        return json.loads(self.record_path(frame_id).read_text())

    def records(self) -> dict[str, dict]:
        """Every record, by frame id."""
        return {p.stem: json.loads(p.read_text()) for p in sorted(self.records_dir.glob("*.json"))}

    def write(self, frame_id: str, record: dict) -> None:
        """Write a frame's record atomically."""
        path = self.record_path(frame_id)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(record, indent=1))
        os.replace(tmp, path)

    def claim(self, frame_id: str) -> bool:
        """Claim a frame for this process; False when done or claimed by a live process."""
        if self.has_record(frame_id):
            return False
        path = self.claims_dir / f"{frame_id}.json"
        for _ in range(2):
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                if not self._stale(path):
                    return False
                path.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w") as handle:
                json.dump({"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}, handle)
            if self.has_record(frame_id):  # finished between the check and the claim
                self.release(frame_id)
                return False
            return True
        return False

    def claim_for_retry(self, frame_id: str) -> bool:
        """Claim a failed frame to compute it again (its record is removed once claimed)."""
        path = self.claims_dir / f"{frame_id}.json"
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w") as handle:
            json.dump({"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}, handle)
        self.record_path(frame_id).unlink(missing_ok=True)
        return True

    def release(self, frame_id: str) -> None:
        """Drop this process's claim of a frame."""
        (self.claims_dir / f"{frame_id}.json").unlink(missing_ok=True)

    def running(self) -> dict[str, dict]:
        """Live claims, by frame id (stale ones are left out)."""
        claims = {}
        for path in sorted(self.claims_dir.glob("*.json")):
            try:
                claim = json.loads(path.read_text())
            except (json.JSONDecodeError, FileNotFoundError):
                continue
            if not self._stale(path):
                claims[path.stem] = claim
        return claims

    @staticmethod
    def _stale(path: Path) -> bool:
        try:
            claim = json.loads(path.read_text())
        except FileNotFoundError:
            return True
        except json.JSONDecodeError:  # being written right now
            return time.time() - path.stat().st_mtime > 60
        if claim.get("host") != socket.gethostname():
            return False
        pid = int(claim["pid"])
        # a claim of this very process is left from an earlier run in it that died mid-frame
        return pid == os.getpid() or not _process_alive(pid)
