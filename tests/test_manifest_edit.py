"""Editing corpus/manifest.toml as text: one entry in or out, every other byte as written."""

from __future__ import annotations

import tomllib

import pytest

from ingest.manifest_edit import ManifestEditError, with_entry, without_entry
from tests.conftest import CORPUS

NEW = {
    "file": "Syddjurs 2025.pdf",
    "doc_id": "syddjurs-2025",
    "title": 'Standard "bostøtte" \\ 2025',
    "scope": "syddjurs",
}
TWO = (
    "# Kommunens dokumenter.\n"
    "\n"
    "[[document]]\n"
    'file = "a.txt"  # the first\n'
    "doc_id = 'a'\n"
    'title = "A"\n'
    "\n"
    "# B is the old standard\n"
    "[[document]]\n"
    'file = "b.txt"\n'
    'doc_id = "b"\n'
    'title = "B"\n'
    "date = 2024-04-24\n"
)


def test_an_entry_is_added_after_the_others_with_quotes_escaped() -> None:
    text = with_entry(TWO, NEW)
    assert text.startswith(TWO + "\n[[document]]\n")
    assert tomllib.loads(text)["document"][-1] == NEW


def test_the_real_manifest_takes_an_entry_and_gives_it_back_byte_for_byte() -> None:
    real = (CORPUS / "manifest.toml").read_text(encoding="utf-8")
    assert without_entry(with_entry(real, NEW), NEW["file"]) == real


def test_an_entry_goes_with_the_comment_above_it_and_the_rest_stays() -> None:
    assert without_entry(TWO, "b.txt") == TWO.split("\n# B is")[0].rstrip("\n") + "\n"
    first_gone = without_entry(TWO, "a.txt")
    assert first_gone == "# Kommunens dokumenter.\n\n# B is the old standard\n" + TWO.split("standard\n", 1)[1]


def test_the_only_entry_goes_and_the_comments_opening_the_file_stay() -> None:
    only = '# Om filen.\n[[document]]\nfile = "a.txt"\ndoc_id = "a"\ntitle = "A"\n'
    assert without_entry(only, "a.txt") == "# Om filen.\n"
    assert with_entry("", NEW) == with_entry("# Om filen.\n", NEW).removeprefix("# Om filen.\n\n")


def test_a_manifest_without_a_final_newline_takes_an_entry() -> None:
    text = with_entry('[[document]]\nfile = "a.txt"\ndoc_id = "a"\ntitle = "A"', NEW)
    assert [d["file"] for d in tomllib.loads(text)["document"]] == ["a.txt", NEW["file"]]


def test_a_layout_that_cannot_be_edited_is_refused() -> None:
    inline = 'document = [{file = "a.txt", doc_id = "a", title = "A"}]\n'
    with pytest.raises(ManifestEditError, match="ikke gyldig TOML"):
        with_entry(inline, NEW)
    with pytest.raises(ManifestEditError, match="ingen \\[\\[document\\]\\]-post"):
        without_entry(inline, "a.txt")
