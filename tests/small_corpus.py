"""A small indexed corpus to add documents to: Norddjurs' quality standard, its manifest entry under two comments.

Built once per test module (:func:`build`); each test changes its own copy (:func:`copy`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from hfa_settings import Settings, load_settings
from ingest.pipeline import run_ingest
from tests.conftest import CORPUS

NORDDJURS = "norddjurs-kvalitetsstandard.txt"
OPENING = "# Kommunens egne dokumenter.\n# Hver fil har én post.\n\n"


def build(root: Path, embeddings) -> Path:
    """``root/corpus`` and its index in ``root/data``."""
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / NORDDJURS, corpus)
    manifest = (CORPUS / "manifest.toml").read_text(encoding="utf-8")
    entry = next(block for block in manifest.split("[[document]]") if NORDDJURS in block)
    (corpus / "manifest.toml").write_text(f"{OPENING}[[document]]{entry.rstrip()}\n", encoding="utf-8")
    run_ingest(load_settings(corpus_dir=corpus, data_dir=root / "data"), embeddings=embeddings)
    return root


def copy(template: Path, target: Path) -> Settings:
    """Settings of a copy of the built corpus and index in ``target``."""
    shutil.copytree(template / "corpus", target / "corpus")
    shutil.copytree(template / "data", target / "data")
    return load_settings(corpus_dir=target / "corpus", data_dir=target / "data")
