"""Chroma in server mode: a real `chroma run` on 127.0.0.1."""

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.service import Assistant
from hfa_settings import load_settings
from ingest.pipeline import run_ingest
from tests.conftest import CORPUS

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def chroma_server(tmp_path: Path):
    port = _free_port()
    chroma = Path(sys.executable).with_name("chroma")
    process = subprocess.Popen(
        [str(chroma), "run", "--path", str(tmp_path / "server-db"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.3)
    else:
        process.kill()
        pytest.fail("chroma run did not start")
    yield port
    process.terminate()
    process.wait(timeout=20)


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
