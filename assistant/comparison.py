"""Method comparisons: one column per method, one row per aspect, each cell the best cited units (or none).

Each row is chosen by the same retrieval and unit scoring as answers: the
aspect's words are searched in the chosen scopes and the units of the
retrieved passages scored against them. Each method's cell takes the best of
those units that are about the method (see :class:`MethodNames`): from the
method's own sections first, at most ``cell_units``, never a unit cut off by a
chunk boundary; empty ("ikke beskrevet i kilderne") when none covers the aspect.

The row "Tilbydes i" says per municipality whether its own documents offer a
method: a unit of them that names the method with a verb of offering
("anvendes", "bevilget", "tilbydes", "visiteres"). Methods and municipalities
are those the index knows (:mod:`ingest.vocabulary`), never a list in code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from assistant.answer import NOT_DESCRIBED, Citation, Table, numbered_sources
from assistant.answering.matching import coverage
from assistant.answering.question import Analysis, analyze
from assistant.answering.scoring import ScoredUnit, lexical_units, select_units
from assistant.corpus import SEPARATOR, Corpus, SectionKey
from assistant.drafting import Draft, Numbering, shown
from assistant.retrieval import Filters, Passage
from assistant.units import BULLET, Unit, chunk_units, is_fragment
from hfa_settings import Settings
from ingest.documents import Chunk
from ingest.text import terms
from ingest.vocabulary import NATIONAL, Vocabulary

OFFERED_ROW = "Tilbydes i"
OFFER_CUE = re.compile(r"\b(?:anvend|bevilg|tilbyd|visiter)\w*", re.I)
# What stands between two names of an enumeration: "CTI, ICM og ACT", "CTI-metoden, ICM-metoden eller", "ICM- og
# CTI-", "Assertive Community Treatment (ACT) og Intensive …".
ENUMERATION_GAP = re.compile(r"(?:-\w*)?[\s()]*(?:,|og|eller|samt|/|&)?[\s()]*", re.I)
CLOSING = (".", "!", "?", ":", "”", '"', ")")
# A sentence that refers back to the one before ("Den ydes af …"): about what its paragraph is about.
BACK_REFERENCE = re.compile(r"(?:Den|Det|Denne|Dette|De)\b")
# A sentence about methods in the plural ("Fælles for de tre metoder", "bostøttemetoderne") is about none alone.
PLURAL = re.compile(r"\w*metoder(?:ne)?\b", re.I)
WORD = re.compile(r"[^\W\d_]{3,}")

Aspect = tuple[str, str]  # row label, search words (the label's own words when empty)


@dataclass(frozen=True)
class Quote:
    """A unit quoted in a cell, under the number ``[n]`` of its passage."""

    n: int
    unit: Unit

    @property
    def text(self) -> str:
        """The unit as it stands in the table (lines of a block joined, spaces normalised)."""
        return " ".join(shown(self.unit).split())

    def citations(self) -> tuple[Citation, ...]:
        """One verbatim citation per span of the unit."""
        chunk = self.unit.chunk
        return tuple(Citation(self.n, chunk, chunk.text[s:e], s, e) for s, e in self.unit.spans)


Cell = tuple[Quote, ...]  # empty: the sources describe nothing for this method and aspect


def cell_text(cell: Cell) -> str:
    """A cell as text: each quote with its marker, or "ikke beskrevet i kilderne"."""
    return " ".join(f"{q.text} [{q.n}]" for q in cell) or NOT_DESCRIBED


def _cell_json(method: str, cell: Cell) -> dict[str, Any]:
    return {"method": method, "citations": [c.to_json() for q in cell for c in q.citations()]}


@dataclass(frozen=True)
class MethodTable:
    """Methods side by side: aspect rows, then one "Tilbydes i" row per municipality (named as the user knows it).

    A municipality's cell for a method quotes the unit of its documents that
    offers the method, or is empty when they do not name it as offered.
    """

    methods: tuple[str, ...]
    rows: tuple[tuple[str, tuple[Cell, ...]], ...]
    offered: tuple[tuple[str, tuple[Cell, ...]], ...]
    citations: tuple[Citation, ...]
    passages: tuple[Passage, ...]
    scopes: tuple[str, ...] = ()

    def table(self) -> Table:
        """The aspect rows as citation markers (the table of a chat answer)."""
        rows = tuple((label, tuple(tuple(q.n for q in cell) for cell in cells)) for label, cells in self.rows)
        quotes = tuple(tuple(tuple(q.text for q in cell) for cell in cells) for _, cells in self.rows)
        return Table(self.methods, rows, quotes)

    def sources(self) -> list[tuple[int, Chunk]]:
        """Each cited passage once, by its number."""
        return numbered_sources(self.citations)

    def to_json(self) -> dict[str, Any]:
        """The JSON object of ``hfa compare --json`` (see the README for the contract)."""
        return {
            "methods": list(self.methods),
            "scopes": list(self.scopes),
            "rows": [
                {"aspect": label, "cells": [_cell_json(m, c) for m, c in zip(self.methods, cells, strict=True)]}
                for label, cells in self.rows
            ],
            "offered": [
                {
                    "municipality": name,
                    "cells": [
                        _cell_json(m, c) | {"offered": bool(c)} for m, c in zip(self.methods, cells, strict=True)
                    ],
                }
                for name, cells in self.offered
            ],
            "sources": [source_json(n, chunk) for n, chunk in self.sources()],
        }


def source_json(n: int, chunk: Chunk) -> dict[str, Any]:
    """A numbered source: the document, its issuer and scope, the section and page."""
    keys = ("doc_id", "title", "issuer", "scope", "section", "page", "chunk_id")
    return {"n": n} | {key: getattr(chunk, key) for key in keys}


class MethodNames:
    """Which method a unit is about, from where the methods the index knows are named.

    Acronyms count as written ("CTI-metoden", not "M-ACT" for ACT), long names
    in any case. A unit speaking of methods in the plural is about none alone;
    a unit naming methods is about its subject; one naming none
    (or opening with "Den"/"Det" …) is about its paragraph's subject, else
    about the method whose own section it stands in, the only method its
    section names, or the only method its municipality offers (Norddjurs'
    quality standard describes CTI throughout). Sections beside a method's own
    ones that name no method ("4.1. Individuel støtteindsats …" beside
    "4.3. CTI – …") are common to it.
    """

    def __init__(self, corpus: Corpus) -> None:
        self.patterns = _patterns(corpus.vocabulary)
        self._seen: dict[str, list[tuple[int, int, str]]] = {}
        texts: dict[SectionKey, list[str]] = {}
        for chunk in _chunks(corpus):
            texts.setdefault(_key(chunk), []).append(chunk.text)
        self.section_methods = {key: self.named(" ".join(parts)) for key, parts in texts.items()}
        self.offered: dict[str, list[str]] = {}  # scope of a municipality -> the methods its documents offer
        for _, scopes, units in _municipal_units(corpus, ()):
            offered = [m for m in corpus.vocabulary.methods if offer_unit(m, units, self)]
            self.offered |= dict.fromkeys(scopes, offered)
        self.described = sorted(  # methods the national sources give a section of their own
            {
                m
                for (_, path), scope in _section_scopes(corpus).items()
                if scope == NATIONAL
                if (m := self.own_section(path))
            }
        )
        self.common: dict[str, set[SectionKey]] = {}
        for method, (doc_id, parent) in self._method_parents():
            self.common.setdefault(method, set()).update(
                key
                for key in texts
                if key[0] == doc_id
                and (key[1] == parent or key[1].startswith(parent + SEPARATOR))
                and not self.mentions(key[1][len(parent) :])
            )

    def _method_parents(self) -> set[tuple[str, SectionKey]]:
        """Each method with the section its own sections hang under ("4. De specialiserede støttemetoder")."""
        parents = set()
        for doc_id, path in self.section_methods:
            parts = path.split(SEPARATOR)
            for i, part in enumerate(parts[1:], start=1):
                named = self.named(part)
                if len(named) == 1:
                    parents.add((named[0], (doc_id, SEPARATOR.join(parts[:i]))))
                    break
        return parents

    def mentions(self, text: str) -> list[tuple[int, int, str]]:
        """Every naming of a method: (start, end, method), in order (remembered: a table asks about a unit often)."""
        found = self._seen.get(text)
        if found is None:
            found = self._seen[text] = _mentions(text, self.patterns)
        return found

    def named(self, text: str) -> list[str]:
        """The methods named, each once, in order of first naming."""
        return _named(self.mentions(text))

    def unnamed(self, text: str) -> str:
        """The text without its namings of methods."""
        for start, end, _ in reversed(self.mentions(text)):
            text = text[:start] + text[end:]
        return text

    def subject(self, text: str) -> str | None:
        """The method a text is about: the one named first, unless it opens an enumeration of several."""
        mentions = self.mentions(text)
        if not mentions:
            return None
        first = mentions[0][2]
        previous_end = mentions[0][1]
        for start, end, name in mentions[1:]:
            if name != first:
                return None if ENUMERATION_GAP.fullmatch(text[previous_end:start]) else first
            previous_end = end
        return first

    def own_section(self, section: str) -> str | None:
        """The method whose own section this is ("4.3. CTI – Critical Time Intervention › …"), if any."""
        named = self.named(section)
        return named[0] if len(named) == 1 else None

    def about(self, unit: Unit, method: str) -> bool:
        """Whether a unit is about the method (see the class); a unit that is only a name is about nothing."""
        if PLURAL.search(unit.text) or not WORD.search(self.unnamed(unit.text)):
            return False
        if self.mentions(unit.text) and not BACK_REFERENCE.match(unit.text):
            return self.subject(unit.text) == method
        paragraph = _paragraph(unit)
        if self.mentions(paragraph):
            return self.subject(paragraph) == method
        chunk = unit.chunk
        return (
            self.own_section(chunk.section) == method
            or self.section_methods.get(_key(chunk)) == [method]
            or (not self.section_methods.get(_key(chunk)) and self.offered.get(chunk.scope) == [method])
        )

    def common_to(self, unit: Unit, method: str) -> bool:
        """Whether a unit describes the methods in common: in a section beside the method's, naming no other alone."""
        named = self.named(unit.text)
        in_common = _key(unit.chunk) in self.common.get(method, set())
        return in_common and self.subject(unit.text) is None and (not named or method in named)


@lru_cache(maxsize=4)
def method_names(corpus: Corpus) -> MethodNames:
    """The method names of a corpus, learned once per opened index."""
    return MethodNames(corpus)


def _key(chunk: Chunk) -> SectionKey:
    return (chunk.doc_id, chunk.section)


def _paragraph(unit: Unit) -> str:
    """The line of the chunk the unit starts in."""
    text = unit.chunk.text
    start = text.rfind("\n", 0, unit.start) + 1
    end = text.find("\n", unit.start)
    return text[start : end if end >= 0 else len(text)]


Patterns = tuple[tuple[str, re.Pattern[str]], ...]


def _patterns(vocabulary: Vocabulary) -> Patterns:
    return _compiled(tuple((name, tuple(aliases)) for name, aliases in vocabulary.methods.items()))


@lru_cache(maxsize=8)
def _compiled(methods: tuple[tuple[str, tuple[str, ...]], ...]) -> Patterns:
    compiled = []
    for name, aliases in methods:
        long_names = "".join(f"|(?i:(?<!\\w){re.escape(a)}(?!\\w))" for a in aliases)
        compiled.append((name, re.compile(rf"(?<![\w-]){re.escape(name)}(?!\w){long_names}")))
    return tuple(compiled)


def _mentions(text: str, patterns: Patterns) -> list[tuple[int, int, str]]:
    return sorted((m.start(), m.end(), name) for name, pattern in patterns for m in pattern.finditer(text))


def _named(mentions: Iterable[tuple[int, int, str]]) -> list[str]:
    return list(dict.fromkeys(name for _, _, name in mentions))


def comparison_aspects(analysis: Analysis, settings: Settings) -> list[Aspect]:
    """The aspects to compare: those the question names, else the default set (label, search words)."""
    named = [
        (label, words)
        for label, words in settings.comparison_aspects
        if set(terms(f"{label} {words}")) & analysis.terms
    ]
    return named or list(settings.comparison_aspects)


def named_aspects(names: Iterable[str], settings: Settings) -> list[Aspect]:
    """The aspects a user named: a configured aspect its label (or a word of it) names, else a free-text row."""
    aspects: list[Aspect] = []
    for name in names:
        wanted = set(terms(name))
        known = next(
            (
                (label, words)
                for label, words in settings.comparison_aspects
                if name.strip().casefold() == label.casefold() or (wanted and wanted <= set(terms(label)))
            ),
            None,
        )
        aspects.append(known or (" ".join(name.split()), ""))
    return list(dict.fromkeys(aspects))


def resolve_methods(names: Iterable[str], vocabulary: Vocabulary) -> list[str]:
    """The index's spelling of the methods named ("cti", "Critical Time Intervention" → CTI).

    Raises:
        ValueError: a name the index does not know (the message lists the known methods).
    """
    known = {name.casefold(): name for name in vocabulary.methods}
    known |= {alias.casefold(): name for name, aliases in vocabulary.methods.items() for alias in aliases}
    resolved = []
    for name in names:
        method = known.get(" ".join(name.split()).casefold())
        if method is None:
            known_names = ", ".join(vocabulary.methods)
            raise ValueError(f"Metoden '{name}' findes ikke i kilderne. Kendte metoder: {known_names}.")
        resolved.append(method)
    return list(dict.fromkeys(resolved))


def method_table(
    corpus: Corpus,
    settings: Settings,
    methods: Sequence[str] = (),
    aspects: Sequence[Aspect] = (),
    scopes: Sequence[str] = (),
    passages: Sequence[Passage] = (),
    *,
    offered: bool = True,
    per_cell: int | None = None,
) -> MethodTable:
    """Compare methods (default: all the index knows) aspect by aspect (default: ``comparison_aspects``).

    ``scopes`` restricts the sources (and the municipalities of "Tilbydes i");
    ``passages`` are numbered first (a chat answer's retrieved passages);
    ``per_cell`` is how many units a cell quotes at most (default ``cell_units``).
    """
    methods = tuple(methods or corpus.vocabulary.methods)
    names = method_names(corpus)
    cell_settings = settings.updated(answer_max_sentences=per_cell or settings.cell_units)
    numbering = Numbering(passages)
    rows = []
    for aspect in aspects or settings.comparison_aspects:
        scored = aspect_units(aspect, corpus, settings, scopes)
        units = [cell_units(m, scored, cell_settings, names) for m in methods]
        rows.append((aspect[0], tuple(_quote(numbering, u) for u in units)))
    offer_rows = tuple(
        (name, tuple(_quote(numbering, offer_unit(m, units, names)) for m in methods))
        for name, _, units in (_municipal_units(corpus, scopes) if offered else [])
    )
    return MethodTable(
        methods, tuple(rows), offer_rows, tuple(numbering.citations), tuple(numbering.passages), tuple(scopes)
    )


def _quote(numbering: Numbering, units: Iterable[Unit]) -> Cell:
    return tuple(Quote(numbering.cite(unit), unit) for unit in units)


def aspect_units(aspect: Aspect, corpus: Corpus, settings: Settings, scopes: Sequence[str]) -> list[ScoredUnit]:
    """The units of the passages retrieved for an aspect that cover enough of it, best first.

    The aspect's words are searched, and units are ranked by their share of
    them (an aspect is a row of words, not a question the answer model knows).
    A unit covers the aspect by its own words, or by its section's heading
    ("4.4.1. ICM-metodens formål og værdigrundlag" covers
    "formål" for every sentence under it). Units cut off by a chunk boundary
    are left out.
    """
    words = aspect[1] or aspect[0]
    analysis = replace(analyze(words, corpus.vocabulary), kind="open")
    passages = corpus.search(words, settings.comparison_k, Filters(scopes=tuple(scopes)))
    headed = {
        p.chunk.section: coverage(
            analysis.terms, frozenset(terms(p.chunk.section.split(SEPARATOR)[-1])), corpus.idf, settings
        )
        for p in passages
    }
    return [
        s
        for s in lexical_units(analysis, passages, corpus, settings)
        if max(s.coverage, headed[s.unit.chunk.section]) >= settings.cell_min_coverage and not _cut_off(s.unit)
    ]


def cell_units(method: str, scored: Sequence[ScoredUnit], settings: Settings, names: MethodNames) -> list[Unit]:
    """The best units (at most ``answer_max_sentences``) about one method among an aspect's scored units.

    The first unit comes from the method's own sections when one of them covers
    the aspect; the others are the next best anywhere (at least
    ``answer_keep_share`` of the first's score and of its share of the aspect's
    words, no near-duplicates). Only when no unit about the method covers the
    aspect are units common to it and its siblings quoted.
    """
    ranked = [s for s in scored if names.about(s.unit, method)]
    if not ranked:
        ranked = [s for s in scored if names.common_to(s.unit, method)]
    if not ranked:
        return []
    first = next((s for s in ranked if names.own_section(s.unit.chunk.section) == method), ranked[0])
    chosen = select_units([first, *(s for s in ranked if s is not first)], settings)
    floor = settings.answer_keep_share * first.coverage
    return [first.unit, *(s.unit for s in chosen[1:] if s.coverage >= floor)]


def _cut_off(unit: Unit) -> bool:
    """A sentence the chunk boundary cut: it ends the chunk, not a bullet, without closing punctuation."""
    text = unit.chunk.text
    start, end = unit.spans[-1]
    line = text[text.rfind("\n", 0, start) + 1 : end]
    ends_chunk = end >= len(text.rstrip())
    return ends_chunk and not line.rstrip().endswith(CLOSING) and not BULLET.match(line) and not is_fragment(line)


def _section_scopes(corpus: Corpus) -> dict[SectionKey, str]:
    return {_key(chunk): chunk.scope for chunk in _chunks(corpus)}


def _chunks(corpus: Corpus) -> list[Chunk]:
    """Every indexed chunk in document order."""
    return sorted(corpus.searcher.catalog.chunks.values(), key=lambda c: (c.doc_id, c.start))


def _municipal_units(corpus: Corpus, scopes: Sequence[str]) -> list[tuple[str, list[str], list[Unit]]]:
    """Each municipality in the index (within ``scopes``): its name, its scopes and its documents' units in order."""
    vocabulary = corpus.vocabulary
    chunks = _chunks(corpus)
    found = []
    for name, own in vocabulary.municipalities.items():
        if scopes and not set(own) & set(scopes):
            continue
        units = [u for c in chunks if c.scope in own for u in chunk_units(c)]
        found.append((vocabulary.scope_names.get(own[0], f"{name} Kommune") if own else name, own, units))
    return found


def offer_unit(method: str, units: Sequence[Unit], names: MethodNames) -> list[Unit]:
    """The unit that offers the method (naming it with a verb of offering), fewest other methods first; or none."""
    offers = [(len(names.named(u.text)), i, u) for i, u in enumerate(units) if OFFER_CUE.search(u.text)]
    offers = [o for o in offers if method in names.named(o[2].text)]
    return [min(offers, key=lambda o: o[:2])[2]] if offers else []


def compare(analysis: Analysis, passages: Sequence[Passage], corpus: Corpus, settings: Settings) -> Draft | None:
    """A chat answer comparing the named methods aspect by aspect, each cell a cited unit (or empty)."""
    if len(analysis.methods) < 2:
        return None
    table = method_table(
        corpus,
        settings,
        analysis.methods,
        comparison_aspects(analysis, settings),
        corpus.scopes_of(analysis.municipalities),
        passages,
        offered=False,
        per_cell=1,
    )
    table = replace(table, rows=tuple((label, cells) for label, cells in table.rows if any(cells)))
    if not table.rows:
        return None
    lines = [
        f"{label.capitalize()}:\n"
        + "\n".join(f"- {m}: {cell_text(c)}" for m, c in zip(table.methods, cells, strict=True) if c)
        for label, cells in table.rows
    ]
    return Draft("\n".join(lines), table.citations, table.passages, "comparison", table.table())
