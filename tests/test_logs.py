"""The log file, set up again on every run of every app session, keeps working."""

import logging

import pytest

from assistant.logs import configure_logging, log_path
from hfa_settings import load_settings

pytestmark = pytest.mark.usefixtures("restore_logging")


def _ours() -> list[logging.Handler]:
    return [h for h in logging.getLogger().handlers if getattr(h, "_hfa", False)]


def test_setting_up_logging_again_keeps_the_open_file(tmp_path) -> None:
    settings = load_settings(data_dir=tmp_path)
    assert configure_logging(settings) == log_path(settings)
    first = _ours()
    # Another session's run sets it up again while this one is about to log: its file stays open.
    assert configure_logging(settings) == log_path(settings)
    assert _ours() == first
    logging.getLogger("assistant").error("Spørgsmålet kunne ikke besvares: efter anden opsætning")
    assert "efter anden opsætning" in log_path(settings).read_text(encoding="utf-8")


def test_other_settings_log_to_their_own_data_directory(tmp_path) -> None:
    configure_logging(load_settings(data_dir=tmp_path / "a"))
    other = load_settings(data_dir=tmp_path / "b")
    configure_logging(other)
    logging.getLogger("ingest").error("til b")
    assert "til b" in log_path(other).read_text(encoding="utf-8")
    assert "til b" not in (tmp_path / "a" / "logs" / "hfa.log").read_text(encoding="utf-8")
