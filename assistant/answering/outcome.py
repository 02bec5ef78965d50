"""Whether the sources answer a question, and where the asked value stands (pure functions).

The refusal signal separates silence from paraphrase with what the question
itself says rather than one absolute similarity:

- a municipality named that no document is issued by → silent;
- a value asked for ("hvor mange", "telefonnummer", "hvornår") that no unit
  near the top holds → silent;
- otherwise the best units' share of the question's terms (repaired for
  spelling, compounds counted partly), lowered by the share of content words
  the corpus does not know at all; English questions, whose words the Danish
  corpus cannot share, are judged by the dense similarity instead.

The operating points are settings; ``hfa eval`` shows the trade-off curve.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from assistant.question import Analysis, counted_stem
from assistant.retrieval import Passage
from assistant.units import Unit
from hfa_settings import Settings

if TYPE_CHECKING:
    from assistant.extractive import ScoredUnit

_NUMBER = r"(?:\d+(?:[.,]\d+)?(?:\s?[-–]\s?\d+(?:[.,]\d+)?)?|en|et|to|tre|fire|fem|seks|syv|otte|ni|ti|tolv)"
_UNIT_OF_TIME = r"(?:dage|dag|døgn|uger|uge|måneder|måneders|måned|år|timer|time)"
_MONTH = r"(?:januar|februar|marts|april|maj|juni|juli|august|september|oktober|november|december)"
VALUE_PATTERNS: dict[str, re.Pattern[str]] = {
    "duration": re.compile(
        rf"\b(?:{_NUMBER}\s{_UNIT_OF_TIME}|uden tidsbegrænsning|tidsubegrænset|ikke tidsbegrænset)\b", re.I
    ),
    "deadline": re.compile(rf"\b(?:inden|senest|frist\w*(?: på| er)?|within)\s{_NUMBER}\s{_UNIT_OF_TIME}\b", re.I),
    "count": re.compile(rf"\b(?:ca\.\s)?(?!en\b|et\b){_NUMBER}\s(?!{_UNIT_OF_TIME}\b)[a-zæøå]{{3,}}", re.I),
    "date": re.compile(
        rf"\b(?:\d{{1,2}}[-./]\d{{1,2}}[-./]\d{{2,4}}|\d{{1,2}}\.\s{_MONTH}\s\d{{4}}|{_MONTH}\s\d{{4}}|(?:19|20)\d{{2}})\b",
        re.I,
    ),
    "amount": re.compile(r"\b\d+(?:[.,]\d+)*\s?(?:mio\.?\s?kr\.?|mia\.?\s?kr\.?|kr\.?|kroner|procent|%)", re.I),
    "contact": re.compile(r"(?:Telefon:?\s?|Tlf\.?:?\s?)?\b\d{2}\s?\d{2}\s?\d{2}\s?\d{2}\b", re.I),
    "mail": re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+", re.I),
}


def value_span(value_kind: str | None, unit: Unit) -> str | None:
    """The first value of the asked kind in the unit, verbatim (a contact: phone, else mail)."""
    kinds = ["contact", "mail"] if value_kind == "contact" else [value_kind or ""]
    for kind in kinds:
        for quote in unit.quotes():
            found = value_in(kind, quote)
            if found:
                return found
    return None


def value_in(kind: str, text: str) -> str | None:
    """The first value of one kind in a text, verbatim; None for a kind without a pattern."""
    pattern = VALUE_PATTERNS.get(kind)
    match = pattern.search(text) if pattern else None
    return match.group(0).strip() if match else None


def evidence_score(analysis: Analysis, scored: Sequence[ScoredUnit], settings: Settings) -> float:
    """The best units' share of the question, lowered by the share of words the corpus does not know."""
    best = max((s.evidence for s in scored[: settings.evidence_window]), default=0.0)
    content = len(analysis.terms) + len(analysis.unknown)
    unknown_share = len(analysis.unknown) / content if content else 0.0
    return best - settings.unknown_weight * unknown_share


def hard_refusal(analysis: Analysis, scored: Sequence[ScoredUnit], settings: Settings) -> bool:
    """Silent whatever the threshold.

    An uncovered municipality or § named; no units; no unit of the retrieved
    passages with the asked value ("hvor mange dage" needs a number of days); or
    a municipality named whose own documents are not among the passages.
    """
    if analysis.uncovered or not scored:
        return True
    top = scored[: settings.evidence_window]
    if analysis.scopes and not any(s.unit.chunk.scope in analysis.scopes for s in top):
        return True
    if analysis.language == "en":
        # English words cannot be matched in Danish units, but a value asked of a named municipality
        # ("the complaint deadline in Aarhus") must stand in one of its retrieved units.
        local = [s.unit for s in scored if s.unit.chunk.scope in analysis.scopes]
        return bool(analysis.scopes and analysis.value_kind) and not any(
            value_span(analysis.value_kind, unit) for unit in local
        )
    strict = analysis.value_kind in settings.strict_values or analysis.counted is not None
    near = scored[: settings.value_window]
    if analysis.value_kind == "contact":
        # A phone number answers only where its unit names what the question is about ("tlf til
        # ankestyrelsen" is not Norddjurs' contact block).
        near = [s for s in near if s.coverage > 0]
    return strict and not any(_holds_value(analysis, s.unit) for s in near)


def _holds_value(analysis: Analysis, unit: Unit) -> bool:
    """Whether the unit holds the asked value (a count of the asked noun, when the question names one)."""
    if not analysis.counted:
        return value_span(analysis.value_kind, unit) is not None
    stem = counted_stem(analysis.counted)
    return any(re.search(rf"\b{_NUMBER}\s(?:\w+\s)?{re.escape(stem)}", q, re.I) for q in unit.quotes())


def evidence(
    analysis: Analysis, scored: Sequence[ScoredUnit], passages: Sequence[Passage], settings: Settings
) -> float | None:
    """The refusal signal on the ``min_coverage`` scale (None: silent at any threshold).

    English questions are judged by the dense similarity, shifted onto the same scale.
    """
    if hard_refusal(analysis, scored, settings):
        return None
    similarity = max((p.dense or 0.0 for p in passages), default=0.0)
    if analysis.language == "en":
        return settings.min_coverage + similarity - settings.min_similarity_english
    if similarity < settings.min_similarity:
        return None
    return evidence_score(analysis, scored, settings)


def sufficient(signal: float | None, settings: Settings) -> bool:
    """Whether the passages answer the question (False means: say the sources are silent)."""
    return signal is not None and signal >= settings.min_coverage
