"""Incremental, per-document atomic ingest: load → clean → chunk → index.

A document is re-indexed only when its content hash changes (its bytes, its
manifest entry, the chunking code or the chunk size), or for all documents
with ``rebuild``. New chunks are written before old ones are deleted, and the
catalog is saved after every document, so a failure at any point leaves each
document either fully old or fully new; the lexical index is rebuilt whenever
it does not hold exactly the catalog's chunks (also after an interrupted run).
A document that cannot be read is reported and keeps whatever the index had
for it. Only a change of embedder empties the vector store first.
"""

from __future__ import annotations

import hashlib
import json
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
from ingest.index import Catalog, DocumentEntry, IndexProblem, LexicalIndex, VectorIndex
from ingest.loaders import LoadError, load_pages
from ingest.manifest import discover
from ingest.vocabulary import Vocabulary

Progress = Callable[[int], None]


@dataclass
class IngestReport:
    """What one ingest run did."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    chunks_embedded: int = 0

    @property
    def changed(self) -> bool:
        """Whether the index content changed."""
        return bool(self.added or self.updated or self.removed)


# The code that turns a file into chunks: when it changes, chunks change too.
CHUNKING_CODE = ("loaders.py", "cleaning.py", "headings.py", "text.py", "chunking.py", "documents.py")


def content_hash(info: DocumentInfo, settings: Settings) -> str:
    """Hash of what decides a document's chunks: its bytes, its metadata, the chunking code and size.

    A change to any of them re-indexes the document; nothing else does.
    """
    digest = hashlib.sha256(info.path.read_bytes())
    meta = {k: str(v) for k, v in asdict(info).items() if k != "path"}
    digest.update(json.dumps(meta, sort_keys=True).encode())
    for name in CHUNKING_CODE:
        digest.update((Path(__file__).parent / name).read_bytes())
    digest.update(str(settings.chunk_max_chars).encode())
    return digest.hexdigest()


def prepare(info: DocumentInfo, settings: Settings) -> list[Chunk]:
    """Load, clean and chunk one document; LoadError when it yields nothing."""
    chunks = chunk_document(info, clean_pages(load_pages(info.path)), settings.chunk_max_chars)
    if not chunks:
        raise LoadError(info.path, "der blev ingen tekst tilbage efter rensning")
    return chunks


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


def run_ingest(
    settings: Settings,
    *,
    rebuild: bool = False,
    embeddings: Embeddings | None = None,
    progress_factory: Callable[[int], Progress] | None = None,
) -> IngestReport:
    """Bring the index in line with the corpus folder.

    ``progress_factory(total)`` returns a callback told how many chunks were
    embedded; the CLI passes a progress bar.
    """
    wanted = embedder_id(settings)
    catalog = Catalog.load(settings.index_dir)
    _check_embedder(catalog, wanted, rebuild)
    documents = discover(settings.corpus_dir)
    report = IngestReport()
    pending: list[tuple[DocumentInfo, str, list[Chunk]]] = []
    for info in documents:
        digest = content_hash(info, settings)
        old = catalog.documents.get(info.doc_id)
        if old and old.content_hash == digest and not rebuild:
            report.unchanged.append(info.doc_id)
            continue
        try:
            pending.append((info, digest, prepare(info, settings)))
        except LoadError as exc:
            report.failed[info.path.name] = exc.reason
    present = {info.doc_id for info in documents}
    gone = [doc_id for doc_id in catalog.documents if doc_id not in present]
    if not (pending or gone) and LexicalIndex.matches(settings.index_dir, catalog.chunks):
        return report

    vectors = VectorIndex(settings, embeddings or make_embeddings(settings))
    if catalog.embedder != wanted:
        # Vectors of another embedder cannot share the collection: start afresh.
        vectors.clear()
        catalog = Catalog()
    catalog.embedder = wanted
    total = sum(len(chunks) for _, _, chunks in pending)
    progress = progress_factory(total) if progress_factory else (lambda n: None)
    for info, digest, chunks in pending:
        _embed_in_batches(vectors, chunks, settings.embedding_batch_size, progress)
        old = catalog.documents.get(info.doc_id)
        new_ids = {c.chunk_id for c in chunks}
        vectors.delete([i for i in (old.chunk_ids if old else []) if i not in new_ids])
        catalog.replace_document(_entry(info, digest, chunks), chunks)
        catalog.save(settings.index_dir)
        (report.updated if old else report.added).append(info.doc_id)
        report.chunks_embedded += len(chunks)
    for doc_id in gone:
        vectors.delete(catalog.documents[doc_id].chunk_ids)
        catalog.remove_document(doc_id)
        report.removed.append(doc_id)
    catalog.last_ingest = datetime.now(UTC).isoformat(timespec="seconds")
    LexicalIndex.build(list(catalog.chunks.values())).save(settings.index_dir)
    Vocabulary.from_chunks(catalog.chunks.values()).save(settings.index_dir)
    catalog.save(settings.index_dir)
    return report
