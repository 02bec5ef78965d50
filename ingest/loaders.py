"""Read a document file into pages of raw text, one loader per file type."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ingest.documents import Page


class LoadError(Exception):
    """A file could not be read; the message says which file and why (in Danish)."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path.name}: {reason}")
        self.path = path
        self.reason = reason


def _load_text(path: Path) -> list[Page]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise LoadError(path, f"teksten er ikke gyldig UTF-8 (byte {exc.start})") from exc
    return [Page(None, text)]


def _load_pdf(path: Path) -> list[Page]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            raise LoadError(path, "PDF-filen er krypteret (kodeordsbeskyttet)")
        return [Page(n, page.extract_text() or "") for n, page in enumerate(reader.pages, 1)]
    except LoadError:
        raise
    except (PdfReadError, ValueError, KeyError, OSError) as exc:
        raise LoadError(path, f"PDF-filen kan ikke læses ({exc})") from exc


def _load_docx(path: Path) -> list[Page]:
    from docx import Document
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, OSError) as exc:
        raise LoadError(path, f"Word-filen kan ikke læses ({exc})") from exc
    return [Page(None, "\n\n".join(p.text for p in document.paragraphs))]


LOADERS: dict[str, Callable[[Path], list[Page]]] = {
    ".txt": _load_text,
    ".md": _load_text,
    ".pdf": _load_pdf,
    ".docx": _load_docx,
}


def load_pages(path: Path) -> list[Page]:
    """Pages of raw text of ``path``; raises LoadError for unreadable, empty or unsupported files."""
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        supported = ", ".join(sorted(LOADERS))
        raise LoadError(path, f"filtypen {path.suffix or '(ingen)'} understøttes ikke ({supported})")
    pages = loader(path)
    if not any(page.text.strip() for page in pages):
        raise LoadError(path, "filen indeholder ingen tekst (tom eller scannet uden tekstlag)")
    return pages
