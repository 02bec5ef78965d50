"""Chroma in server mode: a real `chroma run` on 127.0.0.1."""

import shutil
from pathlib import Path

import pytest

from assistant.service import Assistant
from hfa_settings import load_settings
from ingest.pipeline import run_ingest
from tests.chroma_server import free_port, start_chroma, stop_chroma
from tests.conftest import CORPUS

pytestmark = pytest.mark.slow


@pytest.fixture()
def chroma_server(tmp_path: Path):
    port = free_port()
    process = start_chroma(tmp_path / "server-db", port)
    yield port
    stop_chroma(process)


def test_ingest_and_answer_through_a_chroma_server(chroma_server: int, tmp_path: Path, embeddings) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / "norddjurs-kvalitetsstandard.txt", corpus)
    settings = load_settings(
        chroma_host="127.0.0.1", chroma_port=chroma_server, corpus_dir=corpus, data_dir=tmp_path / "data"
    )
    report = run_ingest(settings, embeddings=embeddings)
    assert report.added == ["norddjurs-kvalitetsstandard"]
    assert not (settings.index_dir / "chroma").exists()  # nothing went to the local store

    answer = Assistant.open(settings, embeddings).answer("Hvad er klagefristen for en afgørelse efter § 85 a?")
    assert "4 uger" in answer.text
