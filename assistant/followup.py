"""Rewrite elliptical follow-up questions into standalone ones, without a language model.

A conversation about Housing First mostly moves between the support methods
(CTI, ICM, ACT, M-ACT) and the municipalities (Norddjurs, Aarhus). A follow-up
either swaps one of them ("Og i ICM?", "Hvad med Aarhus?") or leaves it implicit
("Hvor længe varer den?"); both are resolved from the earlier questions.
"""

from __future__ import annotations

import re

# Each kind of entity: canonical name -> pattern. M-ACT is matched before ACT.
ENTITIES: dict[str, dict[str, str]] = {
    "method": {
        "M-ACT": r"\bM-ACT\b",
        "ACT": r"(?<!M-)\bACT\b",
        "CTI": r"\bCTI\b",
        "ICM": r"\bICM\b",
    },
    "municipality": {
        "Norddjurs": r"\bNorddjurs\b",
        "Aarhus": r"\b(?:Aarhus|Århus)\b",
    },
}

# Openings that mark a question as continuing the previous one.
_CONNECTIVE = re.compile(r"^\s*(?:og|men|hvad med|hvad så med|and|but|what about)\b", re.IGNORECASE)
# "Og i ICM?", "Hvad med Aarhus?": a connective, a preposition, only entities.
_SWAP = re.compile(
    r"^\s*(?:og|men|hvad med|hvad så med|and|but|what about)\s+(?:(?:i|for|ved|hos|om|in|for|at)\s+)?"
    r"(?P<rest>[^?.!]*?)\s*[?.!]*\s*$",
    re.IGNORECASE,
)
# Words that point back to something named earlier ("det"/"de" are too often articles).
_REFERRING = re.compile(
    r"\b(?:den|dem|deres|dens|denne|dette|disse|kommunen|metoden|teamet|forløbet|it|they|them|its|there)\b",
    re.IGNORECASE,
)
_SHORT_WORDS = 4


def entities(text: str) -> dict[str, list[str]]:
    """The methods and municipalities named in a text, by kind, in order of appearance."""
    found: dict[str, list[str]] = {}
    for kind, patterns in ENTITIES.items():
        hits = sorted(
            (match.start(), name)
            for name, pattern in patterns.items()
            for match in re.finditer(pattern, text, re.IGNORECASE)
        )
        names = list(dict.fromkeys(name for _, name in hits))
        if names:
            found[kind] = names
    return found


def _is_elliptical(question: str, named: dict[str, list[str]]) -> bool:
    if _CONNECTIVE.match(question):
        return True
    if named:
        return False
    return bool(_REFERRING.search(question)) or len(question.split()) <= _SHORT_WORDS


def _swapped(question: str) -> dict[str, list[str]] | None:
    """The entities of a pure swap question ("Og i ICM?"), or None if it says more."""
    match = _SWAP.match(question)
    if not match:
        return None
    rest = match["rest"]
    named = entities(rest)
    for patterns in ENTITIES.values():
        for pattern in patterns.values():
            rest = re.sub(pattern, "", rest, flags=re.IGNORECASE)
    leftover = re.sub(r"\b(?:og|and|kommune)\b|[,\s–-]", "", rest, flags=re.IGNORECASE)
    return named if named and not leftover else None


def _with_context(question: str, context: list[str]) -> str:
    """Add the carried entities in parentheses before the final punctuation."""
    body = question.rstrip().rstrip("?.!").rstrip()
    end = question.rstrip()[len(body) :].strip() or "?"
    return f"{body} ({', '.join(context)}){end}"


def _rewrite_one(question: str, previous: str) -> str:
    named = entities(question)
    if not previous or not _is_elliptical(question, named):
        return question
    before = entities(previous)
    swap = _swapped(question)
    if swap is not None:
        rewritten, extra = previous, []
        for kind, names in swap.items():
            replacement = " og ".join(names)
            if kind in before:
                pattern = "|".join(ENTITIES[kind][name] for name in before[kind])
                rewritten = re.sub(pattern, replacement, rewritten, flags=re.IGNORECASE)
            else:
                extra.append(replacement)
        return _with_context(rewritten, extra) if extra else rewritten
    carried = [name for kind, names in before.items() if kind not in named for name in names]
    return _with_context(question, carried) if carried else question


def rewrite(question: str, history: list[str]) -> str:
    """A standalone form of ``question`` given the earlier questions of the conversation.

    Each earlier question is first made standalone itself, so context carries
    over several turns. A self-contained question is returned unchanged.
    """
    previous = ""
    for earlier in history:
        if earlier.strip():
            previous = _rewrite_one(earlier.strip(), previous)
    return _rewrite_one(question.strip(), previous)
