"""Check the [n] citations of a generated answer against the passages the model was given.

Pure functions. A marker must name a given passage (others are removed and
reported); every sentence must carry a marker (the others are listed as
unsupported); a cited sentence must be supported by what it cites, by content,
not syntax (:func:`claim_support`): its cited passages must hold every number,
date, §-reference and name in it and most of its other content words, and say
what it says or its negation alike. The markers of a sentence they do not
support are removed and the sentence is listed as unsupported. Each cited
passage is quoted with its sentence that best matches the generated sentence,
verbatim, so a reader can see what the claim rests on.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from assistant.answer import Citation, source_label
from assistant.answering.matching import term_match
from assistant.answering.question import NUMBER_WORDS as SPOKEN_NUMBERS
from assistant.retrieval import Passage
from hfa_settings import Settings
from ingest.documents import Chunk
from ingest.text import sentence_spans, terms
from ingest.vocabulary import MUNICIPALITY

# What the system prompt tells the model to write when the passages do not answer.
REFUSAL_PHRASE = "Kilderne svarer ikke på spørgsmålet"

# "[1]", "[2, 3]" and "[2][3]" (the latter as two markers).
MARKER = re.compile(r"\s?\[(\d+(?:\s*,\s*\d+)*)\]")

# Facts a supported sentence may not add to its sources. Number words are
# compared as digits ("fire uger" = "4 uger"); "en"/"et" are left out, being
# articles far more often than numbers.
NUMBER_WORDS = {"én": "1", "ét": "1", **{word: str(n) for word, n in SPOKEN_NUMBERS.items()}}
MONTHS = ("januar februar marts april maj juni juli august september oktober november december").split()
NEGATIONS = frozenset({"ikke", "ingen", "intet", "aldrig", "hverken"})
ANTONYM_MIN_CHARS = 4
_NUMERIC_DATE = re.compile(r"(?<!\d)(\d{1,2})[-./](\d{1,2})[-./](\d{4})(?!\d)")
_WORDED_DATE = re.compile(rf"(?<!\d)(\d{{1,2}})\.\s*({'|'.join(MONTHS)})\s+(\d{{4}})(?!\d)", re.IGNORECASE)
_ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_PARAGRAPH = re.compile(r"§+\s*(\d+)(?:\s*([a-z])(?![\wæøå]))?")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_THOUSANDS = re.compile(r"\d{1,3}(?:\.\d{3})+")
_NUMBER_WORD = re.compile(rf"(?<![\w-])(?:{'|'.join(NUMBER_WORDS)})(?![\w-])", re.IGNORECASE)
_ACRONYM = re.compile(r"(?<!\w)[A-ZÆØÅ]{2,6}(?![a-zæøå])")
_CAPITALISED = re.compile(r"(?<!\w)[A-ZÆØÅ][a-zæøå]+")
_WORD = re.compile(r"[^\W\d_]+")
# What may stand between the start of a sentence and its first word.
_LEAD = " \t\n\"“”'(•*–-"

# Decides whether the cited passages (numbers) support a generated sentence.
Judge = Callable[[str, tuple[int, ...]], bool]


@dataclass(frozen=True)
class CheckedSentence:
    """A generated sentence, the passage numbers that support it and those it cited that do not."""

    text: str
    cited: tuple[int, ...]
    rejected: tuple[int, ...] = ()

    @property
    def is_claim(self) -> bool:
        """Whether it states something (a line introducing a list does not)."""
        return not self.text.endswith(":")


@dataclass(frozen=True)
class CitationCheck:
    """The answer with invalid and unsupported markers removed, sentence by sentence."""

    text: str
    sentences: list[CheckedSentence]
    invalid: list[int]

    @property
    def cited(self) -> list[int]:
        """The passage numbers cited in support anywhere, in order of first use."""
        return list(dict.fromkeys(n for s in self.sentences for n in s.cited))

    @property
    def unsupported(self) -> list[str]:
        """Claims without a marker or whose cited passages do not support them, in answer order."""
        return [s.text for s in self.sentences if s.is_claim and not s.cited]

    @property
    def uncited(self) -> list[str]:
        """Claims that carry no marker at all."""
        return [s.text for s in self.sentences if s.is_claim and not s.cited and not s.rejected]

    @property
    def rejected(self) -> list[str]:
        """Sentences whose cited passages do not support them."""
        return [s.text for s in self.sentences if s.rejected]

    def key_claim_unsupported(self, max_unsupported_share: float) -> bool:
        """Whether the answer's key claim is unsupported.

        The key claim is the first sentence that cites a passage (a sentence
        leading up to it without one is an introduction); the answer as a whole
        fails too when more than ``max_unsupported_share`` of its claims are
        unsupported.
        """
        claims = [s for s in self.sentences if s.is_claim]
        key = next((s for s in claims if s.cited or s.rejected), None)
        if key is not None and not key.cited:
            return True
        return bool(claims) and len(self.unsupported) / len(claims) > max_unsupported_share


@dataclass(frozen=True)
class Support:
    """How well the cited passages support one generated sentence."""

    missing: tuple[str, ...]
    overlap: float
    polarity_agrees: bool
    supported: bool


def _numbers(marker: re.Match[str]) -> list[int]:
    return [int(n) for n in marker.group(1).split(",")]


def _removed(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """``text`` without the given marker spans (a space kept where words would touch)."""
    parts, last = [], 0
    for start, end in sorted(spans):
        touching = not text[start].isspace() and end < len(text) and text[end].isalnum()
        parts += [text[last:start], " " if touching else ""]
        last = end
    return "".join([*parts, text[last:]])


def check_citations(text: str, passage_count: int, judge: Judge | None = None) -> CitationCheck:
    """Validate the markers of ``text`` against passages numbered 1..``passage_count``.

    Markers placed after a sentence's full stop belong to that sentence. With a
    ``judge`` each cited sentence is also checked by content; the markers of a
    sentence it rejects are removed from the text.
    """
    invalid: list[int] = []

    def keep_valid(marker: re.Match[str]) -> str:
        numbers = _numbers(marker)
        valid = [n for n in numbers if 1 <= n <= passage_count]
        invalid.extend(n for n in numbers if n not in valid)
        return f" [{', '.join(map(str, valid))}]" if valid else ""

    cleaned = MARKER.sub(keep_valid, text.strip()).strip()
    markers = list(MARKER.finditer(cleaned))
    # Markers blanked out, so that one after a full stop ends up between two sentences.
    spans = sentence_spans(MARKER.sub(lambda m: " " * len(m.group(0)), cleaned))
    sentences, dropped = [], []
    for i, (start, end) in enumerate(spans):
        until = spans[i + 1][0] if i + 1 < len(spans) else len(cleaned)
        own = [m for m in markers if (start if i else 0) <= m.start() < until]
        bare = " ".join(MARKER.sub("", cleaned[start:end]).split()).lstrip("-*• ")
        if not bare.strip(".!?"):
            continue
        cited = tuple(dict.fromkeys(n for m in own for n in _numbers(m)))
        if cited and judge is not None and not judge(bare, cited):
            dropped += [m.span() for m in own]
            sentences.append(CheckedSentence(bare, (), cited))
        else:
            sentences.append(CheckedSentence(bare, cited))
    return CitationCheck(_removed(cleaned, dropped).strip(), sentences, sorted(set(invalid)))


def is_refusal(text: str) -> bool:
    """Whether the model said that the passages do not answer the question."""
    return REFUSAL_PHRASE.lower() in " ".join(text.lower().split())


def source_text(chunk: Chunk) -> str:
    """A passage as the model saw it: its source label and its text."""
    return f"{source_label(chunk)}\n{chunk.text}"


def _number(token: str) -> str:
    """A number as compared: "40.000" → "40000", "1,5" → "1.5", "03" → "3"."""
    if _THOUSANDS.fullmatch(token):
        token = token.replace(".", "")
    return token.replace(",", ".").lstrip("0") or "0"


def _dates(text: str) -> tuple[set[str], str]:
    """The dates in ``text`` as "YYYY-MM-DD", and the text without them."""
    found: set[str] = set()

    def take(day: str, month: str, year: str) -> str:
        found.add(f"{int(year):04d}-{int(month):02d}-{int(day):02d}")
        return " "

    text = _ISO_DATE.sub(lambda m: take(m.group(3), m.group(2), m.group(1)), text)
    text = _NUMERIC_DATE.sub(lambda m: take(*m.groups()), text)
    text = _WORDED_DATE.sub(lambda m: take(m.group(1), str(MONTHS.index(m.group(2).lower()) + 1), m.group(3)), text)
    return found, text


def _names(sentence: str) -> set[str]:
    """Acronyms anywhere, capitalised words not starting a sentence, and municipalities."""
    names = set(_ACRONYM.findall(sentence)) | {m.group(1) for m in MUNICIPALITY.finditer(sentence)}
    for match in _CAPITALISED.finditer(sentence):
        before = sentence[: match.start()].rstrip(_LEAD)
        if before and before[-1] not in ".:!?":
            names.add(match.group(0))
    return names


def facts(text: str) -> set[str]:
    """The dates, §-references, numbers and names of a sentence, each as "kind:value"."""
    dates, rest = _dates(text)
    paragraphs = {f"§:{m.group(1)}{m.group(2) or ''}" for m in _PARAGRAPH.finditer(rest)}
    rest = _PARAGRAPH.sub(" ", rest)
    numbers = {_number(t) for t in _NUMBER.findall(rest)}
    numbers |= {NUMBER_WORDS[w.lower()] for w in _NUMBER_WORD.findall(rest)}
    return (
        {f"dato:{d}" for d in dates} | paragraphs | {f"tal:{n}" for n in numbers} | {f"navn:{n}" for n in _names(text)}
    )


def _held(fact: str, source: str) -> bool:
    """Whether ``source`` holds ``fact`` (names by their stem, in any case, at the start of a word)."""
    kind, value = fact.split(":", 1)
    if kind == "navn":
        stem = value.lower() if value.isupper() or len(value) <= 4 else value.lower().removesuffix("s")
        return re.search(rf"(?<!\w){re.escape(stem)}", source.lower()) is not None
    dates, rest = _dates(source)
    if kind == "dato":
        return value in dates
    if kind == "§":
        return value in {f"{m.group(1)}{m.group(2) or ''}" for m in _PARAGRAPH.finditer(rest)}
    numbers = {_number(t) for t in _NUMBER.findall(rest)} | {_number(p) for d in dates for p in d.split("-")}
    return value in numbers | {NUMBER_WORDS[w.lower()] for w in _NUMBER_WORD.findall(rest)}


def content_terms(text: str) -> set[str]:
    """The stemmed content words of ``text``, without numbers (they are compared as facts)."""
    return {t for t in terms(_NUMBER_WORD.sub(" ", text)) if not t[0].isdigit() and t != "§"}


def _negated(text: str) -> bool:
    return any(w in NEGATIONS for w in _WORD.findall(text.lower()))


def _antonyms(a: str, b: str) -> bool:
    """Whether a word of one text is a word of the other with the negating prefix u- ("tidsubegrænset").

    The word without its u must have four letters or more ("uden" is not un-"den").
    """
    words = [set(_WORD.findall(a.lower())), set(_WORD.findall(b.lower()))]
    return any(
        w[:i] + w[i + 1 :] in other
        for own, other in (words, words[::-1])
        for w in own
        if len(w) > ANTONYM_MIN_CHARS
        for i, c in enumerate(w)
        if c == "u"
    )


def polarity_agrees(claim: str, sentence: str) -> bool:
    """Whether ``claim`` says what ``sentence`` says or its negation ("ikke tidsbegrænset" = "tidsubegrænset")."""
    return (_negated(claim) != _negated(sentence)) == _antonyms(claim, sentence)


def claim_support(claim: str, sources: Sequence[str], settings: Settings) -> Support:
    """How well ``sources`` (the cited passages' :func:`source_text`) support the generated sentence ``claim``.

    Supported means: every fact of the claim (:func:`facts`) occurs in the
    sources; at least ``claim_min_overlap`` of its content words do (a compound
    part counts partly, as in the extractive scoring); and the source sentence
    that best matches it is negated exactly when the claim is.
    """
    joined = "\n".join(sources)
    missing = tuple(sorted(f for f in facts(claim) if not _held(f, joined)))
    wanted = content_terms(claim)
    held = frozenset(content_terms(joined))
    overlap = sum(term_match(t, held, settings) for t in wanted) / len(wanted) if wanted else 1.0
    best = max(
        (source[slice(*best_sentence(claim, source))] for source in sources),
        key=lambda sentence: len(wanted & content_terms(sentence)),
        default="",
    )
    agrees = polarity_agrees(claim, best)
    return Support(missing, overlap, agrees, not missing and overlap >= settings.claim_min_overlap and agrees)


def best_sentence(claim: str, passage_text: str) -> tuple[int, int]:
    """Offsets of the passage sentence that shares most of the claim's terms."""
    claim_terms = set(terms(claim))
    spans = sentence_spans(passage_text) or [(0, len(passage_text))]
    return max(spans, key=lambda span: len(claim_terms & set(terms(passage_text[slice(*span)]))))


def build_citations(check: CitationCheck, passages: list[Passage]) -> list[Citation]:
    """One citation per cited passage and supporting sentence, quoted verbatim from the passage."""
    citations: dict[tuple[int, int], Citation] = {}
    for sentence in check.sentences:
        for n in sentence.cited:
            chunk = passages[n - 1].chunk
            start, end = best_sentence(sentence.text, chunk.text)
            citations.setdefault((n, start), Citation(n, chunk, chunk.text[start:end], start, end))
    return sorted(citations.values(), key=lambda c: (check.cited.index(c.n), c.start))
