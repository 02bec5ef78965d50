from pathlib import Path

import pytest

from hfa_settings import load_settings


def test_environment_overrides_file_and_defaults(tmp_path: Path) -> None:
    settings_file = tmp_path / "hfa.toml"
    settings_file.write_text('top_k = 7\nchroma_host = "db.local"\n', encoding="utf-8")
    environ = {"HFA_SETTINGS": str(settings_file), "HFA_TOP_K": "9", "HFA_DATA_DIR": str(tmp_path / "d")}
    settings = load_settings(environ=environ)
    assert (settings.top_k, settings.chroma_host, settings.data_dir) == (9, "db.local", tmp_path / "d")
    assert settings.chroma_port == 8000


def test_unknown_setting_is_named(tmp_path: Path) -> None:
    settings_file = tmp_path / "hfa.toml"
    settings_file.write_text("topk = 7\n", encoding="utf-8")
    with pytest.raises(ValueError, match="topk"):
        load_settings(environ={"HFA_SETTINGS": str(settings_file)})
