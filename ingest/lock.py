"""One writer at a time: an ``flock`` on a file in the index folder.

``hfa ingest`` holds the lock exclusively for its whole run, so two ingests
never interleave their writes (the second waits a bounded time, then stops
with a message). ``hfa ingest --check`` holds it shared, so it never sees an
ingest half done. Readers take no lock: they serve only what the catalog
lists, and the catalog is replaced atomically. The kernel drops the lock when
the holder dies, even by SIGKILL, so a crash never leaves a stale lock.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ingest.index import IndexProblem, read_only_problem

LOCK_FILE = "ingest.lock"
POLL_SECONDS = 0.1


class IndexBusy(IndexProblem):
    """Another ingest held the lock for longer than we were willing to wait."""


def holder(index_dir: Path) -> int | None:
    """The process id of the ingest holding the lock right now, or None if none does."""
    try:
        fd = os.open(index_dir / LOCK_FILE, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return _recorded_pid(fd)
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _recorded_pid(fd: int) -> int:
    text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    return int(text) if text.isdigit() else 0


@contextmanager
def ingest_lock(index_dir: Path, data_dir: Path, wait_seconds: float, *, shared: bool = False) -> Iterator[None]:
    """Hold the ingest lock (exclusive, or shared for read-only checks) while the block runs.

    Raises:
        IndexBusy: another ingest held it for ``wait_seconds``; the message names the lock file and the fix.
        IndexProblem: the data folder cannot be written (for the exclusive lock).
    """
    path = index_dir / LOCK_FILE
    if shared:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:  # no ingest has ever run here (or none this user could see): nothing to wait for
            yield
            return
    else:
        try:
            index_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        except PermissionError as exc:
            raise read_only_problem(data_dir, exc) from exc
        if not os.access(index_dir, os.W_OK):
            os.close(fd)
            raise read_only_problem(data_dir)
    try:
        _acquire(fd, path, fcntl.LOCK_SH if shared else fcntl.LOCK_EX, wait_seconds)
        if not shared:
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing drops the lock


def _acquire(fd: int, path: Path, mode: int, wait_seconds: float) -> None:
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                break
            time.sleep(POLL_SECONDS)
    pid = _recorded_pid(fd)
    who = f"(proces {pid}) " if pid else ""
    raise IndexBusy(
        f"En anden indlæsning {who}skriver i indekset og var ikke færdig efter {wait_seconds:g} sekunder "
        f"(låsefilen {path}). Vent, til den er færdig, og kør kommandoen igen "
        "(eller vent længere med HFA_INGEST_LOCK_WAIT_SECONDS)."
    )
