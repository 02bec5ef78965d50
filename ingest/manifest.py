"""Read ``corpus/manifest.toml`` and derive metadata for files it does not list."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from pathlib import Path

from ingest.documents import DocumentInfo

MANIFEST_NAME = "manifest.toml"
IGNORED_NAMES = {MANIFEST_NAME, "README.md"}
REQUIRED_KEYS = ("file", "doc_id", "title")


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


def read_manifest(corpus_dir: Path) -> dict[str, DocumentInfo]:
    """Map file name → DocumentInfo for every entry of the manifest (empty if none)."""
    manifest = corpus_dir / MANIFEST_NAME
    if not manifest.is_file():
        return {}
    try:
        data = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"{manifest}: ugyldig TOML: {exc}") from exc
    entries: dict[str, DocumentInfo] = {}
    for number, entry in enumerate(data.get("document", []), start=1):
        missing = [key for key in REQUIRED_KEYS if not entry.get(key)]
        if missing:
            raise ManifestError(f"{manifest}: dokument nr. {number} mangler {', '.join(missing)}")
        known = {k: str(v) for k, v in entry.items() if k in DocumentInfo.__dataclass_fields__}
        known.pop("path", None)
        entries[entry["file"]] = DocumentInfo(path=corpus_dir / entry["file"], **known)
    return entries


def discover(corpus_dir: Path) -> list[DocumentInfo]:
    """Every document file in the corpus folder, with manifest or derived metadata."""
    if not corpus_dir.is_dir():
        raise FileNotFoundError(f"Korpusmappen findes ikke: {corpus_dir}")
    listed = read_manifest(corpus_dir)
    for name, info in listed.items():
        if not info.path.is_file():
            raise ManifestError(f"{corpus_dir / MANIFEST_NAME}: filen {name} findes ikke")
    documents = []
    for path in sorted(p for p in corpus_dir.iterdir() if p.is_file()):
        if path.name in IGNORED_NAMES or path.name.startswith("."):
            continue
        documents.append(listed.get(path.name) or derived_info(path))
    ids = [d.doc_id for d in documents]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ManifestError(f"doc_id bruges af flere filer: {', '.join(duplicates)}")
    return documents
