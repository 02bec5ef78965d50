"""Add or drop one ``[[document]]`` entry of ``corpus/manifest.toml``, editing its text.

Every other byte stays as written: comments, order, quoting, blank lines. An
entry's block runs from the comment lines directly above its header to the
next table header (comments opening the file stay). Each edit is checked by parsing the result: it must hold
exactly the entries it held, plus or minus the one; if not (a layout this
does not follow), :class:`ManifestEditError` says to edit the file by hand.
"""

from __future__ import annotations

import json
import re
import tomllib
from typing import Any

HEADER = re.compile(r"\s*\[")  # a table header line: [[document]], [anything]
DOCUMENT_HEADER = re.compile(r"\s*\[\[\s*document\s*\]\]\s*(#.*)?$")
COMMENT = re.compile(r"\s*#")


class ManifestEditError(ValueError):
    """The manifest could not be changed as asked (it was not changed)."""


def entry_text(entry: dict[str, str]) -> str:
    """One ``[[document]]`` block; a JSON string of printable characters is a valid TOML basic string."""
    lines = ["[[document]]", *(f"{key} = {json.dumps(value, ensure_ascii=False)}" for key, value in entry.items())]
    return "\n".join(lines) + "\n"


def with_entry(text: str, entry: dict[str, str]) -> str:
    """The manifest text with ``entry`` after its other entries, separated from them by a blank line."""
    if text and not text.endswith("\n"):
        text += "\n"
    separator = "\n" if text.strip() and not text.endswith("\n\n") else ""
    changed = text + separator + entry_text(entry)
    before = _parsed(text)
    _expect(changed, before, [*before.get("document", []), entry])
    return changed


def without_entry(text: str, file: str) -> str:
    """The manifest text without the block of the entry for ``file``."""
    lines = text.splitlines(keepends=True)
    before = _parsed(text)
    for start, header, end in _blocks(lines):
        if _parsed("".join(lines[header:end])).get("document", [{}])[0].get("file") != file:
            continue
        if end == len(lines):  # the last block: the blank lines that set it apart go too
            while start > 0 and not lines[start - 1].strip():
                start -= 1
        changed = "".join(lines[:start] + lines[end:])
        _expect(changed, before, [d for d in before["document"] if d.get("file") != file])
        return changed
    raise ManifestEditError(f'manifestet har ingen [[document]]-post med file = "{file}"')


def _blocks(lines: list[str]) -> list[tuple[int, int, int]]:
    """(first line, header line, end) of each ``[[document]]`` block."""
    headers = [i for i, line in enumerate(lines) if HEADER.match(line)]
    if not headers:
        return []
    starts = {}
    for header in headers:
        start = header
        while start > 0 and COMMENT.match(lines[start - 1]):
            start -= 1
        starts[header] = start if start > 0 else header  # comments opening the file are about the file
    ends = [starts[h] for h in headers[1:]] + [len(lines)]
    return [(starts[h], h, end) for h, end in zip(headers, ends, strict=True) if DOCUMENT_HEADER.match(lines[h])]


def _parsed(text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ManifestEditError(f"manifestet er ikke gyldig TOML ({exc})") from exc


def _expect(changed: str, before: dict[str, Any], documents: list[dict[str, Any]]) -> None:
    """Check that the changed text holds what it held before, with these entries."""
    wanted = {key: value for key, value in before.items() if key != "document"}
    if documents:
        wanted["document"] = documents
    if _parsed(changed) != wanted:
        raise ManifestEditError("manifestets opbygning kan ikke rettes automatisk; ret posten i hånden")
