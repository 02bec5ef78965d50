"""National guidance beside local rules: an answer's citations by who issued them, and where they differ (pure).

Shown when an answer cites both national and local sources, or its question
names a municipality: one side per scope ("National vejledning", "Norddjurs
Kommune" — names from the vocabulary), and where they differ: the methods
the national sources describe against those the municipality offers, and
durations the quotes state that have nothing in common (a phase of
"3 måneder" beside "9 måneder" in all is no difference).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.answer import Answer, Citation
from assistant.answering.question import NUMBER_WORDS as SPOKEN_NUMBERS
from assistant.answering.values import VALUE_PATTERNS
from assistant.comparison import CLOSING, MethodNames
from assistant.comparison_export import danish_list
from ingest.vocabulary import NATIONAL, Vocabulary

NATIONAL_NAME = "National vejledning"
NUMBER_WORDS = {"en": "1", **{word: str(n) for word, n in SPOKEN_NUMBERS.items()}}


@dataclass(frozen=True)
class Side:
    """One scope's part of an answer: its name and the citations from its sources.

    ``numbered`` is False when the citations come from a separate answer
    restricted to the scope (the answer itself cited nothing from it), so their
    ``[n]`` are not the answer's.
    """

    scope: str
    name: str
    citations: tuple[Citation, ...]
    numbered: bool = True

    def quotes(self) -> list[tuple[int, str, Citation]]:
        """Each cited passage once: its number, its quotes joined ("heading: sentence"), its first citation."""
        grouped: dict[int, list[Citation]] = {}
        for citation in self.citations:
            grouped.setdefault(citation.n, []).append(citation)
        return [(n, _joined([c.quote for c in cited]), cited[0]) for n, cited in grouped.items()]


def _joined(quotes: Sequence[str]) -> str:
    """Quotes of one passage as one line; a heading without closing punctuation is followed by a colon."""
    text = ""
    for quote in (" ".join(q.split()) for q in quotes):
        text = f"{text}{': ' if text and not text.endswith(CLOSING) else ' ' if text else ''}{quote}"
    return text


def without_municipalities(question: str, municipalities: Sequence[str]) -> str:
    """The question without the municipalities it names ("Hvor længe varer CTI i Norddjurs?" → "… varer CTI?").

    Asked of the national sources, it finds what they say on the same matter.
    """
    for name in municipalities:
        question = re.sub(
            rf"(?:\s+(?:i|fra|hos|for|på))?\s*\b{re.escape(name)}s?(?:\s+kommunes?)?\b", "", question, flags=re.I
        )
    return " ".join(question.split()).replace(" ?", "?")


def scope_name(scope: str, vocabulary: Vocabulary) -> str:
    """How a scope is named beside the others ("National vejledning", "Norddjurs Kommune")."""
    return NATIONAL_NAME if scope == NATIONAL else vocabulary.scope_names.get(scope, scope)


def sides(
    answer: Answer, vocabulary: Vocabulary, municipalities: Sequence[str] = (), national: Answer | None = None
) -> list[Side]:
    """National and local citations side by side (national first), or none when the answer is not both.

    ``municipalities`` are those the question names: their sides are shown even
    when the answer cites nothing of theirs, and then the national side too —
    from ``national`` (the question answered from national sources only) when
    the answer itself cites none.
    """
    named = [s for m in municipalities for s in vocabulary.municipalities.get(m, [])]
    scopes = list(dict.fromkeys([*answer.by_scope, *named]))
    if NATIONAL not in scopes and named:
        scopes.insert(0, NATIONAL)
    if NATIONAL not in scopes or len(scopes) < 2:
        return []
    scopes.sort(key=lambda s: s != NATIONAL)
    found = []
    for scope in scopes:
        citations = tuple(c for c in answer.citations if c.chunk.scope == scope)
        separate = scope == NATIONAL and not citations and national is not None and not national.refused
        if separate and national is not None:
            citations = tuple(c for c in national.citations if c.chunk.scope == NATIONAL)
        found.append(Side(scope, scope_name(scope, vocabulary), citations, numbered=not separate))
    return found


def _durations(citations: Sequence[Citation]) -> list[str]:
    """The durations the quotes state, numbers written as digits ("ni måneder" → "9 måneder")."""
    found = []
    for citation in citations:
        for match in VALUE_PATTERNS["duration"].finditer(citation.quote):
            words = match.group(0).lower().split()
            found.append(" ".join(NUMBER_WORDS.get(w, w) for w in words))
    return list(dict.fromkeys(found))


def differences(found: Sequence[Side], names: MethodNames) -> list[str]:
    """Where a local side differs from the national one: other methods, or durations with nothing in common.

    The methods are what the sources say, not only what this answer quotes: the
    national sources describe the methods they give a section each; a
    municipality offers those its own documents offer (the "Tilbydes i" row).
    """
    if not found or found[0].scope != NATIONAL:
        return []
    national_durations = _durations(found[0].citations)
    notes = []
    for local in found[1:]:
        offered = names.offered.get(local.scope, [])
        if names.described and offered and set(offered) != set(names.described):
            notes.append(
                f"{NATIONAL_NAME} beskriver {danish_list(names.described)}; "
                f"{local.name} tilbyder {danish_list(offered)}."
            )
        durations = _durations(local.citations)
        if national_durations and durations and not set(durations) & set(national_durations):
            notes.append(
                f"Varighed: {NATIONAL_NAME} {danish_list(national_durations)}; {local.name} {danish_list(durations)}."
            )
    return notes
