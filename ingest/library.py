"""Add a document to the corpus or take one out, and bring the index in line with it.

What ``hfa add``, ``hfa remove`` and the app's Kilder page call. Each runs
under the ingest lock and checks everything before it changes anything: a
refused document leaves the corpus folder, the manifest and the index as they
were, with a Danish message naming the file and the fix. Then the file is
copied in (or moved aside into ``corpus/.removed/``), its manifest entry is
written (or dropped; the other entries and the comments stay as written) and
the usual ingest brings the index in line. If that fails, the file and the
manifest are put back and the index is brought in line with them again, so the
previous documents are served. A process killed halfway leaves the corpus
changed; the next ``hfa ingest`` indexes what it holds.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, datetime
from pathlib import Path

from langchain_core.embeddings import Embeddings

from hfa_settings import Settings
from ingest.documents import DocumentInfo
from ingest.index import Catalog, write_atomically
from ingest.loaders import LOADERS, LoadError
from ingest.lock import ingest_lock
from ingest.manifest import IGNORED_NAMES, MANIFEST_NAME, discover, read_manifest, slugify
from ingest.manifest_edit import ManifestEditError, with_entry, without_entry
from ingest.pipeline import ProgressFactory, ingest_held, prepare

REMOVED_DIR = ".removed"
MEGABYTE = 1024 * 1024
SCOPE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
NO_TEXT = "ingen tekst"  # how the loaders say a file has no text layer
OCR_FIX = " Er det en scanning, så kør tekstgenkendelse (OCR) på den, og gem den som PDF med tekst."

log = logging.getLogger(__name__)


class LibraryError(ValueError):
    """A document cannot be added or removed; nothing was changed. The Danish message names the file and the fix."""


@dataclass(frozen=True)
class DocumentMeta:
    """What the user tells about a document to add: its manifest entry but ``file`` and ``doc_id``."""

    title: str
    issuer: str
    scope: str
    kind: str
    date: str = ""

    def cleaned(self) -> DocumentMeta:
        """The same with surrounding and repeated whitespace removed."""
        return DocumentMeta(**{f.name: " ".join(getattr(self, f.name).split()) for f in fields(self)})


def add_document(
    settings: Settings,
    source: Path,
    meta: DocumentMeta,
    progress_factory: ProgressFactory | None = None,
    *,
    name: str | None = None,
    embeddings: Embeddings | None = None,
) -> str:
    """Copy ``source`` into the corpus folder as ``name``, list it in the manifest, index it; its doc_id.

    ``name`` defaults to the source's own name. An upload passes its own
    (untrusted) name, with ``source`` a temporary file of the same suffix.

    Raises:
        LibraryError: the file or its details are refused (nothing changed).
        IndexProblem: the index cannot be written (corpus and manifest are put back).
    """
    name = source.name if name is None else name
    with _ingest_lock(settings):
        info = _checked_new(settings, source, name, meta.cleaned())
        manifest = _Manifest.read(settings.corpus_dir)
        new_manifest = _with_entry(manifest, info)

        def undo() -> None:
            info.path.unlink(missing_ok=True)
            manifest.restore()

        with _undone_on_failure(settings, undo, embeddings):
            _copy_in(source, info.path)
            manifest.write(new_manifest)
            report = ingest_held(settings, embeddings=embeddings, progress_factory=progress_factory)
            if info.doc_id not in report.added:
                raise LibraryError(f"{name} blev ikke indlæst: {report.failed.get(name, 'ukendt årsag')}.")
    return info.doc_id


def remove_document(settings: Settings, doc_id: str, *, embeddings: Embeddings | None = None) -> Path:
    """Take a document out of the manifest and the index; its file is moved into ``corpus/.removed/``.

    Returns where the file now is.

    Raises:
        LibraryError: no document has this doc_id (nothing changed).
        IndexProblem: the index cannot be written (file and manifest are put back).
    """
    corpus_dir = settings.corpus_dir
    with _ingest_lock(settings):
        _check_writable(corpus_dir)
        info = _known(doc_id, discover(corpus_dir))
        manifest = _Manifest.read(corpus_dir)
        listed = info.path.name in read_manifest(corpus_dir)
        new_manifest = _without_entry(manifest, info.path.name) if listed else manifest.text
        aside = _aside(corpus_dir, info.path.name)

        def undo() -> None:
            if aside.exists() or aside.is_symlink():
                os.replace(aside, info.path)
            manifest.restore()

        with _undone_on_failure(settings, undo, embeddings):
            aside.parent.mkdir(exist_ok=True)
            os.replace(info.path, aside)
            if listed:
                manifest.write(new_manifest)
            ingest_held(settings, embeddings=embeddings)
    return aside


def _ingest_lock(settings: Settings) -> AbstractContextManager[None]:
    return ingest_lock(settings.index_dir, settings.data_dir, settings.ingest_lock_wait_seconds)


@contextmanager
def _undone_on_failure(settings: Settings, undo: Callable[[], None], embeddings: Embeddings | None) -> Iterator[None]:
    """Run the block; if it fails, undo its changes to the corpus and bring the index back in line with them."""
    try:
        yield
    except BaseException:
        undo()
        try:
            ingest_held(settings, embeddings=embeddings)
        except Exception:
            log.exception("Indekset kunne ikke bringes tilbage efter en fejl; kør 'hfa ingest'")
        raise


# Checks: all of them run before anything is changed.


def _checked_new(settings: Settings, source: Path, name: str, meta: DocumentMeta) -> DocumentInfo:
    """The DocumentInfo of a file to add as ``name``, once every check has passed."""
    corpus_dir = settings.corpus_dir
    _check_writable(corpus_dir)
    _check_name(name, corpus_dir)
    _check_size(source, name, settings.max_upload_mb)
    _check_meta(meta, name)
    documents = discover(corpus_dir)
    _check_unique(source, name, meta, documents)
    taken = {d.doc_id for d in documents} | set(Catalog.load(settings.index_dir).documents)
    info = DocumentInfo(doc_id=_unique_id(slugify(Path(name).stem), taken), path=corpus_dir / name, **asdict(meta))
    _check_text(replace(info, path=source), name, settings)
    return info


def _check_writable(corpus_dir: Path) -> None:
    if not corpus_dir.is_dir():
        raise LibraryError(
            f"Korpusmappen {corpus_dir} findes ikke. Opret den, eller angiv den rigtige med --corpus-dir."
        )
    if not os.access(corpus_dir, os.W_OK):
        raise LibraryError(
            f"Korpusmappen {corpus_dir} er skrivebeskyttet for denne bruger. "
            "Giv skriveadgang, eller kør som mappens ejer."
        )


def _check_name(name: str, corpus_dir: Path) -> None:
    """A plain file name directly in the corpus folder, of a type the loaders read, not taken."""
    if not name or Path(name).name != name or "\\" in name or name.startswith(".") or not name.isprintable():
        raise LibraryError(
            f'Filnavnet "{name}" kan ikke bruges: det skal være et almindeligt filnavn uden mapper, ".." '
            'eller punktum forrest (fx "kvalitetsstandard.pdf"). Omdøb filen, og prøv igen.'
        )
    suffix = Path(name).suffix.lower()
    if suffix not in LOADERS:
        raise LibraryError(
            f"{name}: filtypen {suffix or '(ingen)'} kan ikke tilføjes (kun {', '.join(sorted(LOADERS))}). "
            "Gem dokumentet som PDF, Word (.docx) eller tekst (.txt), og prøv igen."
        )
    target = corpus_dir / name
    if name in IGNORED_NAMES or target.exists() or target.is_symlink():
        raise LibraryError(
            f'Der findes allerede en fil med navnet "{name}" i korpusmappen {corpus_dir}. '
            "Omdøb filen, eller fjern det gamle dokument først (hfa remove DOC_ID)."
        )


def _check_size(source: Path, name: str, max_mb: int) -> None:
    try:
        size = source.stat().st_size
    except FileNotFoundError as exc:
        raise LibraryError(f"Filen {source} findes ikke. Tjek stien, og prøv igen.") from exc
    except OSError as exc:
        raise LibraryError(f"{name} kan ikke læses ({exc.strerror or exc}). Tjek adgangen til filen.") from exc
    if not source.is_file():
        raise LibraryError(f"{name} er ikke en fil. Vælg dokumentets fil, og prøv igen.")
    if size == 0:
        raise LibraryError(f"{name} er tom (0 byte). Vælg den rigtige fil, eller gem dokumentet igen.")
    if size > max_mb * MEGABYTE:
        megabytes = f"{size / MEGABYTE:.1f}".replace(".", ",")
        raise LibraryError(
            f"{name} fylder {megabytes} MB, mere end grænsen på {max_mb} MB. "
            "Del dokumentet op i mindre filer, eller hæv grænsen med HFA_MAX_UPLOAD_MB."
        )


def _check_meta(meta: DocumentMeta, name: str) -> None:
    labels = {"title": "titel", "issuer": "udsteder", "scope": "scope", "kind": "dokumenttype", "date": "dato"}
    missing = [label for key, label in labels.items() if key != "date" and not getattr(meta, key)]
    if missing:
        raise LibraryError(f"{name}: angiv {' og '.join(missing)} for dokumentet.")
    unprintable = [label for key, label in labels.items() if not getattr(meta, key).isprintable()]
    if unprintable:
        raise LibraryError(f"{name}: {' og '.join(unprintable)} indeholder styretegn. Skriv feltet igen som ren tekst.")
    if not SCOPE.fullmatch(meta.scope):
        raise LibraryError(
            f'{name}: scope "{meta.scope}" skal være et kort navn med små bogstaver, tal og bindestreg, '
            f'fx "{slugify(meta.scope)}" eller "national".'
        )


def _check_unique(source: Path, name: str, meta: DocumentMeta, documents: list[DocumentInfo]) -> None:
    """Refuse a title or a content the corpus already has."""
    title = meta.title.casefold()
    for document in documents:
        if " ".join(document.title.split()).casefold() == title:
            raise LibraryError(
                f'{name}: titlen "{meta.title}" bruges allerede af {document.path.name} ({document.doc_id}). '
                "Giv dokumentet en anden titel, fx med år eller kommune."
            )
    digest = _file_digest(source)
    for document in documents:
        if _file_digest(document.path) == digest:
            raise LibraryError(
                f'{name} har samme indhold som {document.path.name} ({document.doc_id}: "{document.title}"), '
                "der allerede er i korpusmappen. Dokumentet er der altså i forvejen."
            )


def _file_digest(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _check_text(info: DocumentInfo, name: str, settings: Settings) -> None:
    """Refuse a file that yields no passages (unreadable, a scan without text, too long)."""
    try:
        prepare(info, settings)
    except LoadError as exc:
        fix = OCR_FIX if NO_TEXT in exc.reason else ""
        raise LibraryError(f"{name} kan ikke tilføjes: {exc.reason}.{fix}") from exc


def _unique_id(base: str, taken: set[str]) -> str:
    """``base``, or ``base-2``, ``base-3`` … when it is taken."""
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = f"{base}-{number}"
    return candidate


def _known(doc_id: str, documents: list[DocumentInfo]) -> DocumentInfo:
    found = next((d for d in documents if d.doc_id == doc_id), None)
    if found is None:
        known = ", ".join(sorted(d.doc_id for d in documents)) or "ingen"
        raise LibraryError(
            f'Der er intet dokument med doc_id "{doc_id}" (et doc_id er ikke et filnavn eller en sti). '
            f"Kendte doc_id: {known}."
        )
    return found


# Changes.


def _copy_in(source: Path, target: Path) -> None:
    """Copy the file in under a hidden name (which ingest skips), then give it its name in one step."""
    partial = target.with_name(f".{target.name}.adding")
    try:
        shutil.copyfile(source, partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def _aside(corpus_dir: Path, name: str) -> Path:
    """Where a removed file goes: ``corpus/.removed/<UTC time>-<name>`` (ingest skips hidden folders)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = corpus_dir / REMOVED_DIR / f"{stamp}-{name}"
    number = 1
    while aside.exists():
        number += 1
        aside = corpus_dir / REMOVED_DIR / f"{stamp}-{number}-{name}"
    return aside


@dataclass(frozen=True)
class _Manifest:
    """The manifest as it was before a change, to write the changed one and to put it back."""

    path: Path
    text: str
    existed: bool

    @classmethod
    def read(cls, corpus_dir: Path) -> _Manifest:
        path = corpus_dir / MANIFEST_NAME
        if not path.is_file():
            return cls(path, "", False)
        return cls(path, path.read_bytes().decode("utf-8"), True)  # bytes: line endings stay as written

    def write(self, text: str) -> None:
        write_atomically(self.path, text)

    def restore(self) -> None:
        if self.existed:
            write_atomically(self.path, self.text)
        else:
            self.path.unlink(missing_ok=True)


def _with_entry(manifest: _Manifest, info: DocumentInfo) -> str:
    """The manifest text with an entry for ``info`` after the others."""
    entry = {"file": info.path.name, **{k: v for k, v in asdict(info).items() if k != "path" and v}}
    try:
        return with_entry(manifest.text, entry)
    except ManifestEditError as exc:
        raise LibraryError(f"{manifest.path}: {exc}. Intet er ændret.") from exc


def _without_entry(manifest: _Manifest, name: str) -> str:
    """The manifest text without the entry of the file ``name``."""
    try:
        return without_entry(manifest.text, name)
    except ManifestEditError as exc:
        raise LibraryError(f"{manifest.path}: {exc}. Intet er ændret.") from exc
