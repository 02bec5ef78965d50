"""Incremental ingest that no interruption can leave wrong: load → clean → chunk → index.

The catalog is the single truth; the stores follow it. Every run holds the
ingest lock, first reconciles the stores to the catalog (vectors it does not
list are deleted, chunks it lists that the store lacks are embedded again from
the catalog's own text), then indexes what changed in this order per document:

1. embed and write the new chunks (invisible: readers serve catalog ids only);
2. save the catalog with the document's new chunks in place of its old ones
   (one atomic file replace, so it never lists both);
3. delete the old chunks' vectors;

and finally writes the lexical index when it does not match the catalog. A
kill at any point leaves extra vectors (removed by the next run) or a stale
lexical index (rebuilt by the next run, built in memory by readers meanwhile),
never a catalog listing something the stores cannot serve.

A document is re-indexed only when its content hash changes (its bytes, its
manifest entry, the chunking code or the chunk sizes), or for all documents
with ``rebuild``. A document that cannot be read is reported and keeps
whatever the index had for it. ``rebuild`` starts afresh from a corrupt
catalog or an unreadable local vector store; a change of embedder empties the
vector store first.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from langchain_core.embeddings import Embeddings

from hfa_settings import Settings
from ingest.chunking import chunk_document
from ingest.cleaning import clean_pages
from ingest.documents import Chunk, DocumentInfo
from ingest.embeddings import embedder_id, make_embeddings
from ingest.index import (
    Catalog,
    CorruptCatalog,
    DocumentEntry,
    IndexProblem,
    LexicalIndex,
    UnreadableStore,
    VectorIndex,
    read_only_problem,
    remove_leftovers,
)
from ingest.loaders import LoadError, load_pages
from ingest.lock import ingest_lock
from ingest.manifest import discover, outside_links, with_derived_issuer
from ingest.span_vectors import SpanVectors
from ingest.vocabulary import Vocabulary

Progress = Callable[[int], None]
# Given how many chunks a step will embed and what it embeds of them ("afsnit", "sætninger i afsnit").
ProgressFactory = Callable[[int, str], Progress]
# The crash tests stop an ingest at a named step of the write sequence (see `checkpoint`).
PAUSE_VARIABLE = "HFA_TEST_PAUSE_AT"


@dataclass
class IngestReport:
    """What one ingest run did.

    ``failed``: file → why it was not read (it keeps its previous index);
    ``skipped``: file → why it was not even looked at (a link out of corpus/);
    ``repairs``: what was wrong with the index before the run and was fixed.
    """

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    repairs: list[str] = field(default_factory=list)
    chunks_embedded: int = 0

    @property
    def changed(self) -> bool:
        """Whether the index content changed."""
        return bool(self.added or self.updated or self.removed)


@dataclass
class Plan:
    """What an ingest would do to the documents, before it reads or embeds any of them."""

    to_index: list[tuple[DocumentInfo, str]] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StoreDiff:
    """How the stores differ from the catalog."""

    extra_vectors: frozenset[str]
    missing_vectors: frozenset[str]
    lexical_matches: bool

    def describe(self, catalog: Catalog, vectors: VectorIndex) -> list[str]:
        """One Danish line per mismatch."""
        lines = []
        if self.extra_vectors:
            lines.append(
                f"Vektorlageret ({vectors.location}) har {len(self.extra_vectors)} afsnit, som kataloget ikke lister."
            )
        if self.missing_vectors:
            lines.append(
                f"Vektorlageret ({vectors.location}) mangler {len(self.missing_vectors)} af "
                f"{len(catalog.chunks)} afsnit, som kataloget lister."
            )
        if not self.lexical_matches:
            lines.append("Det leksikale indeks mangler eller passer ikke til kataloget.")
        return lines


# The code that turns a file into chunks: when it changes, chunks change too.
CHUNKING_CODE = ("loaders.py", "cleaning.py", "headings.py", "text.py", "chunking.py", "documents.py", "manifest.py")


def content_hash(info: DocumentInfo, settings: Settings) -> str:
    """Hash of what decides a document's chunks: its bytes, its metadata, the chunking code and sizes.

    A change to any of them re-indexes the document; nothing else does.
    """
    digest = hashlib.sha256(info.path.read_bytes())
    meta = {k: str(v) for k, v in asdict(info).items() if k != "path"}
    digest.update(json.dumps(meta, sort_keys=True).encode())
    for name in CHUNKING_CODE:
        digest.update((Path(__file__).parent / name).read_bytes())
    digest.update(f"{settings.chunk_max_chars}/{settings.chunk_hard_max_chars}/{settings.wrapped_share}".encode())
    return digest.hexdigest()


def _thousands(number: int) -> str:
    """Danish digit grouping: 10.000.000."""
    return f"{number:,}".replace(",", ".")


def prepare(info: DocumentInfo, settings: Settings) -> tuple[DocumentInfo, list[Chunk]]:
    """Load, clean and chunk one document; LoadError when it yields nothing or too much.

    The info comes back with the issuer read from the text when the manifest gave none.
    """
    cleaned = clean_pages(load_pages(info.path), settings.wrapped_share)
    info = with_derived_issuer(info, cleaned.text)
    if len(cleaned.text) > settings.max_document_chars:
        raise LoadError(
            info.path,
            f"dokumentet har {_thousands(len(cleaned.text))} tegn tekst, mere end grænsen på "
            f"{_thousands(settings.max_document_chars)} (indlejringen ville tage for lang tid). "
            "Del filen op i mindre filer, eller hæv grænsen med HFA_MAX_DOCUMENT_CHARS",
        )
    chunks = chunk_document(info, cleaned, settings.chunk_max_chars, settings.chunk_hard_max_chars)
    if not chunks:
        raise LoadError(info.path, "der blev ingen tekst tilbage efter rensning")
    return info, chunks


def plan(catalog: Catalog, documents: list[DocumentInfo], settings: Settings, rebuild: bool) -> Plan:
    """Which documents are new or changed (with their hash), unchanged, unreadable, or gone from the corpus."""
    result = Plan()
    for info in documents:
        # Hashed before it is read for chunking: if the file changes in between,
        # the catalog records the old hash and the next run indexes it again.
        try:
            digest = content_hash(info, settings)
        except OSError as exc:
            result.failed[info.path.name] = f"filen kan ikke læses ({exc.strerror or exc})"
            continue
        old = catalog.documents.get(info.doc_id)
        if old and old.content_hash == digest and not rebuild:
            result.unchanged.append(info.doc_id)
        else:
            result.to_index.append((info, digest))
    present = {info.doc_id for info in documents}
    result.gone = [doc_id for doc_id in catalog.documents if doc_id not in present]
    return result


def compare_stores(catalog: Catalog, vectors: VectorIndex, index_dir: Path) -> StoreDiff:
    """How the vector store and the persisted lexical index differ from the catalog."""
    stored = vectors.ids()
    return StoreDiff(
        extra_vectors=frozenset(stored - catalog.chunks.keys()),
        missing_vectors=frozenset(catalog.chunks.keys() - stored),
        lexical_matches=LexicalIndex.stored_for(index_dir, catalog.chunks) is not None,
    )


def checkpoint(name: str) -> None:
    """A named step of the write sequence; the crash tests stop the process here.

    With ``HFA_TEST_PAUSE_AT=name[,name…]`` the process announces the step on
    stderr and stops itself (SIGSTOP) each time it gets there, so a test can kill
    it exactly there or let it go on (SIGCONT).
    """
    if name in os.environ.get(PAUSE_VARIABLE, "").split(","):
        print(f"hfa-pause {name}", file=sys.stderr, flush=True)
        os.kill(os.getpid(), signal.SIGSTOP)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _entry(info: DocumentInfo, digest: str, chunks: list[Chunk]) -> DocumentEntry:
    return DocumentEntry(
        doc_id=info.doc_id,
        file=info.path.name,
        title=info.title,
        issuer=info.issuer,
        scope=info.scope,
        kind=info.kind,
        date=info.date,
        content_hash=digest,
        chunk_ids=[c.chunk_id for c in chunks],
        indexed=_now(),
    )


def _check_embedder(catalog: Catalog, wanted: str, rebuild: bool) -> None:
    if catalog.embedder and catalog.embedder != wanted and not rebuild:
        raise IndexProblem(
            f"Indekset er bygget med embedderen {catalog.embedder}, men indstillingerne siger {wanted}. "
            "Kør 'hfa ingest --rebuild' for at bygge det om."
        )


def _embed_in_batches(vectors: VectorIndex, chunks: list[Chunk], batch: int, progress: Progress) -> None:
    for start in range(0, len(chunks), batch):
        part = chunks[start : start + batch]
        vectors.add(part)
        progress(len(part))
        checkpoint("batch")


class _LazyEmbeddings(Embeddings):
    """Loads the embedder on first use: a run with nothing to embed never pays for it."""

    def __init__(self, settings: Settings, given: Embeddings | None) -> None:
        self._settings = settings
        self._embeddings = given

    def _real(self) -> Embeddings:
        if self._embeddings is None:
            self._embeddings = make_embeddings(self._settings)
        return self._embeddings

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed passages with the configured embedder."""
        return self._real().embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        """Embed a query with the configured embedder."""
        return self._real().embed_query(text)


def _load_catalog(settings: Settings, rebuild: bool, report: IngestReport) -> Catalog:
    try:
        return Catalog.load(settings.index_dir)
    except CorruptCatalog as exc:
        if not rebuild:
            raise
        report.repairs.append(f"Kataloget {exc.path} var ødelagt ({exc.detail}) og er bygget forfra.")
        return Catalog()


def _open_vectors(settings: Settings, embeddings: Embeddings, rebuild: bool, report: IngestReport) -> VectorIndex:
    try:
        return VectorIndex(settings, embeddings)
    except UnreadableStore as exc:
        if not rebuild:
            raise
        from chromadb.api.client import SharedSystemClient

        shutil.rmtree(exc.path)
        SharedSystemClient.clear_system_cache()  # chromadb caches the broken client per path
        report.repairs.append(f"Vektorlageret {exc.path} kunne ikke åbnes ({exc.detail}) og er bygget forfra.")
        return VectorIndex(settings, embeddings)


def run_ingest(
    settings: Settings,
    *,
    rebuild: bool = False,
    embeddings: Embeddings | None = None,
    progress_factory: ProgressFactory | None = None,
) -> IngestReport:
    """Bring the index in line with the corpus folder (holding the ingest lock).

    ``progress_factory(total, what)`` returns a callback told how many chunks were
    embedded; the CLI passes a progress bar.
    """
    with ingest_lock(settings.index_dir, settings.data_dir, settings.ingest_lock_wait_seconds):
        return ingest_held(settings, rebuild=rebuild, embeddings=embeddings, progress_factory=progress_factory)


def ingest_held(
    settings: Settings,
    *,
    rebuild: bool = False,
    embeddings: Embeddings | None = None,
    progress_factory: ProgressFactory | None = None,
) -> IngestReport:
    """:func:`run_ingest` for a caller that already holds the ingest lock (which is not reentrant)."""
    try:
        return _ingest(settings, rebuild, _LazyEmbeddings(settings, embeddings), progress_factory)
    except PermissionError as exc:
        if exc.filename and Path(exc.filename).is_relative_to(settings.data_dir):
            raise read_only_problem(settings.data_dir, exc) from exc
        raise


def _ingest(
    settings: Settings,
    rebuild: bool,
    embeddings: Embeddings,
    progress_factory: ProgressFactory | None,
) -> IngestReport:
    index_dir = settings.index_dir
    report = IngestReport()
    wanted = embedder_id(settings)
    catalog = _load_catalog(settings, rebuild, report)
    _check_embedder(catalog, wanted, rebuild)
    # Everything is read and chunked before the first write: a bad manifest changes nothing.
    documents = discover(settings.corpus_dir)
    report.skipped = outside_links(settings.corpus_dir)
    work = plan(catalog, documents, settings, rebuild)
    report.unchanged, report.failed = work.unchanged, work.failed
    pending: list[tuple[DocumentInfo, list[Chunk], str]] = []
    for info, digest in work.to_index:
        try:
            pending.append((*prepare(info, settings), digest))
        except LoadError as exc:
            report.failed[info.path.name] = exc.reason

    remove_leftovers(index_dir)
    vectors = _open_vectors(settings, embeddings, rebuild, report)
    if catalog.embedder != wanted:
        # Vectors of another embedder cannot share the collection. Forget them in
        # the catalog first, so a crash in between leaves only unlisted vectors.
        catalog = Catalog(embedder=wanted)
        catalog.save(index_dir)
        vectors.clear()
    diff = compare_stores(catalog, vectors, index_dir)
    if diff.extra_vectors:
        vectors.delete(diff.extra_vectors)
        report.repairs.append(
            f"{len(diff.extra_vectors)} afsnit i vektorlageret, som kataloget ikke lister "
            "(fra en afbrudt indlæsning), er fjernet."
        )
    checkpoint("reconciled")
    replaced = {info.doc_id for info, _, _ in pending}
    # Chunks the store lacks are embedded again from the catalog, unless their document is re-indexed anyway.
    missing = [catalog.chunks[i] for i in sorted(diff.missing_vectors) if catalog.chunks[i].doc_id not in replaced]
    total = len(missing) + sum(len(chunks) for _, chunks, _ in pending)
    progress = progress_factory(total, "afsnit") if progress_factory and total else (lambda n: None)
    if missing:
        _embed_in_batches(vectors, missing, settings.embedding_batch_size, progress)
        report.repairs.append(f"{len(missing)} afsnit manglede i vektorlageret og er indlejret igen fra kataloget.")

    for info, chunks, digest in pending:
        _embed_in_batches(vectors, chunks, settings.embedding_batch_size, progress)
        checkpoint("vectors")
        old = catalog.documents.get(info.doc_id)
        catalog.replace_document(_entry(info, digest, chunks), chunks)
        catalog.save(index_dir)
        checkpoint("catalog")
        new_ids = {c.chunk_id for c in chunks}
        vectors.delete(i for i in (old.chunk_ids if old else []) if i not in new_ids)
        (report.updated if old else report.added).append(info.doc_id)
        report.chunks_embedded += len(chunks)
    for doc_id in (d for d in work.gone if d in catalog.documents):  # none left after a change of embedder
        old_ids = catalog.documents[doc_id].chunk_ids
        catalog.remove_document(doc_id)
        catalog.save(index_dir)
        checkpoint("catalog")
        vectors.delete(old_ids)
        report.removed.append(doc_id)

    write_lexical = rebuild or report.changed or not diff.lexical_matches
    if write_lexical:
        checkpoint("lexical")
        LexicalIndex.build(list(catalog.chunks.values())).save(index_dir)
        Vocabulary.from_chunks(catalog.chunks.values()).save(index_dir)
        if not diff.lexical_matches and not report.changed:
            report.repairs.append("Det leksikale indeks passede ikke til kataloget og er bygget igen.")
    _write_span_vectors(catalog, index_dir, embeddings, progress_factory)
    if write_lexical or report.repairs:
        catalog.last_ingest = _now()
        catalog.save(index_dir)
    return report


def _write_span_vectors(
    catalog: Catalog, index_dir: Path, embeddings: Embeddings, progress_factory: ProgressFactory | None
) -> None:
    """Embed the sentences of chunks the span store lacks, and drop those of chunks no longer listed."""
    previous = SpanVectors.load(index_dir)
    if previous is not None and previous.chunk_ids == set(catalog.chunks):
        return
    checkpoint("span_vectors")
    todo = len(set(catalog.chunks) - (previous.chunk_ids if previous else set()))
    progress = progress_factory(todo, "sætninger i afsnit") if progress_factory and todo else (lambda n: None)
    SpanVectors.build(catalog.chunks.values(), embeddings, previous, progress=progress).save(index_dir)


def store_problems(settings: Settings, catalog: Catalog) -> list[str]:
    """How the stores differ from the catalog, one Danish line each (empty when they match)."""
    vectors = VectorIndex(settings, _LazyEmbeddings(settings, None))
    return compare_stores(catalog, vectors, settings.index_dir).describe(catalog, vectors)


@dataclass
class IndexCheck:
    """What ``hfa ingest --check`` found: facts, and the problems ``hfa ingest`` would fix."""

    facts: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def check_index(settings: Settings) -> IndexCheck:
    """Compare catalog, stores and corpus without changing anything (waits for a running ingest)."""
    result = IndexCheck()
    with ingest_lock(settings.index_dir, settings.data_dir, settings.ingest_lock_wait_seconds, shared=True):
        catalog = Catalog.load(settings.index_dir)
        result.facts.append(f"Kataloget: {len(catalog.documents)} dokument(er), {len(catalog.chunks)} afsnit.")
        if not catalog.documents:
            result.problems.append("Der er intet indeks endnu.")
        wanted = embedder_id(settings)
        if catalog.embedder and catalog.embedder != wanted:
            result.problems.append(f"Indekset er bygget med {catalog.embedder}, men indstillingerne siger {wanted}.")
        if catalog.documents:
            result.problems += store_problems(settings, catalog)
        documents = discover(settings.corpus_dir)
        work = plan(catalog, documents, settings, rebuild=False)
    changed = [info.doc_id for info, _ in work.to_index if info.doc_id in catalog.documents]
    new = [info.doc_id for info, _ in work.to_index if info.doc_id not in catalog.documents]
    for label, ids in (
        ("ændret siden seneste indlæsning", changed),
        ("ikke indlæst", new),
        ("væk fra korpus", work.gone),
    ):
        if ids:
            result.problems.append(f"Dokumenter {label}: {', '.join(ids)}.")
    result.problems += [f"{name} kan ikke læses: {reason}." for name, reason in work.failed.items()]
    result.facts += [f"ADVARSEL: {name} {reason}." for name, reason in outside_links(settings.corpus_dir).items()]
    return result
