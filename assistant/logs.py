"""Logging: a rotating file in the data directory, and stderr for the CLI with ``-v``."""

from __future__ import annotations

import logging
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

from hfa_settings import Settings

LOG_FILE = "hfa.log"
MAX_BYTES = 1_000_000
BACKUPS = 3
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def log_path(settings: Settings) -> Path:
    """Where errors are logged."""
    return settings.data_dir / "logs" / LOG_FILE


def configure_logging(settings: Settings, verbose: bool = False) -> Path | None:
    """Send the ``assistant``, ``ingest`` and ``eval`` loggers to the log file (and stderr when verbose).

    Returns the log file, or None when the data directory cannot be written
    (then errors go to stderr only). Safe to call more than once: the app calls it
    on every run of every session, and handlers already set up the same way are
    kept (replacing them would close a file another session is writing to).
    """
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else settings.log_level)
    wanted = (log_path(settings), verbose)
    ours = [h for h in root.handlers if getattr(h, "_hfa", False)]
    if ours and all(getattr(h, "_hfa_for", None) == wanted for h in ours):
        return wanted[0] if any(isinstance(h, RotatingFileHandler) for h in ours) else None
    for handler in ours:
        root.removeHandler(handler)
        handler.close()
    path: Path | None = log_path(settings)
    handlers: list[logging.Handler] = []
    try:
        log_file = log_path(settings)
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(RotatingFileHandler(log_file, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"))
    except OSError:
        path = None
    if verbose or path is None:
        handlers.append(logging.StreamHandler(sys.stderr))
    for handler in handlers:
        handler.setFormatter(logging.Formatter(FORMAT))
        handler._hfa = True  # type: ignore[attr-defined]
        handler._hfa_for = wanted  # type: ignore[attr-defined]
        root.addHandler(handler)
    return path
