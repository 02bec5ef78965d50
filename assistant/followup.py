"""Rewrite elliptical follow-up questions into standalone ones, without a language model.

The entities come from the index's vocabulary (the methods its headings name,
the municipalities its documents are issued by), never from a list in code. A
follow-up either swaps one of them ("Og i ICM?", "Hvad med Aarhus?") or leaves
it implicit ("Hvor længe varer den?"); both are resolved from the previous turn:
its standalone question first, then the entities its answer named (a question
"Hvilken metode bruger Norddjurs?" answered with CTI makes "den" mean CTI).
A follow-up that names nothing and swaps nothing ("og hvis han får en lang dom?")
carries the previous question's subject words along.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.answering.question import ORDINALS
from ingest.text import STOPWORDS
from ingest.vocabulary import Vocabulary

Exchange = tuple[str, str]  # (standalone question, answer text) of an earlier turn

_CONNECTIVES = r"og|men|hvad med|hvad så med|hvad hvis|og hvis|hvis|and|but|what about|how about"
_CONNECTIVE = re.compile(rf"^\s*(?:{_CONNECTIVES})\b", re.IGNORECASE)
# "Og i ICM?", "Hvad med Aarhus?": a connective, a preposition, then the rest.
_SWAP = re.compile(
    rf"^\s*(?:{_CONNECTIVES})\s+(?:(?:i|for|ved|hos|om|in|at)\s+)?(?P<rest>[^?.!]*?)\s*[?.!]*\s*$",
    re.IGNORECASE,
)
# Words that point back to something named earlier. "det" is too often an article ("det første princip")
# and counts only as a pronoun: before a preposition or at the end ("trådte det i kraft", "hvad koster det?").
_REFERRING = re.compile(
    r"\b(?:den|dem|deres|dens|denne|dette|disse|der|han|hun|ham|hende|kommunen|metoden|teamet|forløbet|"
    r"støtten|it|they|them|its|there|he|she)\b"
    r"|\bdet(?=\s+(?:i|på|til|for|med|om|af|ud|igen|også|så|pr|per)\b|\s*[?.!]*\s*$)",
    re.IGNORECASE,
)
_SHORT_WORDS = 4
# "§ 85 a", "85a": the rule a question is about; a bare "§" also makes a question self-contained.
_RULE_SUBJECT = re.compile(r"§*\s?\b\d+\s?[a-z]?\b")
_RULE_REFERENCE = re.compile(rf"§|{_RULE_SUBJECT.pattern}")
_CARRIED_WORDS = 6
_STEM = 4
_FILLER = re.compile(r"\b(?:og|and|kommune|kommunes|municipality|så|then)\b|[,\s–-]", re.IGNORECASE)


def _patterns(vocabulary: Vocabulary) -> dict[str, dict[str, str]]:
    """Per kind of entity: name → pattern (a prefixed variant like M-ACT is not its base ACT)."""
    return {
        "method": {name: rf"(?<![\w-]){re.escape(name)}(?![\w])" for name in vocabulary.methods},
        "municipality": {name: rf"\b{re.escape(name)}\w*" for name in vocabulary.municipalities},
    }


def entities(text: str, vocabulary: Vocabulary) -> dict[str, list[str]]:
    """The methods and municipalities named in a text, by kind, in order of appearance."""
    found: dict[str, list[str]] = {}
    for kind, patterns in _patterns(vocabulary).items():
        hits = sorted(
            (match.start(), name)
            for name, pattern in patterns.items()
            for match in re.finditer(pattern, text, re.IGNORECASE)
        )
        names = list(dict.fromkeys(name for _, name in hits))
        if names:
            found[kind] = names
    return found


def _is_elliptical(question: str, previous: str, named: dict[str, list[str]]) -> bool:
    if _CONNECTIVE.match(question):
        return True
    if named or _RULE_REFERENCE.search(question):  # "klagefrist 85a?" names its own subject
        return False
    return bool(_REFERRING.search(question)) or len(question.split()) <= _SHORT_WORDS or _narrows(question, previous)


def _content_words(text: str) -> list[str]:
    """The words of a text that say what it is about (no stopwords, no short words), as written."""
    return [w for w in re.findall(r"[^\W\d_][\w-]+", text) if w.lower() not in STOPWORDS and len(w) > 2]


def _narrows(question: str, previous: str) -> bool:
    """Whether the question only narrows the previous one: its every word is one of it, or an ordinal.

    "Hvad er det første princip?" after "Hvor mange principper har de nationale retningslinjer?"
    asks about the same principles.
    """
    words = [w.lower() for w in _content_words(question) if w.lower() not in ORDINALS]
    earlier = [w.lower() for w in _content_words(previous)]
    return bool(words) and all(any(_same_stem(w, e) for e in earlier) for w in words)


def _same_stem(word: str, other: str) -> bool:
    shorter, longer = sorted((word, other), key=len)
    return longer.startswith(shorter[: max(_STEM, len(shorter) - 2)])


def _swapped(question: str, vocabulary: Vocabulary) -> dict[str, list[str]] | None:
    """The entities of a pure swap question ("Og i ICM?"), or None if it says more."""
    match = _SWAP.match(question)
    if not match:
        return None
    rest = match["rest"]
    named = entities(rest, vocabulary)
    for patterns in _patterns(vocabulary).values():
        for pattern in patterns.values():
            rest = re.sub(pattern, "", rest, flags=re.IGNORECASE)
    return named if named and not _FILLER.sub("", rest) else None


def _with_context(question: str, context: list[str]) -> str:
    """Add the carried words in parentheses before the final punctuation."""
    body = question.rstrip().rstrip("?.!").rstrip()
    end = question.rstrip()[len(body) :].strip() or "?"
    return f"{body} ({', '.join(context)}){end}"


def _subject_words(previous: str, question: str) -> list[str]:
    """The previous question's content words that the follow-up does not repeat."""
    asked = {w.lower() for w in re.findall(r"\w+", question)}
    words = [w for w in _content_words(previous) if w.lower() not in asked]
    rules = [" ".join(m.group(0).split()) for m in _RULE_SUBJECT.finditer(previous)]  # "hvad er 85a" → 85a
    return list(dict.fromkeys(rules + words))[:_CARRIED_WORDS]


def rewrite(question: str, history: Sequence[Exchange], vocabulary: Vocabulary) -> str:
    """A standalone form of ``question`` given the conversation's earlier turns (oldest first).

    Each earlier turn's question is already standalone, so context carries over
    several turns. A self-contained question is returned unchanged.
    """
    question = question.strip()
    turns = [(q.strip(), a) for q, a in history if q.strip()]
    if not turns:
        return question
    previous, previous_answer = turns[-1]
    named = entities(question, vocabulary)
    if not _is_elliptical(question, previous, named):
        return question
    before = entities(previous, vocabulary)
    for kind, names in entities(previous_answer, vocabulary).items():
        if kind not in before and len(names) == 1:
            before[kind] = names
    swap = _swapped(question, vocabulary)
    if swap is not None:
        rewritten, extra = previous, []
        patterns = _patterns(vocabulary)
        for kind, names in swap.items():
            replacement = " og ".join(names)
            in_previous = [n for n in before.get(kind, []) if re.search(patterns[kind][n], rewritten, re.I)]
            if in_previous:
                pattern = "|".join(patterns[kind][name] for name in in_previous)
                rewritten = re.sub(pattern, replacement, rewritten, flags=re.IGNORECASE)
            else:
                extra.append(replacement)
        return _with_context(rewritten, extra) if extra else rewritten
    carried = [name for kind, names in before.items() if kind not in named for name in names]
    if not carried or _CONNECTIVE.match(question):
        carried += [w for w in _subject_words(previous, question) if w not in carried]
    return _with_context(question, carried) if carried else question
