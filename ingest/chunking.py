"""Split a cleaned document into chunks along its own structure.

Sections come from the document's headings (numbered headings such as
``4.3.1.``, appendix titles, the row labels of a quality standard, or short
title lines in documents that have neither); a section's first chunk starts
with its heading. Within a section, paragraphs are
packed into chunks of at most ``max_chars``; a longer paragraph is split
between sentences. A chunk never straddles two sections and never cuts a
sentence, except a run-on one longer than ``hard_max_chars`` (text extracted
without punctuation or line breaks): that is cut at the last whitespace before
the hard limit, or at the limit itself when there is none. So no chunk is
longer than ``hard_max_chars``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from ingest.cleaning import CleanedDocument
from ingest.documents import Chunk, DocumentInfo
from ingest.headings import is_short_heading, label_of, numbered_level
from ingest.text import sentence_spans

PARAGRAPH = re.compile(r"[^\n]+(?:\n[^\n]+)*")
PREAMBLE = "Indledning"
# The end of the last word followed by whitespace (matched within a window).
LAST_WORD_END = re.compile(r".*\S(?=\s)", re.DOTALL)
MIN_HEADINGS = 2


@dataclass(frozen=True)
class _Paragraph:
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class _Section:
    path: str
    paragraphs: tuple[_Paragraph, ...]


def _paragraphs(text: str) -> list[_Paragraph]:
    return [_Paragraph(m.start(), m.end(), m.group(0)) for m in PARAGRAPH.finditer(text)]


def _heading_detector(paragraphs: list[_Paragraph]) -> Callable[[str], int | None]:
    """Choose how this document marks its headings, most specific first."""
    texts = [p.text for p in paragraphs]
    if sum(numbered_level(t) is not None for t in texts) >= MIN_HEADINGS:
        return numbered_level
    if sum(label_of(t) is not None for t in texts) >= MIN_HEADINGS:
        return lambda t: 1 if label_of(t) else None

    def short_title(t: str) -> int | None:
        return 1 if is_short_heading(t) else None

    return short_title


def sections(text: str) -> list[_Section]:
    """The document's sections with their heading paths, in document order."""
    paragraphs = _paragraphs(text)
    level_of = _heading_detector(paragraphs)
    stack: list[tuple[int, str]] = []
    result: list[_Section] = []
    body: list[_Paragraph] = []
    headings = 0  # how many of body's first paragraphs are headings

    def close() -> None:
        # A heading opens its section's first chunk (so a heading can be quoted
        # with the text under it); a heading with no text of its own ("4.3. CTI –
        # Critical Time Intervention" right before "4.3.1. …") is no section but
        # opens the next one's first chunk.
        nonlocal headings
        if len(body) > headings:
            path = " › ".join(title for _, title in stack) or PREAMBLE
            result.append(_Section(path, tuple(body)))
            body.clear()
            headings = 0

    for index, paragraph in enumerate(paragraphs):
        level = level_of(paragraph.text)
        is_last = index == len(paragraphs) - 1
        if level is None or is_last:
            body.append(paragraph)
            continue
        close()
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, paragraph.text))
        body.append(paragraph)
        headings = len(body)
    close()
    return result


def _pack(spans: Iterable[tuple[int, int]], max_chars: int) -> Iterator[tuple[int, int]]:
    """Merge consecutive spans into groups of at most ``max_chars`` (a longer span stays whole)."""
    current: tuple[int, int] | None = None
    for start, end in spans:
        if current and end - current[0] > max_chars:
            yield current
            current = None
        current = (current[0], end) if current else (start, end)
    if current:
        yield current


def bounded(text: str, start: int, end: int, hard_max: int) -> Iterator[tuple[int, int]]:
    """``text[start:end]`` in pieces of at most ``hard_max`` characters.

    Each cut falls after the last word that ends in the second half of the
    allowed length, or exactly at the limit when no whitespace is there.
    """
    while end - start > hard_max:
        limit = start + hard_max
        word_end = LAST_WORD_END.match(text, start + hard_max // 2, limit + 1)
        cut = word_end.end() if word_end else limit
        yield start, cut
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if start < end:
        yield start, end


def _pieces(paragraph: _Paragraph, max_chars: int, hard_max: int) -> Iterator[tuple[int, int]]:
    """The paragraph whole, or its sentences (cut to ``hard_max``) grouped to fit ``max_chars``."""
    if len(paragraph.text) <= max_chars:
        return iter([(paragraph.start, paragraph.end)])
    pieces = (
        (s + paragraph.start, e + paragraph.start)
        for sentence in sentence_spans(paragraph.text)
        for s, e in bounded(paragraph.text, *sentence, hard_max)
    )
    return _pack(pieces, max_chars)


def _spans(section: _Section, max_chars: int, hard_max: int) -> Iterator[tuple[int, int]]:
    """Chunk spans of one section: consecutive pieces packed up to ``max_chars``."""
    return _pack((piece for p in section.paragraphs for piece in _pieces(p, max_chars, hard_max)), max_chars)


def chunk_document(info: DocumentInfo, cleaned: CleanedDocument, max_chars: int, hard_max_chars: int) -> list[Chunk]:
    """Chunks of one cleaned document, each knowing its section, page and offsets.

    Raises:
        ValueError: ``hard_max_chars`` is below ``max_chars`` (the message names both settings).
    """
    if hard_max_chars < max_chars:
        raise ValueError(
            f"chunk_hard_max_chars ({hard_max_chars}) skal være mindst chunk_max_chars ({max_chars}); "
            "ret indstillingerne."
        )
    text = cleaned.text
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]
    chunks: list[Chunk] = []
    for section in sections(text):
        for start, end in _spans(section, max_chars, hard_max_chars):
            chunk_id = f"{info.doc_id}:{digest}:{len(chunks):04d}"
            chunks.append(Chunk.in_document(info, chunk_id, section.path, cleaned.page_at(start), start, end, text))
    return chunks
