"""Read a document file into pages of raw text, one loader per file type."""

from __future__ import annotations

import codecs
import logging
from collections.abc import Callable
from pathlib import Path

from ingest.documents import Page

log = logging.getLogger(__name__)


class LoadError(Exception):
    """A file could not be read; the message says which file and why (in Danish)."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path.name}: {reason}")
        self.path = path
        self.reason = reason


# Byte-order marks: Windows' "Unicode" text is UTF-16 with one, some editors mark UTF-8 too.
BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def decode_text(data: bytes) -> tuple[str, str]:
    """The text of a text file's bytes and the encoding it was read with.

    Raises:
        UnicodeDecodeError: the file starts with a UTF-16 byte-order mark but is cut short.
    """
    for mark, encoding in BYTE_ORDER_MARKS:
        if data.startswith(mark):
            return data[len(mark) :].decode(encoding), encoding
    # Without a mark: UTF-8 if the bytes are valid UTF-8, else Windows-1252 (which agrees
    # with Latin-1 on every letter, æ ø å included), else Latin-1, which decodes any byte.
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def _load_text(path: Path) -> list[Page]:
    try:
        text, encoding = decode_text(path.read_bytes())
    except OSError as exc:
        raise LoadError(path, f"filen kan ikke læses ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise LoadError(
            path, f"teksten er ufuldstændig {exc.encoding} (byte {exc.start}); gem filen igen som UTF-8"
        ) from exc
    if "\x00" in text:
        raise LoadError(path, "filen ligner UTF-16 uden byte-order-mark eller en binær fil; gem den som UTF-8")
    if encoding != "utf-8":
        log.info("%s læst som %s", path.name, encoding)
    return [Page(None, text)]


def _load_pdf(path: Path) -> list[Page]:
    from pypdf import PasswordType, PdfReader
    from pypdf.errors import DependencyError, PyPdfError

    try:
        reader = PdfReader(path)
        # A PDF locked only by an owner password (no printing/copying) opens with
        # the empty user password; only a password needed to open it stops us.
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            raise LoadError(path, "PDF-filen er krypteret (kodeordsbeskyttet); gem en udgave uden kodeord")
        return [Page(n, page.extract_text() or "") for n, page in enumerate(reader.pages, 1)]
    except LoadError:
        raise
    except DependencyError as exc:
        raise LoadError(path, f"PDF-filen kræver en ekstra pakke ({exc}); kør 'make setup' igen") from exc
    except (PyPdfError, ValueError, KeyError, OSError) as exc:
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
