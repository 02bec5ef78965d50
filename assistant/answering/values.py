"""Where a value of an asked kind (deadline, duration, count, date, amount, contact) stands in a text.

These patterns describe how Danish documents write values, not any document's
content: "inden 4 uger", "ni måneder", "24-04-2024", "1,5 mio. kr.", "89 59 10 00".
"""

from __future__ import annotations

import re

from assistant.answering.question import Analysis, counted_stem
from assistant.units import Unit

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


def holds_value(analysis: Analysis, unit: Unit) -> bool:
    """Whether the unit holds the asked value (a count of the asked noun, when the question names one)."""
    if not analysis.value_kind:
        return False
    if not analysis.counted:
        return value_span(analysis.value_kind, unit) is not None
    stem = counted_stem(analysis.counted)
    return any(re.search(rf"\b{_NUMBER}\s(?:\w+\s)?{re.escape(stem)}", q, re.I) for q in unit.quotes())
