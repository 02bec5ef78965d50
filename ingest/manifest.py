"""Read ``corpus/manifest.toml`` and derive metadata for files it does not list.

Only files directly in the corpus folder are documents. A symbolic link that
leads outside the folder is skipped (and reported), so a link to, say,
``/etc/passwd`` is never indexed or served.
"""

from __future__ import annotations

import datetime
import re
import tomllib
import unicodedata
from collections import Counter
from dataclasses import replace
from pathlib import Path

from ingest.documents import DocumentInfo
from ingest.vocabulary import MUNICIPALITY

MANIFEST_NAME = "manifest.toml"
IGNORED_NAMES = {MANIFEST_NAME, "README.md"}
REQUIRED_KEYS = ("file", "doc_id", "title")
ISSUER_OPENING_CHARS = 1500
# The keys of an entry that are text; every DocumentInfo field but `path`, plus `file`.
TEXT_KEYS = ("file", *(name for name in DocumentInfo.__dataclass_fields__ if name != "path"))


class ManifestError(ValueError):
    """The manifest is malformed; the message names the entry at fault."""


def slugify(name: str) -> str:
    """Turn a file name into a stable ASCII doc_id (``Bostøtte 2024.pdf`` → ``bostotte-2024``)."""
    name = name.replace("ø", "oe").replace("Ø", "Oe").replace("æ", "ae").replace("Æ", "Ae")
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-") or "dokument"


def derived_info(path: Path) -> DocumentInfo:
    """Metadata for a file without a manifest entry, derived from its name."""
    stem = path.stem
    title = re.sub(r"[_-]+", " ", stem).strip().capitalize() or path.name
    return DocumentInfo(doc_id=slugify(stem), title=title, path=path)


def with_derived_issuer(info: DocumentInfo, text: str) -> DocumentInfo:
    """The info with issuer and scope read from the text when the manifest gives no issuer.

    A municipality issues the document when "X Kommune" opens it (within its
    first ``ISSUER_OPENING_CHARS`` characters) and is the municipality it names
    most, at least twice: a quality standard dropped into the corpus without a
    manifest entry is then known as local rules of X.
    """
    if info.issuer:
        return info
    counts = Counter(match.group(1) for match in MUNICIPALITY.finditer(text))
    opening = {match.group(1) for match in MUNICIPALITY.finditer(text[:ISSUER_OPENING_CHARS])}
    ranked = counts.most_common(2)
    if not ranked or ranked[0][1] < 2 or ranked[0][0] not in opening:
        return info
    if len(ranked) > 1 and ranked[1][1] == ranked[0][1]:
        return info  # two municipalities named equally often: no issuer is guessed
    name = ranked[0][0]
    return replace(info, issuer=f"{name} Kommune", scope=slugify(name))


def _entry_info(corpus_dir: Path, label: str, entry: object) -> DocumentInfo:
    """The DocumentInfo of one [[document]] entry; ManifestError naming the entry and key at fault."""
    if not isinstance(entry, dict):
        raise ManifestError(f"{label} er ikke en [[document]]-post")
    for key in TEXT_KEYS:
        value = entry.get(key)
        if key == "date" and isinstance(value, datetime.date):
            continue  # an unquoted TOML date (date = 2024-04-24) is fine too
        if value is not None and not isinstance(value, str):
            raise ManifestError(f'{label}: {key} skal være tekst i anførselstegn, fx {key} = "…" (står: {value!r})')
    missing = [key for key in REQUIRED_KEYS if not str(entry.get(key, "")).strip()]
    if missing:
        raise ManifestError(f"{label} mangler {', '.join(missing)}")
    name = entry["file"]
    if Path(name).name != name or name in (".", ".."):
        raise ManifestError(f'{label}: file = "{name}" skal være navnet på en fil direkte i {corpus_dir}')
    metadata = {key: str(entry[key]) for key in TEXT_KEYS if key in entry and key != "file"}
    return DocumentInfo(path=corpus_dir / name, **metadata)


def read_manifest(corpus_dir: Path) -> dict[str, DocumentInfo]:
    """Map file name → DocumentInfo for every entry of the manifest (empty if none)."""
    manifest = corpus_dir / MANIFEST_NAME
    if not manifest.is_file():
        return {}
    try:
        data = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ManifestError(
            f"{manifest} er ikke gemt som UTF-8 (ugyldig byte ved position {exc.start}). "
            "Gem filen som UTF-8 (i Notesblok: Gem som → Kodning: UTF-8)."
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"{manifest}: ugyldig TOML: {exc}") from exc
    documents = data.get("document", [])
    if not isinstance(documents, list):
        raise ManifestError(f"{manifest}: 'document' skal være en liste af [[document]]-poster")
    entries: dict[str, DocumentInfo] = {}
    numbers: dict[str, int] = {}
    for number, entry in enumerate(documents, start=1):
        info = _entry_info(corpus_dir, f"{manifest}: dokument nr. {number}", entry)
        name = info.path.name
        if name in numbers:
            raise ManifestError(
                f'{manifest}: dokument nr. {numbers[name]} og nr. {number} angiver begge file = "{name}". '
                "Slet eller ret den ene post."
            )
        numbers[name] = number
        entries[name] = info
    return entries


def _scan(corpus_dir: Path) -> tuple[list[Path], dict[str, str]]:
    """The document files directly in the corpus folder, and the links skipped because they lead outside it."""
    root = corpus_dir.resolve()
    files: list[Path] = []
    skipped: dict[str, str] = {}
    for path in sorted(corpus_dir.iterdir()):
        if path.name in IGNORED_NAMES or path.name.startswith("."):
            continue
        if path.is_symlink():
            try:
                target = path.resolve()
            except (OSError, RuntimeError):  # a loop of links
                skipped[path.name] = "er en genvej (symlink), der ikke kan følges; sprunget over"
                continue
            if not target.is_relative_to(root):
                skipped[path.name] = f"er en genvej (symlink) til {target} uden for {corpus_dir}; sprunget over"
                continue
        if path.is_file():
            files.append(path)
    return files, skipped


def outside_links(corpus_dir: Path) -> dict[str, str]:
    """Links in the corpus folder that lead outside it (file name → why it was skipped)."""
    return _scan(corpus_dir)[1]


def discover(corpus_dir: Path) -> list[DocumentInfo]:
    """Every document file in the corpus folder, with manifest or derived metadata."""
    if not corpus_dir.is_dir():
        raise FileNotFoundError(f"Korpusmappen findes ikke: {corpus_dir}")
    listed = read_manifest(corpus_dir)
    for name, info in listed.items():
        if not info.path.is_file():
            raise ManifestError(f"{corpus_dir / MANIFEST_NAME}: filen {name} findes ikke")
    documents = [listed.get(path.name) or derived_info(path) for path in _scan(corpus_dir)[0]]
    files_of: dict[str, list[str]] = {}
    for document in documents:
        files_of.setdefault(document.doc_id, []).append(document.path.name)
    clashes = [
        f'doc_id "{doc_id}" bruges af både '
        + " og ".join(f"{name} ({'fra manifestet' if name in listed else 'afledt af filnavnet'})" for name in names)
        for doc_id, names in sorted(files_of.items())
        if len(names) > 1
    ]
    if clashes:
        raise ManifestError(
            f"{corpus_dir / MANIFEST_NAME}: {'; '.join(clashes)}. Giv hver fil sit eget doc_id i manifestet."
        )
    return documents
