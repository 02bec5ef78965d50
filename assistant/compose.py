"""Compose the extractive answer in the form the question asks (pure, over the index's chunks).

- ``list``: a whole list — a section outline (a heading's direct sub-headings,
  e.g. 2 → 2.1…2.8) or a run of bullets/"Fase N:" lines, also across chunks of
  one section — every item cited;
- ``comparison``: a table, one column per named method (or municipality), one
  row per aspect, one cited unit per cell, empty where the sources are silent;
- ``value``: a lead line quoting the asked value (deadline, duration, count,
  date, amount, contact) verbatim from a cited unit, then the units;
- otherwise the best units (sentences, heading with text, label blocks, lists).

Whether to answer at all is decided by :mod:`assistant.evidence`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from assistant.answer import Citation, Table
from assistant.corpus import Corpus
from assistant.evidence import evidence, sufficient, value_span
from assistant.extractive import ScoredUnit, coverage, score_units, select_units
from assistant.question import Analysis
from assistant.retrieval import Filters, Passage
from assistant.units import Unit, bullets, heading_span
from hfa_settings import Settings
from ingest.documents import Chunk
from ingest.text import terms

NUMBER_WORDS = {"to": 2, "tre": 3, "fire": 4, "fem": 5, "seks": 6, "syv": 7, "otte": 8, "ni": 9, "ti": 10}
MIN_LIST_ITEMS = 2


@dataclass(frozen=True)
class Draft:
    """An extractive answer before notices: its text, citations and form (or a refusal)."""

    text: str
    citations: tuple[Citation, ...]
    passages: tuple[Passage, ...]
    kind: str
    table: Table | None = None
    refused: bool = False
    evidence: float | None = None


class Numbering:
    """Numbers sources ``[n]`` by first use and collects the citations and the passages they are from."""

    def __init__(self, passages: Sequence[Passage]) -> None:
        self.passages = list(passages)
        self.numbers: dict[str, int] = {}
        self.citations: list[Citation] = []

    def cite(self, unit: Unit) -> int:
        """Cite every span of a unit under its chunk's number; returns the number."""
        chunk = unit.chunk
        n = self.numbers.setdefault(chunk.chunk_id, len(self.numbers) + 1)
        if all(p.chunk.chunk_id != chunk.chunk_id for p in self.passages):
            self.passages.append(Passage(len(self.passages) + 1, chunk, 0.0, None, 0.0))
        for start, end in unit.spans:
            if not any(c.chunk.chunk_id == chunk.chunk_id and c.start == start for c in self.citations):
                self.citations.append(Citation(n, chunk, chunk.text[start:end], start, end))
        return n

    def draft(self, text: str, kind: str, table: Table | None = None) -> Draft:
        """The draft answer with what was cited."""
        return Draft(text, tuple(self.citations), tuple(self.passages), kind, table)


def shown(unit: Unit) -> str:
    """A unit as it stands in the answer text: lines of a block joined, spaces normalised."""
    if unit.kind == "block":
        return ", ".join(" ".join(line.split()) for line in unit.quotes()[0].splitlines() if line.strip())
    if unit.kind == "list":
        intro, *items = unit.quotes()
        return "\n".join([" ".join(intro.split()), *(f"- {' '.join(i.split())}" for i in items)])
    return unit.separator().join(" ".join(q.split()) for q in unit.quotes())


def compose(analysis: Analysis, passages: Sequence[Passage], corpus: Corpus, settings: Settings) -> Draft:
    """The extractive answer to an analysed question from its retrieved passages."""
    scored = score_units(analysis, passages, corpus, settings)
    signal = evidence(analysis, scored, passages, settings)
    if not sufficient(signal, settings):
        return Draft("", (), tuple(passages), "refusal", refused=True, evidence=signal)
    return replace(_answer_form(analysis, scored, passages, corpus, settings), evidence=signal)


def _answer_form(
    analysis: Analysis, scored: Sequence[ScoredUnit], passages: Sequence[Passage], corpus: Corpus, settings: Settings
) -> Draft:
    if analysis.kind == "comparison":
        draft = compare(analysis, passages, corpus, settings)
        if draft:
            return draft
    if analysis.kind == "list":
        draft = list_answer(analysis, scored, corpus, settings, passages)
        if draft:
            return draft
    chosen = select_units(scored, settings)
    numbering = Numbering(passages)
    lines = []
    if analysis.value_kind:
        lead = _value_lead(analysis, chosen, numbering)
        if lead:
            lines.append(lead)
    for s in sorted(chosen, key=lambda s: (s.unit.chunk.chunk_id not in numbering.numbers, -s.score)):
        lines.append(f"{shown(s.unit)} [{numbering.cite(s.unit)}]")
    kind = "value" if analysis.value_kind and len(lines) > len(chosen) else analysis.kind
    return numbering.draft("\n".join(lines), kind if kind != "list" else "open")


def _value_lead(analysis: Analysis, chosen: Sequence[ScoredUnit], numbering: Numbering) -> str | None:
    """The asked value ("4 uger [1]"), verbatim from the best-covering chosen unit that holds one."""
    holding = [(s.coverage, s) for s in chosen if value_span(analysis.value_kind, s.unit)]
    if not holding:
        return None
    best = max(holding, key=lambda pair: pair[0])[1]
    return f"{value_span(analysis.value_kind, best.unit)} [{numbering.cite(best.unit)}]"


# --- lists -----------------------------------------------------------------


def _section_of(chunk: Chunk) -> tuple[str, str]:
    return chunk.doc_id, chunk.section


def outline(corpus: Corpus, key: tuple[str, str]) -> tuple[Unit | None, list[Unit]]:
    """A section's heading (if quotable) and its direct sub-headings, as units."""
    first = corpus.first_chunk(key)
    head = None
    if first is not None:
        span = heading_span(first)
        head = Unit(first, "heading-only", (span,)) if span else None
    items = []
    for child in corpus.children(key):
        span = heading_span(child)
        if span:
            items.append(Unit(child, "heading-only", (span,)))
    return head, items


def bullet_runs(corpus: Corpus, key: tuple[str, str], max_items: int) -> list[tuple[Unit | None, list[Unit]]]:
    """Runs of bullet lines in a section, across its chunks, each with the sentence introducing it."""
    runs: list[tuple[Unit | None, list[Unit]]] = []
    intro: Unit | None = None
    items: list[Unit] = []
    for chunk in corpus.section_chunks(key):
        paragraphs = [m.span() for m in re.finditer(r"[^\n]+", chunk.text)]
        for start, end in paragraphs:
            found = list(bullets(chunk.text, [(start, end)]))
            if found:
                items.append(Unit(chunk, "item", (found[0],)))
                continue
            if len(items) >= MIN_LIST_ITEMS:
                runs.append((intro, items[:max_items]))
            items = []
            last = _last_sentence(chunk, start, end)
            intro = last if last and (last.text.endswith(":") or "følgende" in last.text) else None
    if len(items) >= MIN_LIST_ITEMS:
        runs.append((intro, items[:max_items]))
    return runs


def _last_sentence(chunk: Chunk, start: int, end: int) -> Unit | None:
    """The paragraph's last sentence (the candidate introduction of a list that follows it)."""
    text = chunk.text[start:end]
    cut = max(text.rfind(". ", 0, len(text) - 2) + 2, 0)
    return Unit(chunk, "sentence", ((start + cut, end),)) if end > start + cut else None


def _expected_count(analysis: Analysis) -> int | None:
    for word in analysis.question.lower().split():
        if word in NUMBER_WORDS:
            return NUMBER_WORDS[word]
        if word.isdigit() and int(word) < 30:
            return int(word)
    return None


def list_answer(
    analysis: Analysis,
    scored: Sequence[ScoredUnit],
    corpus: Corpus,
    settings: Settings,
    passages: Sequence[Passage],
) -> Draft | None:
    """The whole list the question asks for, from the sections of the best passages."""
    expected = _expected_count(analysis)
    candidates: list[tuple[float, Unit | None, list[Unit]]] = []
    seen: set[tuple[str, str]] = set()
    for rank, passage in enumerate(passages[: settings.list_sections], start=1):
        key = _section_of(passage.chunk)
        for section in (key, corpus.parent(key)):
            if section is None or section in seen:
                continue
            seen.add(section)
            for head, items in [outline(corpus, section), *bullet_runs(corpus, section, settings.max_list_items)]:
                if len(items) < MIN_LIST_ITEMS:
                    continue
                about = " ".join([section[1], head.text if head else "", *(i.text for i in items)])
                score = coverage(analysis.terms, frozenset(terms(about)), corpus.idf, settings) + 0.2 / rank
                if expected is not None:
                    score += 0.5 if len(items) == expected else -0.2
                candidates.append((score, head, items))
    if not candidates:
        return None
    score, head, items = max(candidates, key=lambda c: c[0])
    if score < settings.min_coverage:
        return None
    numbering = Numbering(passages)
    lines = [f"{shown(head)} [{numbering.cite(head)}]"] if head else []
    lines += [f"- {shown(item)} [{numbering.cite(item)}]" for item in items]
    return numbering.draft("\n".join(lines), "list")


# --- comparisons -----------------------------------------------------------


def comparison_aspects(analysis: Analysis, settings: Settings) -> list[tuple[str, str]]:
    """The aspects to compare: those the question names, else the default set (label, search words)."""
    named = [
        (label, words)
        for label, words in settings.comparison_aspects
        if set(terms(f"{label} {words}")) & analysis.terms
    ]
    return named or list(settings.comparison_aspects)


def compare(analysis: Analysis, passages: Sequence[Passage], corpus: Corpus, settings: Settings) -> Draft | None:
    """A table comparing the named methods aspect by aspect, each cell a cited unit (or empty)."""
    columns = list(analysis.methods)
    if len(columns) < 2:
        return None
    numbering = Numbering(passages)
    rows = []
    lines = []
    for label, words in comparison_aspects(analysis, settings):
        cells: list[tuple[int, ...]] = []
        parts = []
        for column in columns:
            others = [m for m in corpus.vocabulary.methods if m != column]
            best = best_cell(column, others, label, words, corpus, settings, analysis)
            if best is None:
                cells.append(())
                continue
            n = numbering.cite(best)
            cells.append((n,))
            parts.append(f"{column}: {shown(best)} [{n}]")
        if any(cells):
            rows.append((label, tuple(cells)))
            lines.append(f"{label.capitalize()}:\n" + "\n".join(f"- {p}" for p in parts))
    if not rows:
        return None
    return numbering.draft("\n".join(lines), "comparison", Table(tuple(columns), tuple(rows)))


def best_cell(
    method: str,
    others: Sequence[str],
    label: str,
    words: str,
    corpus: Corpus,
    settings: Settings,
    analysis: Analysis,
) -> Unit | None:
    """The unit that best describes one aspect of one method: in the method's own section, or naming only it."""
    query = f"{method} {label} {words}"
    filters = Filters(scopes=tuple(corpus.scopes_of(analysis.municipalities)))
    aspect = _aspect_analysis(analysis, query, frozenset(terms(f"{label} {words}")))
    best: tuple[float, Unit] | None = None
    for passage in corpus.search(query, settings.comparison_k, filters):
        own_section = _mentions(passage.chunk.section, method) and not any(
            _mentions(passage.chunk.section, o) for o in others
        )
        for scored in score_units(aspect, [passage], corpus, settings):
            text = scored.unit.text
            names_only_it = _mentions(text, method) and not any(_mentions(text, o) for o in others)
            if scored.coverage < settings.cell_min_coverage or not (own_section or names_only_it):
                continue
            value = scored.score + (settings.own_section_weight if own_section else 0.0)
            if best is None or value > best[0]:
                best = (value, scored.unit)
    return best[1] if best else None


def _aspect_analysis(analysis: Analysis, query: str, aspect_terms: frozenset[str]) -> Analysis:
    return replace(analysis, question=query, terms=aspect_terms, kind="open", value_kind=None)


def _mentions(text: str, name: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w])", text, re.I) is not None
