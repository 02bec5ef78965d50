"""Lexical match of question terms and a text: IDF-weighted coverage, Danish compounds counted partly."""

from __future__ import annotations

from assistant.answering.question import NUMBER_WORDS
from hfa_settings import Settings
from ingest.text import terms

# A small number typed as a digit meets the word the documents spell it with ("8 kerneprincipper").
SPELLED = {str(n): term for word, n in NUMBER_WORDS.items() for term in terms(word)}


def term_match(question_term: str, unit_terms: frozenset[str], settings: Settings) -> float:
    """1 for the same term (or "8" for "otte"), partial credit when one is a compound part of the other."""
    if question_term in unit_terms or SPELLED.get(question_term) in unit_terms:
        return 1.0
    for term in unit_terms:
        shorter, longer = sorted((question_term, term), key=len)
        if len(shorter) >= settings.compound_min_part and (longer.startswith(shorter) or longer.endswith(shorter)):
            return settings.compound_credit
    return 0.0


def coverage(
    question_terms: frozenset[str], unit_terms: frozenset[str], idf: dict[str, float], settings: Settings
) -> float:
    """IDF-weighted share of the question's terms that the unit contains."""
    default = max(idf.values(), default=1.0)
    weights = {t: idf.get(t, default) for t in question_terms}
    total = sum(weights.values())
    if not total:
        return 0.0
    return sum(w * term_match(t, unit_terms, settings) for t, w in weights.items()) / total
