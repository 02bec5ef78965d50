"""Danish text helpers shared by chunking, lexical search and sentence scoring."""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_DANISH

# Abbreviations after which a full stop does not end a sentence even before a
# capital ("f.eks. Housing First"). Those that often end one ("kr.", "mv.")
# are left out: before a lower-case word no sentence ends anyway.
ABBREVIATIONS = frozenset("f.eks fx bl.a jf nr ca evt inkl dvs stk s ift ml vha tlf mht iflg hhv sml ang".split())
SENTENCE_BOUNDARY = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][”\")]))\s+(?=[\"”(]?[A-ZÆØÅ0-9§•])|\n+")
# A sentence that would be only a list number ("1." of "• 1. Fase: …").
ORDINAL_ONLY = re.compile(r"^[•\s]*\d{1,2}\.$")
TOKEN = re.compile(r"§+|\d+(?:[.,]\d+)*|[^\W\d_]+", re.UNICODE)
STOPWORDS = frozenset(STOPWORDS_DANISH) | frozenset(
    "hvad hvem hvor hvordan hvilke hvilken hvilket hvornår hvorfor kan skal må the what is are "
    "of in an and or to for does do how which who when why".split()
)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Start/end offsets of the sentences in ``text`` (whitespace excluded).

    A full stop after a known abbreviation ("f.eks.", "bl.a.") or after a list
    number ("1. Fase") does not end a sentence; before a lower-case word none does.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for match in SENTENCE_BOUNDARY.finditer(text):
        before = text[start : match.start()]
        last_word = before.rsplit(maxsplit=1)[-1].rstrip(".").lower() if before.strip() else ""
        inline = "\n" not in match.group(0)
        if inline and (last_word in ABBREVIATIONS or ORDINAL_ONLY.match(before)):
            continue
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    return [(s + _lead(text[s:e]), e - _trail(text[s:e])) for s, e in spans if text[s:e].strip()]


def _lead(segment: str) -> int:
    return len(segment) - len(segment.lstrip())


def _trail(segment: str) -> int:
    return len(segment) - len(segment.rstrip())


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("danish")


def terms(text: str) -> list[str]:
    """Lower-cased, stemmed content words of ``text`` (stopwords removed)."""
    words = [w for w in TOKEN.findall(text.lower()) if w not in STOPWORDS]
    return _stemmer().stemWords(words)
