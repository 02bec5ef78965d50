import shutil
from pathlib import Path

import pytest

from ingest.documents import DocumentInfo
from ingest.manifest import ManifestError, discover, outside_links, with_derived_issuer
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


def _manifest(folder: Path, body: str, encoding: str = "utf-8") -> None:
    (folder / "manifest.toml").write_bytes(body.encode(encoding))


def _two_files(folder: Path) -> None:
    for name in ("norddjurs-kvalitetsstandard.txt", "aarhus-slides-110-housing-first.txt"):
        shutil.copy(CORPUS / name, folder)


def test_the_same_file_listed_twice_names_both_entries(tmp_path: Path) -> None:
    _two_files(tmp_path)
    _manifest(
        tmp_path,
        '[[document]]\nfile = "norddjurs-kvalitetsstandard.txt"\ndoc_id = "norddjurs"\ntitle = "Standard"\n'
        '[[document]]\nfile = "aarhus-slides-110-housing-first.txt"\ndoc_id = "aarhus"\ntitle = "Slides"\n'
        '[[document]]\nfile = "norddjurs-kvalitetsstandard.txt"\ndoc_id = "andet"\ntitle = "Ny titel"\n',
    )
    with pytest.raises(
        ManifestError, match=r'dokument nr\. 1 og nr\. 3 angiver begge file = "norddjurs-kvalitetsstandard.txt"'
    ):
        discover(tmp_path)


def test_a_duplicate_doc_id_names_both_files(tmp_path: Path) -> None:
    _two_files(tmp_path)
    (tmp_path / "Aarhus.txt").write_text("Aarhus Kommune tilbyder bostøtte.", encoding="utf-8")
    _manifest(
        tmp_path,
        '[[document]]\nfile = "norddjurs-kvalitetsstandard.txt"\ndoc_id = "aarhus"\ntitle = "Standard"\n'
        '[[document]]\nfile = "aarhus-slides-110-housing-first.txt"\ndoc_id = "aarhus"\ntitle = "Slides"\n',
    )
    with pytest.raises(ManifestError) as error:
        discover(tmp_path)
    message = str(error.value)
    assert 'doc_id "aarhus" bruges af både' in message
    for name in ("Aarhus.txt (afledt af filnavnet)", "aarhus-slides-110-housing-first.txt (fra manifestet)"):
        assert name in message
    assert "norddjurs-kvalitetsstandard.txt (fra manifestet)" in message


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("file = 123", "file skal være tekst"),
        ('file = "norddjurs-kvalitetsstandard.txt"\ntitle = ["a", "b"]', "title skal være tekst"),
        ('file = "norddjurs-kvalitetsstandard.txt"\nscope = true', "scope skal være tekst"),
        ('file = "../../etc/passwd"', "skal være navnet på en fil direkte i"),
    ],
)
def test_wrongly_typed_entries_name_the_key(tmp_path: Path, line: str, expected: str) -> None:
    _two_files(tmp_path)
    body = f'[[document]]\n{line}\ndoc_id = "x"\n' + ("" if "title" in line else 'title = "X"\n')
    _manifest(tmp_path, body)
    with pytest.raises(ManifestError, match="dokument nr. 1") as error:
        discover(tmp_path)
    assert expected in str(error.value)


def test_an_unquoted_toml_date_is_accepted(tmp_path: Path) -> None:
    _two_files(tmp_path)
    _manifest(
        tmp_path,
        '[[document]]\nfile = "norddjurs-kvalitetsstandard.txt"\ndoc_id = "n"\ntitle = "N"\ndate = 2024-04-24\n',
    )
    assert {d.doc_id: d.date for d in discover(tmp_path)}["n"] == "2024-04-24"


def test_a_manifest_not_saved_as_utf8_is_named_with_the_fix(tmp_path: Path) -> None:
    _two_files(tmp_path)
    _manifest(
        tmp_path, '[[document]]\nfile = "norddjurs-kvalitetsstandard.txt"\ndoc_id = "n"\ntitle = "Bostøtte"\n', "cp1252"
    )
    with pytest.raises(ManifestError, match="manifest.toml er ikke gemt som UTF-8") as error:
        discover(tmp_path)
    assert "Gem filen som UTF-8" in str(error.value)


def test_links_leading_outside_the_corpus_are_skipped_and_reported(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    _two_files(corpus)
    outside = tmp_path / "hemmelig"
    outside.mkdir()
    (outside / "adgangskoder.txt").write_text("root:x:0:0", encoding="utf-8")
    (corpus / "passwd.txt").symlink_to("/etc/passwd")
    (corpus / "hemmelig.txt").symlink_to(outside / "adgangskoder.txt")
    (corpus / "mappe").symlink_to(outside, target_is_directory=True)
    (corpus / "kopi.txt").symlink_to(corpus / "norddjurs-kvalitetsstandard.txt")  # inside: fine
    assert sorted(d.path.name for d in discover(corpus)) == [
        "aarhus-slides-110-housing-first.txt",
        "kopi.txt",
        "norddjurs-kvalitetsstandard.txt",
    ]
    skipped = outside_links(corpus)
    assert sorted(skipped) == ["hemmelig.txt", "mappe", "passwd.txt"]
    assert "/etc/passwd" in skipped["passwd.txt"] and "uden for" in skipped["passwd.txt"]


def test_issuer_is_read_from_the_text_only_when_the_manifest_gives_none() -> None:
    bare = DocumentInfo(doc_id="notat", title="Notat", path=Path("notat.pdf"))
    text = "Kvalitetsstandard\nSyddjurs Kommune\n… Syddjurs Kommunes bostøtte … Aarhus Kommune …"
    derived = with_derived_issuer(bare, text)
    assert (derived.issuer, derived.scope) == ("Syddjurs Kommune", "syddjurs")
    listed = DocumentInfo(doc_id="notat", title="Notat", path=Path("notat.pdf"), issuer="Socialstyrelsen")
    assert with_derived_issuer(listed, text) == listed
    # Named once, named equally often, or only far into the text: no issuer is guessed.
    assert with_derived_issuer(bare, "Notat om Syddjurs Kommune.").issuer == ""
    assert with_derived_issuer(bare, "Aarhus Kommune og Syddjurs Kommune. " * 2).issuer == ""
    assert with_derived_issuer(bare, "x" * 2000 + " Syddjurs Kommune." * 3).issuer == ""
