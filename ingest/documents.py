"""The records that travel from ingest to the answer card."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class DocumentInfo:
    """What is known about one source document (from the manifest or the file)."""

    doc_id: str
    title: str
    path: Path
    issuer: str = ""
    scope: str = "ukendt"
    kind: str = "dokument"
    date: str = ""


@dataclass(frozen=True)
class Page:
    """Text of one page as extracted; ``number`` is None when pages are unknown."""

    number: int | None
    text: str


@dataclass(frozen=True)
class Chunk:
    """A passage of a cleaned document, always inside one section.

    ``start``/``end`` are character offsets into the cleaned document text, so
    ``cleaned_text[start:end] == text``.
    """

    chunk_id: str
    doc_id: str
    title: str
    issuer: str
    scope: str
    kind: str
    section: str
    page: int | None
    start: int
    end: int
    text: str

    @classmethod
    def in_document(
        cls, info: DocumentInfo, chunk_id: str, section: str, page: int | None, start: int, end: int, text: str
    ) -> Chunk:
        """The chunk ``text[start:end]`` of a document, carrying the document's metadata."""
        return cls(
            chunk_id=chunk_id,
            doc_id=info.doc_id,
            title=info.title,
            issuer=info.issuer,
            scope=info.scope,
            kind=info.kind,
            section=section,
            page=page,
            start=start,
            end=end,
            text=text[start:end],
        )

    def metadata(self) -> dict[str, str | int]:
        """Metadata for the vector store (which does not accept None)."""
        data = asdict(self)
        del data["text"]
        data["page"] = -1 if self.page is None else self.page
        return data

    def header(self) -> str:
        """One line naming the document, its issuer and the section."""
        issuer = f" ({self.issuer})" if self.issuer else ""
        return " ".join(f"{self.title}{issuer} › {self.section}".split())

    def stored_text(self) -> str:
        """What is embedded and stored: the header line, then the passage.

        The header gives the embedder the heading context the passage itself
        lacks ("Klage og ankemuligheder", "Norddjurs Kommune").
        """
        return f"{self.header()}\n{self.text}"

    @classmethod
    def from_stored(cls, metadata: dict, stored_text: str) -> Chunk:
        """Rebuild a chunk from vector-store metadata and its stored text."""
        page = int(metadata["page"])
        names = [name for name in cls.__dataclass_fields__ if name not in ("text", "page")]
        text = stored_text.split("\n", 1)[1]
        return cls(**{name: metadata[name] for name in names}, page=None if page < 0 else page, text=text)
