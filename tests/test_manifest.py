import shutil
from pathlib import Path

import pytest

from ingest.manifest import ManifestError, discover
from tests.conftest import CORPUS


def test_corpus_manifest_describes_all_five_documents() -> None:
    documents = {d.doc_id: d for d in discover(CORPUS)}
    assert set(documents) == {
        "hf-manual",
        "norddjurs-kvalitetsstandard",
        "norddjurs-beslutning",
        "aarhus-slides",
        "stoetteindsats-der-virker",
    }
    assert documents["norddjurs-kvalitetsstandard"].scope == "norddjurs"
    assert documents["aarhus-slides"].issuer == "Aarhus Kommune"
    assert documents["hf-manual"].kind == "manual"


def test_file_without_entry_is_still_ingested_with_derived_metadata(tmp_path: Path) -> None:
    shutil.copy(CORPUS / "manifest.toml", tmp_path)
    for name in (
        "housing-first-tilgangen.txt",
        "norddjurs-kvalitetsstandard.txt",
        "norddjurs-beslutning-kvalitetsstandard.txt",
        "aarhus-slides-110-housing-first.txt",
        "en-stoetteindsats-der-virker.txt",
    ):
        shutil.copy(CORPUS / name, tmp_path)
    (tmp_path / "Kvalitetsstandard Bostøtte Ærø.pdf").write_bytes(b"%PDF")
    extra = [d for d in discover(tmp_path) if d.path.suffix == ".pdf"]
    assert [(d.doc_id, d.title, d.scope) for d in extra] == [
        ("kvalitetsstandard-bostoette-aeroe", "Kvalitetsstandard bostøtte ærø", "ukendt")
    ]


def test_manifest_entry_for_missing_file_names_it(tmp_path: Path) -> None:
    (tmp_path / "manifest.toml").write_text(
        '[[document]]\nfile = "væk.pdf"\ndoc_id = "x"\ntitle = "X"\n', encoding="utf-8"
    )
    with pytest.raises(ManifestError, match="væk.pdf"):
        discover(tmp_path)
