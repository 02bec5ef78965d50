"""Answer units: the pieces of a passage an answer may quote (pure functions).

A unit is one or more verbatim spans of a chunk's text, quoted together:

- ``sentence``: one sentence;
- ``heading``: a section heading with the first sentence under it, quoted as
  "heading: text" (the council decision's date sits in its heading);
- ``block``: a run of short lines kept whole (an address and phone number, a
  list of § references under a label);
- ``list``: a sentence introducing a list (ending in ":") with its bullets.

A line that is no sentence (no full stop, a few words) is never a unit on its
own: it is only quoted inside a block or as a heading. Section outlines and
lists that run over several chunks are assembled from the catalog, see
:mod:`assistant.compose`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from ingest.documents import Chunk
from ingest.text import sentence_spans

PARAGRAPH = re.compile(r"[^\n]+")
BULLET = re.compile(r"^(?:[•–\-*]|\d{1,2}[.)]|[A-ZÆØÅa-zæøå]+ \d{1,2}:)\s*")
MIN_BLOCK_LINES = 2
FRAGMENT_WORDS = 8


@dataclass(frozen=True)
class Unit:
    """Verbatim spans of one chunk that are quoted together."""

    chunk: Chunk
    kind: str
    spans: tuple[tuple[int, int], ...]

    @property
    def text(self) -> str:
        """The spans' text joined as it is shown."""
        return self.separator().join(self.quotes())

    def quotes(self) -> list[str]:
        """Each span's text, verbatim."""
        return [self.chunk.text[s:e] for s, e in self.spans]

    def separator(self) -> str:
        """How the spans are joined in the answer."""
        return ": " if self.kind == "heading" else " "

    @property
    def start(self) -> int:
        """Where the first span starts."""
        return self.spans[0][0]


def is_fragment(text: str) -> bool:
    """A line that is no sentence: no closing punctuation and only a few words."""
    stripped = text.strip()
    return not stripped.endswith((".", "!", "?", ":", "”", '"')) and len(stripped.split()) < FRAGMENT_WORDS


def leading_headings(chunk: Chunk) -> dict[str, tuple[int, int]]:
    """The headings a chunk starts with (its own and its parents' without text of their own), by title."""
    titles = {" ".join(t.split()) for t in chunk.section.split(" › ")}
    found: dict[str, tuple[int, int]] = {}
    for match in PARAGRAPH.finditer(chunk.text):
        title = " ".join(match.group(0).split())
        if title not in titles:
            break
        found[title] = match.span()
    return found


def heading_span(chunk: Chunk, title: str | None = None) -> tuple[int, int] | None:
    """The span of a heading the chunk starts with: its own section's, or the one titled ``title``."""
    wanted = " ".join((title or chunk.section.rsplit(" › ", 1)[-1]).split())
    return leading_headings(chunk).get(wanted)


def bullet_text(text: str, start: int, end: int) -> tuple[int, int]:
    """A bullet item's span without its bullet sign, cut after its first sentence."""
    item = text[start:end]
    lead = len(item) - len(item.lstrip("•–-* "))
    spans = sentence_spans(text[start + lead : end])
    first_end = spans[0][1] if spans else end - start - lead
    return start + lead, start + lead + first_end


def _paragraphs(text: str, skip_until: int) -> list[tuple[int, int]]:
    return [m.span() for m in PARAGRAPH.finditer(text) if m.start() >= skip_until and m.group(0).strip()]


def _blocks(text: str, paragraphs: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """Runs of at least two fragment lines: (start, end, number of lines)."""
    runs: list[tuple[int, int, int]] = []
    current: list[tuple[int, int]] = []
    for span in [*paragraphs, None]:
        if span is not None and is_fragment(text[span[0] : span[1]]):
            current.append(span)
            continue
        if len(current) >= MIN_BLOCK_LINES:
            runs.append((current[0][0], current[-1][1], len(current)))
        current = []
    return runs


def bullets(text: str, following: list[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """The consecutive bullet items at the start of ``following`` (the paragraphs after a list intro)."""
    for start, end in following:
        if not BULLET.match(text[start:end]):
            return
        yield bullet_text(text, start, end)


def continued(unit: Unit) -> Unit:
    """The unit with the next sentence of its paragraph, if one follows ("X betyder …. Det vil sige …")."""
    if unit.kind not in ("sentence", "heading"):
        return unit
    text = unit.chunk.text
    end = unit.spans[-1][1]
    stop = text.find("\n", end)
    stop = len(text) if stop < 0 else stop
    following = sentence_spans(text[end:stop])
    return _extended(unit, end + following[0][1]) if following else unit


def whole_section(unit: Unit) -> Unit:
    """A heading unit with all the text under it in its chunk (a label row of a quality standard kept whole)."""
    return _extended(unit, len(unit.chunk.text.rstrip())) if unit.kind == "heading" else unit


def _extended(unit: Unit, end: int) -> Unit:
    """The unit with its last span running on to ``end``."""
    start = unit.spans[-1][0]
    return Unit(unit.chunk, unit.kind, (*unit.spans[:-1], (start, end)))


def chunk_units(chunk: Chunk, max_list_items: int = 12) -> list[Unit]:
    """Every quotable unit of a chunk, in document order."""
    text = chunk.text
    units: list[Unit] = []
    headings = sorted(leading_headings(chunk).values())
    body_start = headings[-1][1] if headings else 0
    paragraphs = _paragraphs(text, body_start)
    blocks = _blocks(text, paragraphs)
    in_block = [(s, e) for s, e, _ in blocks]
    sentences = [
        (s, e)
        for ps, pe in paragraphs
        if not any(bs <= ps and pe <= be for bs, be in in_block)
        for s, e in ((ps + a, ps + b) for a, b in sentence_spans(text[ps:pe]))
    ]
    if headings and (sentences or blocks):
        first = min([*sentences, *[(s, e) for s, e, _ in blocks]])
        units.append(Unit(chunk, "heading", (*headings, first)))
    units += [Unit(chunk, "block", ((s, e),)) for s, e, _ in blocks]
    for start, end in sentences:
        sentence = text[start:end]
        if is_fragment(sentence) and not BULLET.match(sentence):
            continue
        units.append(Unit(chunk, "sentence", ((start + len(sentence) - len(sentence.lstrip("•–-* ")), end),)))
        if sentence.endswith(":"):
            following = [(s, e) for s, e in paragraphs if s >= end][:max_list_items]
            items = list(bullets(text, following))
            if items:
                units.append(Unit(chunk, "list", ((start, end), *items)))
    return sorted(units, key=lambda u: u.start)
