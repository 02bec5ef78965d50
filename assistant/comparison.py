"""Comparisons: one column per named method, one row per aspect, one cited unit per cell (or none).

A cell is chosen by the same retrieval and unit scoring as answers, restricted
to passages about the method: its own section, or a unit that names only it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from assistant.answer import Table
from assistant.corpus import Corpus
from assistant.drafting import Draft, Numbering, shown
from assistant.extractive import score_units
from assistant.question import Analysis
from assistant.retrieval import Filters, Passage
from assistant.units import Unit
from hfa_settings import Settings
from ingest.text import terms


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
