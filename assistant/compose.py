"""Compose the extractive answer in the form the question asks (pure, over the index's chunks).

- ``list``: a whole list — a section outline (a heading's direct sub-headings,
  e.g. 2 → 2.1…2.8) or a run of bullets/"Fase N:" lines, also across chunks of
  one section — every item cited;
- ``comparison``: a table, one column per named method (or municipality), one
  row per aspect, one cited unit per cell, empty where the sources are silent;
- an ordinal ("det første kerneprincip"): that item of the list, with its heading;
- ``section``: the heading a "hvilket afsnit …?" question asks for (with its
  outline for "hvad indeholder kapitel 4?");
- ``value``: a lead line quoting the asked value (deadline, duration, count,
  date, amount, contact) verbatim from a cited unit, then the units;
- otherwise the best units (sentences, heading with text, label blocks, lists).

Whether to answer, show the nearest passages or say the sources are silent is
decided by :mod:`assistant.answering.outcome`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from assistant.answering.matching import coverage, term_match
from assistant.answering.model import AnswerModel, load_model
from assistant.answering.outcome import NEAREST, NOT_COVERED, confidence, decide, nearest_units, silent
from assistant.answering.question import MEANING_CUE, NUMBER_WORDS, ORDINALS, Analysis
from assistant.answering.scoring import ScoredUnit, overlapping, score_units, select_units
from assistant.answering.values import value_span
from assistant.comparison import compare
from assistant.corpus import Corpus
from assistant.drafting import Draft, Numbering, shown
from assistant.retrieval import Passage
from assistant.units import Unit, bullets, chunk_units, continued, heading_span, whole_section
from hfa_settings import Settings
from ingest.documents import Chunk
from ingest.text import terms

MIN_LIST_ITEMS = 2
NUMBER_TERMS = frozenset(terms(" ".join(NUMBER_WORDS)))
ORDINAL_TERMS = frozenset(terms(" ".join(ORDINALS)))
CONTENTS_CUE = re.compile(r"\b(indeholder|indhold|contains?|what is in)\b", re.I)
SECTION_TERMS = frozenset(terms("afsnit afsnittet kapitel kapitlet section chapter manual manualen"))
# Questions answered with an explanation, whose lead sentence comes with the one after it.
EXPLAINED_KINDS = ("definition", "open", "rule")
NUMBERED = re.compile(r"^(?:\d+\.)+\s|^\w+\s\d+\b")


def compose(
    analysis: Analysis,
    passages: Sequence[Passage],
    corpus: Corpus,
    settings: Settings,
    model: AnswerModel | None = None,
) -> Draft:
    """The extractive answer to an analysed question from its retrieved passages, with its outcome."""
    if silent(analysis, passages, settings):
        return Draft("", (), tuple(passages), "refusal", outcome=NOT_COVERED, confidence=0.0)
    model = model or load_model()
    scored = score_units(analysis, passages, corpus, settings, model)
    draft = answer_draft(analysis, scored, passages, corpus, settings)
    estimate = confidence(analysis, scored, passages, draft, corpus, model, settings)
    if decide(estimate, settings) == NEAREST:
        return replace(nearest_draft(draft, scored, settings), confidence=estimate)
    return replace(draft, confidence=estimate)


def nearest_draft(draft: Draft, scored: Sequence[ScoredUnit], settings: Settings) -> Draft:
    """What the sources say nearest, not claimed to answer.

    The would-be answer's quotes, then the best unit of each of the best
    passages it does not quote. A comparison stays its table of cited cells
    (each cell is a quote already), only no longer claimed as the answer.
    """
    if draft.table is not None:
        return replace(draft, outcome=NEAREST)
    numbering = Numbering.continuing(draft)
    quoted = {c.chunk.chunk_id for c in draft.citations}
    # A value lead ("03-04-2024 [1]") would claim what nearest does not: its unit follows it anyway.
    lines = draft.text.splitlines()[1 if draft.kind == "value" else 0 :]
    for unit in nearest_units(scored, settings):
        if unit.chunk.chunk_id not in quoted:
            lines.append(f"{shown(unit)} [{numbering.cite(unit)}]")
    # ``kind`` stays the form the sources would answer in; ``outcome`` says it is not claimed as the answer.
    return replace(numbering.draft("\n".join(lines), draft.kind), outcome=NEAREST)


def answer_draft(
    analysis: Analysis, scored: Sequence[ScoredUnit], passages: Sequence[Passage], corpus: Corpus, settings: Settings
) -> Draft:
    """The answer in the form the question asks, from units already scored (also used while training)."""
    if analysis.kind == "comparison":
        draft = compare(analysis, passages, corpus, settings)
        if draft:
            return draft
    if analysis.kind == "section":
        draft = section_answer(analysis, passages, corpus, settings)
        if draft:
            return draft
    if analysis.kind == "list" or analysis.ordinal is not None:
        found = best_list(analysis, scored, corpus, settings, passages)
        if found and analysis.ordinal is not None:
            # "det første kerneprincip" → that item of the list, with the list's heading.
            item = _numbered(*found, analysis.ordinal)
            if item:
                return _listed(found[0], [_with_text(item, settings)], passages)
        elif found:
            return _listed(*found, passages)
    chosen = _about_the_value(analysis, select_units(scored, settings))
    if chosen and (analysis.kind in EXPLAINED_KINDS or MEANING_CUE.search(analysis.question)):
        chosen = _explained(analysis, chosen, settings)
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


def _explained(analysis: Analysis, chosen: Sequence[ScoredUnit], settings: Settings) -> list[ScoredUnit]:
    """The lead with the next sentence of its paragraph, which often says what the lead only names.

    "… kræver en mental omstilling hos de fagprofessionelle" is followed by "En
    omstilling væk fra …": the explanation asked for.
    """
    unit = chosen[0].unit
    whole = whole_section(unit)
    named = unit.kind == "heading" and _names_heading(analysis, unit.quotes()[-2], settings)
    lead = replace(chosen[0], unit=whole if named and len(whole.text) <= settings.row_max_chars else continued(unit))
    rest = [s for s in chosen[1:] if not overlapping(s.unit, lead.unit)]
    return [lead, *rest]


def _names_heading(analysis: Analysis, heading: str, settings: Settings) -> bool:
    """Whether the question names at least half of a heading's terms ("formål med bostøtten" → "Formål")."""
    heading_terms = terms(heading)
    named = sum(any(term_match(q, frozenset([h]), settings) for q in analysis.terms) for h in heading_terms)
    return bool(heading_terms) and named * 2 >= len(heading_terms)


def _about_the_value(analysis: Analysis, chosen: Sequence[ScoredUnit]) -> list[ScoredUnit]:
    """For a value question, the units that hold a value of the asked kind or stand beside the lead one.

    The caseworker asking "klagefrist?" gets the deadline and its rule, not a
    loosely related sentence from another section.
    """
    lead = _value_holder(analysis, chosen)
    if lead is None:
        return list(chosen)
    return [
        s
        for s in chosen
        if s.unit.chunk.chunk_id == lead.unit.chunk.chunk_id or value_span(analysis.value_kind, s.unit)
    ]


def _value_holder(analysis: Analysis, chosen: Sequence[ScoredUnit]) -> ScoredUnit | None:
    """The best-covering chosen unit that holds a value of the asked kind (None when none does or none is asked)."""
    holding = [s for s in chosen if analysis.value_kind and value_span(analysis.value_kind, s.unit)]
    return max(holding, key=lambda s: s.coverage, default=None)


def _value_lead(analysis: Analysis, chosen: Sequence[ScoredUnit], numbering: Numbering) -> str | None:
    """The asked value ("4 uger [1]"), verbatim from the best-covering chosen unit that holds one."""
    best = _value_holder(analysis, chosen)
    if best is None:
        return None
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
    for title, child in corpus.children(key):
        span = heading_span(child, title)
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
    stop = text.rfind(". ", 0, len(text) - 2)
    cut = stop + 2 if stop >= 0 else 0
    return Unit(chunk, "sentence", ((start + cut, end),)) if end > start + cut else None


def _small_number(word: str) -> bool:
    """A count typed in digits ("8 kerneprincipper"), not a § or a year."""
    return word.isdigit() and int(word) < 30


def _announced(text: str) -> int | None:
    """The first small count a text names ("otte kerneprincipper", "8 faser"), spelled or in digits."""
    for word in re.findall(r"\w+", text.lower()):
        if word in NUMBER_WORDS:
            return NUMBER_WORDS[word]
        if _small_number(word):
            return int(word)
    return None


def _matches(analysis: Analysis, item: Unit, settings: Settings) -> bool:
    """Whether a list item names a question term (or a compound part of one: "faser" ~ "Fase")."""
    item_terms = frozenset(terms(item.text))
    return any(term_match(t, item_terms, settings) for t in analysis.terms)


def best_list(
    analysis: Analysis,
    scored: Sequence[ScoredUnit],
    corpus: Corpus,
    settings: Settings,
    passages: Sequence[Passage],
) -> tuple[Unit | None, list[Unit]] | None:
    """The list the question is about (its heading or intro, and its items), from the sections of the best passages."""
    expected = _announced(analysis.question)
    best = max((s.coverage for s in scored), default=0.0)
    # "otte" is answered by eight items and "første" by the first: the words themselves are not looked for.
    asked = frozenset(t for t in analysis.terms - NUMBER_TERMS - ORDINAL_TERMS if not _small_number(t))
    candidates: list[tuple[float, Unit | None, list[Unit]]] = []
    seen: set[tuple[str, str]] = set()
    for rank, passage in enumerate(passages[: settings.list_sections], start=1):
        if analysis.scopes and passage.chunk.scope not in analysis.scopes:
            continue  # a question about a municipality is not answered with another source's list
        key = _section_of(passage.chunk)
        for section in (key, corpus.parent(key)):
            if section is None or section in seen:
                continue
            seen.add(section)
            for head, items in [outline(corpus, section), *bullet_runs(corpus, section, settings.max_list_items)]:
                if len(items) < MIN_LIST_ITEMS:
                    continue
                about = " ".join([section[1], head.text if head else "", *(i.text for i in items)])
                # A list whose every item matches the question ("1. Fase: …") beats one that mentions it once.
                matching = sum(_matches(analysis, i, settings) for i in items) / len(items)
                fit = coverage(asked, frozenset(terms(about)), corpus.idf, settings)
                fit += settings.list_item_weight * matching
                if expected is not None:
                    fit += settings.list_count_weight * (1 if len(items) == expected else -1)
                # A list must answer about as well as the best single unit does, or sentences answer better.
                if fit < settings.list_min_share * best:
                    continue
                candidates.append((fit + 0.2 / rank, head, items))
    if not candidates:
        return None
    score, head, items = max(candidates, key=lambda c: c[0])
    return (head, items) if score >= settings.min_coverage else None


def _listed(head: Unit | None, items: Sequence[Unit], passages: Sequence[Passage]) -> Draft:
    """A list answer: its heading or intro (if any), then the items, every line cited."""
    numbering = Numbering(passages)
    lines = [f"{shown(head)} [{numbering.cite(head)}]"] if head else []
    lines += [f"- {shown(item)} [{numbering.cite(item)}]" for item in items]
    return numbering.draft("\n".join(lines), "list")


def _with_text(item: Unit, settings: Settings) -> Unit:
    """A sub-heading item with the first sentence under it ("2.1. Boligen …: Housing First baserer sig på …")."""
    if item.kind != "heading-only":
        return item
    with_text = [u for u in chunk_units(item.chunk, settings.max_list_items) if u.kind == "heading"]
    return next((u for u in with_text if item.spans[0] in u.spans), item)


def _numbered(head: Unit | None, items: Sequence[Unit], ordinal: int) -> Unit | None:
    """The item numbered ``ordinal`` ("1. Fase", "Fase 1", "2.1."), else the ordinal-th (-1: the last).

    An item that carries the number itself is the one meant, even when the list
    opens with an unnumbered item ("Kontaktskabelsesperiode" before "1. Fase").
    Numbered items without that number are counted by position only when their
    introduction announces exactly as many ("ni principper:" over items 5–13,
    numbered on from an earlier list); otherwise the list in hand is not whole.
    """
    if ordinal > 0:
        own = re.compile(rf"^(?:\d+\.)*{ordinal}\.\s|^\w+\s{ordinal}\b")
        for item in items:
            if own.search(item.text):
                return item
        numbered = sum(bool(NUMBERED.match(item.text)) for item in items) * 2 > len(items)
        if numbered and (head is None or _announced(head.text) != len(items)):
            return None
    index = ordinal - 1 if ordinal > 0 else ordinal
    return items[index] if -len(items) <= index < len(items) else None


# --- headings --------------------------------------------------------------


def section_answer(analysis: Analysis, passages: Sequence[Passage], corpus: Corpus, settings: Settings) -> Draft | None:
    """The heading a "hvilket afsnit …?" or "hvad hedder kapitel 3?" question asks for, cited.

    A numbered section is looked up by its number in the documents retrieved;
    otherwise the heading (at any level of the retrieved passages' section paths)
    whose words best cover the question is given.
    """
    sections = corpus.headed(dict.fromkeys(p.chunk.doc_id for p in passages))
    if analysis.section_number:
        number = re.compile(rf"{re.escape(analysis.section_number)}\.?\s")
        key = next((k for k in sections if number.match(corpus.title(k))), None)
    else:
        # Only words the documents use can meet a heading (not the "about" of an English question).
        asked = frozenset(t for t in analysis.terms - SECTION_TERMS if t in corpus.idf)
        fit = {k: coverage(asked, frozenset(terms(corpus.title(k))), corpus.idf, settings) for k in sections}
        key = max(fit, key=fit.__getitem__, default=None)
        key = key if key is not None and fit[key] >= settings.min_coverage else None
    span = heading_span(sections[key], corpus.title(key)) if key is not None else None
    if key is None or span is None:
        return None
    numbering = Numbering(passages)
    head = Unit(sections[key], "heading-only", (span,))
    lines = [f"{shown(head)} [{numbering.cite(head)}]"]
    if CONTENTS_CUE.search(analysis.question):  # "hvad indeholder kapitel 4": its sub-headings too
        lines += [f"- {shown(item)} [{numbering.cite(item)}]" for item in outline(corpus, key)[1]]
    return numbering.draft("\n".join(lines), "section")
