"""Question analysis (pure): language, named entities, salient terms, spelling repair and the kind of question.

The entities are those the index knows (:class:`ingest.vocabulary.Vocabulary`);
the cue words below are Danish and English grammar, not names. Words the corpus
does not know are repaired towards its own spelling — missing æøå ("stotte"),
one-letter typos ("ACT-tem"), compounds ("bostøttemetode" → bostøtte + metode) —
and the repairs are added to the search text, so BM25 and answer scoring see them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from ingest.documents import Chunk
from ingest.text import STOPWORDS, terms
from ingest.vocabulary import MUNICIPALITY, PARAGRAPH_REF, Vocabulary

ENGLISH_WORDS = frozenset(
    "the what which who whom how when where why is are was were does do did can could should must may "
    "of for in on to a an and or with about there their they it its this that these those between "
    "difference compare long many much contact phone number email address".split()
)
DIACRITIC_FOLDS = (("aa", "å"), ("ae", "æ"), ("oe", "ø"), ("o", "ø"), ("a", "å"), ("a", "æ"), ("e", "æ"))
LINKING_LETTERS = ("", "s", "e")
MIN_COMPOUND_PART = 3
MIN_TYPO_LENGTH = 5
MIN_STEM = 6  # shorter stems ("regn") prefix unrelated words ("regninger")
WORD = re.compile(r"[^\W\d_][\w-]*", re.UNICODE)
FOREIGN_MUNICIPALITY = re.compile(r"\b([A-ZÆØÅ][a-zæøå]+)(?:'s)? [Mm]unicipality\b")
COUNTED = re.compile(r"\bhvor mange\s+([^\W\d_]{3,})", re.I)
MONEY_WORDS = frozenset({"penge", "kroner", "kr"})
# Danish number words from two up ("en"/"et" are articles far more often than numbers).
NUMBER_WORDS = dict(zip("to tre fire fem seks syv otte ni ti elleve tolv".split(), range(2, 13), strict=True))
# Danish ordinal words: the question asks for one item of a list. (English "first" and "last" are left
# out: they are the "First" of "Housing First" and the verb of "how long does it last".)
_ORDINAL_WORDS = "første anden andet tredje fjerde femte sjette syvende ottende niende sidste".split()
ORDINALS = dict(zip(_ORDINAL_WORDS, [1, 2, 2, 3, 4, 5, 6, 7, 8, 9, -1], strict=True))
# Abbreviations staff type, written out as documents do (used only when the corpus has the long form).
ABBREVIATIONS = {"mdr": "måneder", "mdrs": "måneders", "pct": "procent", "nr": "nummer", "evt": "eventuelt"}
# Words that only ask for a form of answer (contact details, a comparison), not what it is about.
FORM_WORDS = frozenset(
    "adresse adressen telefon telefonnummer telefonnummeret tlf mail kontaktinfo info vs versus "
    "overskrift overskriften overskrifter overskrifterne punktform stikord".split()
)
# Words of spoken Danish that carry no subject ("hvad betyder housing first egentlig", "bare overskrifterne tak").
FILLERS = frozenset("egentlig egentligt lige bare kort fortalt mon tak altså helt præcis gerne vel overhovedet".split())
# The word for a municipality itself is never the name of one ("Norddjurs Municipality").
MUNICIPALITY_WORDS = frozenset({"kommune", "kommunen", "kommunes", "municipality"})
# Prepositions of place: a word the corpus does not know after one of them is taken as a place name.
LOCATIVES = frozenset("i fra hos".split())
LOWER_MUNICIPALITY = re.compile(r"\b([A-ZÆØÅa-zæøå][a-zæøå]+?)s? kommune\b")

KIND_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("comparison", re.compile(r"\b(forskel\w*|sammenlign\w*|vs\.?|versus|differen\w*|compar\w*)\b", re.I)),
    ("list", re.compile(r"\b(hvilke|nævn\w*|list\w*|remse\w*|opremse\w*|what are the)\b", re.I)),
)
# Plural nouns that ask for a list unless the question opens as a rule or a definition; unlike the cues
# above they say what the question is about ("faser"), so they stay search and scoring terms.
LIST_NOUNS = re.compile(
    r"\b(faser(ne)?|principper(ne)?|punkter(ne)?|elementer(ne)?|trin(nene)?|kerneprincipper(ne)?|eksempler|"
    r"(to|tre|fire|fem|seks|syv|otte|ni|ti|\d+) \w+er(ne)?)\b",
    re.I,
)
VALUE_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "contact",
        re.compile(
            r"\b(telefon\w*|tlf\w*|ringer|ringe|mail\w*|e-mail|adresse\w*|kontaktinf\w*|kontaktopl\w*|"
            r"phone|address|contact)\b",
            re.I,
        ),
    ),
    ("deadline", re.compile(r"(frist\w*|deadline|\bsenest\b)", re.I)),
    (
        "duration",
        re.compile(
            r"\b(hvor (lang|længe)|varighed\w*|varer|how long|duration|"
            r"hvor mange (dage|uger|måneder|mdr|år|timer)|how many (days|weeks|months|years))\b",
            re.I,
        ),
    ),
    ("date", re.compile(r"\b(hvornår|hvilken dato|dato\w*|when|date|årstal)\b", re.I)),
    (
        "amount",
        re.compile(r"\b(koste\w*|pris\w*|beløb\w*|kr|kroner|mio|hvor meget|how much|cost\w*|budget\w*)\b", re.I),
    ),
    ("amount", re.compile(r"\bhvor mange (penge|kroner|kr)\b", re.I)),
    ("count", re.compile(r"\b(hvor mange|antal\w*|how many|caseload\w*)\b", re.I)),
)
# "Hvilket afsnit handler om ICM?", "hvad hedder kapitel 3", "hvad indeholder kapitel 4": the answer is a
# heading of the documents (or a numbered section's outline), not text under one ("ifølge kapitel 3" is not).
SECTION_CUE = re.compile(
    r"\b(hvilke[tn]?|which)\s+(afsnit\w*|kapit(el|ler)|section|chapter)\b"
    r"|\b(hvad hedder|hvad indeholder|what is in|what does)\s+(afsnit|kapitel|section|chapter)\s+\d",
    re.I,
)
SECTION_NUMBER = re.compile(r"\b(?:afsnit|kapitel|kapitlet|section|chapter)\s+(\d+(?:\.\d+)*)", re.I)
RULE_CUE = re.compile(r"^\s*(må|kan|skal|er det (tilladt|muligt|et krav)|har|may|can|must|is it)\b", re.I)
MEANING_CUE = re.compile(r"^\s*(hvad (betyder|menes|går)|what does|forklar|explain)", re.I)
DEFINITION_CUE = re.compile(r"^\s*(hvad (er|betyder|går) |what (is|does) |forklar|explain)", re.I)


@dataclass(frozen=True)
class Analysis:
    """What a question asks and names."""

    question: str
    language: str
    kind: str  # comparison | list | value | section | rule | definition | open
    value_kind: str | None  # contact | deadline | duration | date | amount | count
    methods: tuple[str, ...]
    municipalities: tuple[str, ...]
    uncovered: tuple[str, ...]  # "Odense Kommune", "§ 99": named, but no document is issued by it or cites it
    scopes: tuple[str, ...]  # the scopes of the documents issued by the municipalities named
    counted: str | None  # the noun of "hvor mange dage": a count must be of it
    repairs: tuple[str, ...]  # corpus spellings of words the corpus does not know as typed
    unknown: tuple[str, ...]  # content words neither the corpus nor a repair knows
    terms: frozenset[str] = field(default_factory=frozenset)
    ordinal: int | None = None  # "det første kerneprincip" → 1, "den sidste fase" → -1
    section_number: str | None = None  # "hvad hedder kapitel 3" → "3"

    @property
    def search_text(self) -> str:
        """The question plus the corpus' spelling of its repaired words."""
        return " ".join([self.question, *self.repairs])


def analyze(question: str, vocabulary: Vocabulary) -> Analysis:
    """Analyse a question against what the index knows."""
    words = WORD.findall(question)
    repaired, repairs, unknown = _repair(words, vocabulary)
    language = _language(words, unknown)
    kind, value_kind = _kind(" ".join([question, *repairs]))
    methods = _methods(question, vocabulary)
    municipalities = _municipalities(question, vocabulary)
    uncovered = _uncovered(question, vocabulary) + _uncited_paragraphs(question, vocabulary)
    if kind == "list" and len(methods) >= 2 and value_kind is None and re.search(r"\bog\b|\band\b", question):
        kind = "comparison" if KIND_CUES[0][1].search(question) else kind
    if SECTION_CUE.search(question) and kind != "comparison":
        kind, value_kind = "section", None
    return Analysis(
        question=question,
        language=language,
        kind=kind,
        value_kind=value_kind,
        methods=methods,
        municipalities=municipalities,
        uncovered=uncovered + _unknown_names(words, unknown, (*uncovered, *municipalities, *methods), language),
        scopes=tuple(sorted({s for n in municipalities for s in vocabulary.municipalities[n]})),
        counted=_counted(_replaced(question, repaired, repairs), vocabulary) if language == "da" else None,
        repairs=tuple(dict.fromkeys(repairs)),
        unknown=tuple(unknown),
        terms=frozenset(terms(_without_cues(_replaced(question, repaired, repairs)))),
        ordinal=next((ORDINALS[w.lower()] for w in words if w.lower() in ORDINALS), None),
        section_number=number.group(1) if (number := SECTION_NUMBER.search(question)) else None,
    )


def _language(words: list[str], unknown: list[str]) -> str:
    """English when its function words outnumber Danish ones, or one is there and most words are foreign."""
    lowered = [w.lower() for w in words]
    english = sum(w in ENGLISH_WORDS for w in lowered)
    danish = sum(w in STOPWORDS and w not in ENGLISH_WORDS for w in lowered) + sum(
        any(ch in w for ch in "æøå") for w in lowered
    )
    mostly_foreign = len(unknown) * 2 >= len(lowered) - english
    return "en" if english > danish and (english >= 2 or mostly_foreign) else "da"


def _kind(question: str) -> tuple[str, str | None]:
    value_kind = next((name for name, cue in VALUE_CUES if cue.search(question)), None)
    for name, cue in KIND_CUES:
        if cue.search(question):
            if name == "list" and value_kind in ("count", "duration", "date", "deadline", "amount"):
                break
            return name, value_kind
    if value_kind:
        return "value", value_kind
    if RULE_CUE.search(question):
        return "rule", None
    if LIST_NOUNS.search(question) and not MEANING_CUE.search(question):
        return "list", None
    if DEFINITION_CUE.search(question):
        return "definition", None
    return "open", None


def _methods(question: str, vocabulary: Vocabulary) -> tuple[str, ...]:
    """Methods named by acronym (any case, also inside "CTI-forløb") or by long name, in order of appearance."""
    found: list[tuple[int, str]] = []
    for name, aliases in vocabulary.methods.items():
        patterns = [rf"(?<![\w-]){re.escape(name)}(?![\w])"] + [re.escape(a) for a in aliases]
        for pattern in patterns:
            match = re.search(pattern, question, re.I)
            if match and not (name.count("-") == 0 and re.search(rf"\w-{re.escape(name)}", question, re.I)):
                found.append((match.start(), name))
                break
    return tuple(dict.fromkeys(name for _, name in sorted(found)))


def _municipalities(question: str, vocabulary: Vocabulary) -> tuple[str, ...]:
    """The known municipalities the question names (any case, also without æøå: "aarhus", "norddjurs'")."""
    folded = _fold(question.lower())
    return tuple(
        name for name in vocabulary.municipalities if re.search(rf"\b{re.escape(_fold(name.lower()))}", folded)
    )


def _uncovered(question: str, vocabulary: Vocabulary) -> tuple[str, ...]:
    """Municipalities named as "X Kommune" (or "X municipality") that no document is issued by."""
    named = [m.group(1) for pattern in (MUNICIPALITY, FOREIGN_MUNICIPALITY) for m in pattern.finditer(question)]
    named += [m.group(1) for m in LOWER_MUNICIPALITY.finditer(question) if m.group(1)[:1].isupper()]
    known = {_fold(n.lower()) for n in vocabulary.municipalities}
    uncovered = []
    for name in named:
        folded = _fold(name.lower())
        if folded not in known and folded.rstrip("s") not in known and name.lower() not in STOPWORDS:
            uncovered.append(f"{name} Kommune")  # as written: Syddjurs, Københavns Kommune
    return tuple(dict.fromkeys(uncovered))


def _without_cues(text: str) -> str:
    """The text without the words that only say what form the answer takes ("forskellen", "vs", "nævn")."""
    return WORD.sub(lambda m: "" if _is_cue(m.group(0)) else m.group(0), text)


def _replaced(question: str, repaired: list[str], repairs: list[str]) -> str:
    """The question with each repaired word replaced by its corpus spelling."""
    fixes = dict(zip(repaired, repairs, strict=True))
    return WORD.sub(lambda m: "-".join(fixes.get(p.lower(), p) for p in m.group(0).split("-")), question)


def _unknown_names(words: list[str], unknown: list[str], named: tuple[str, ...], language: str) -> tuple[str, ...]:
    """Proper names that no document uses.

    Capitalised and not opening the question ("Copenhagen", "Finland"), or typed
    in lower case after "i"/"fra"/"hos" in a Danish question ("bostøtte i silkeborg").

    A name already reported as an uncovered municipality ("Københavns" of "Københavns Kommune"), or one the
    index knows as a municipality or method, is not reported.
    """
    already = " ".join(named).lower()
    names = [
        word
        for before, word in zip(words, words[1:], strict=False)
        if word.lower() in unknown
        and word.lower() not in MUNICIPALITY_WORDS
        and (word[:1].isupper() or (language == "da" and before.lower() in LOCATIVES))
        and word.lower().rstrip("s") not in already
    ]
    return tuple(dict.fromkeys(names))


def _uncited_paragraphs(question: str, vocabulary: Vocabulary) -> tuple[str, ...]:
    """§-references in the question ("§ 99") that no document cites."""
    known = {p.replace(" ", "") for p in vocabulary.paragraphs}
    asked = [m.group(1) for m in PARAGRAPH_REF.finditer(question)]
    return tuple(f"§ {p}" for p in dict.fromkeys(asked) if p.replace(" ", "") not in known)


def _counted(question: str, vocabulary: Vocabulary) -> str | None:
    """What "hvor mange …" counts (its noun), when the corpus knows the word; money is an amount, not a count."""
    match = COUNTED.search(question)
    noun = match.group(1).lower() if match else None
    if noun is None or noun in MONEY_WORDS or not any(w.startswith(counted_stem(noun)) for w in vocabulary.words):
        return None
    return noun


def counted_stem(noun: str) -> str:
    """The counted noun without its inflection ("borgere" → "borge"), as its counts are matched."""
    return noun[: max(3, len(noun) - 2)]


def _fold(word: str) -> str:
    """A word with æøå written as people type them without a Danish keyboard."""
    return word.replace("æ", "ae").replace("ø", "oe").replace("å", "aa")


@lru_cache(maxsize=4)
def _folded_index(words: tuple[tuple[str, int], ...]) -> dict[str, str]:
    """Folded spelling → the corpus' most frequent word with that folding (both "oe" and "o" for ø)."""
    index: dict[str, tuple[int, str]] = {}
    for word, count in words:
        for folded in {_fold(word), _fold(word).replace("oe", "o").replace("aa", "a").replace("ae", "a")}:
            if folded != word and count > index.get(folded, (0, ""))[0]:
                index[folded] = (count, word)
    return {folded: word for folded, (_, word) in index.items()}


def _repair(words: list[str], vocabulary: Vocabulary) -> tuple[list[str], list[str], list[str]]:
    """Unknown words of the question, their corpus spellings (pairwise), and the words that stay unknown."""
    known = vocabulary.words
    folded = _folded_index(tuple(sorted(known.items())))
    repaired: list[str] = []
    repairs: list[str] = []
    unknown: list[str] = []
    for raw in words:
        for word in raw.lower().split("-"):
            if len(word) < MIN_COMPOUND_PART or word in STOPWORDS or word in ENGLISH_WORDS or word in known:
                continue
            if _is_cue(word):  # "liste" asks for a list: it is not a misspelt corpus word ("miste")
                continue
            fixed = (
                (ABBREVIATIONS[word] if ABBREVIATIONS.get(word) in known else None)
                or folded.get(word)
                or folded.get(_fold(word))
                or _typo(word, known)
                or _compound(word, known)
                or _known_head(word, known)
                or _same_stem(word, known)
            )
            if fixed:
                repaired.append(word)
                repairs.append(fixed)
            elif not _part_of_known(word, known):
                unknown.append(word)
    return repaired, repairs, list(dict.fromkeys(unknown))


def _part_of_known(word: str, known: dict[str, int]) -> bool:
    """Whether the word is part of a corpus word ("reformen" in "hjemløshedsreformen")."""
    return len(word) >= MIN_TYPO_LENGTH and any(k.endswith(word) or k.startswith(word) for k in known)


def _known_head(word: str, known: dict[str, int]) -> str | None:
    """The longest corpus word a compound the corpus does not use starts with ("klagefristen" → "klage")."""
    heads = [k for k in known if len(k) >= MIN_TYPO_LENGTH and word.startswith(k) and len(word) - len(k) >= 3]
    return max(heads, key=len) if heads else None


def _is_cue(word: str) -> bool:
    """A word that says what kind of answer is wanted ("adresse", "forskellen"), not what it is about."""
    return any(cue.fullmatch(word) for _, cue in KIND_CUES) or word.lower() in FORM_WORDS | FILLERS | ORDINALS.keys()


def _typo(word: str, known: dict[str, int]) -> str | None:
    """The most frequent corpus word one edit (insert, delete, replace, swap) away."""
    if len(word) < MIN_COMPOUND_PART:
        return None
    letters = "abcdefghijklmnopqrstuvwxyzæøå"
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    edits = {a + b[1:] for a, b in splits if b}
    edits |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    edits |= {a + c + b[1:] for a, b in splits if b for c in letters}
    edits |= {a + c + b for a, b in splits for c in letters}
    if len(word) < MIN_TYPO_LENGTH:  # a short word: only a missing letter ("tem" → "team")
        edits = {a + c + b for a, b in splits for c in letters}
    candidates = [(known[e], e) for e in edits if e in known and len(e) >= MIN_COMPOUND_PART + 1]
    return max(candidates)[1] if candidates else None


def _same_stem(word: str, known: dict[str, int]) -> str | None:
    """The most frequent corpus word another form of the same stem ("finansieres" → "finansiering")."""
    stems = terms(word)
    if len(stems) != 1 or len(stems[0]) < MIN_STEM:
        return None
    forms = [(count, k) for k, count in known.items() if k.startswith(stems[0])]
    return max(forms)[1] if forms else None


def _inflected_from(word: str, known: dict[str, int]) -> str | None:
    """The corpus word itself, or the corpus word it inflects ("fristen" → "frist")."""
    if word in known:
        return word
    for cut in range(1, 4):
        if len(word) - cut >= MIN_COMPOUND_PART + 1 and word[:-cut] in known:
            return word[:-cut]
    return None


def _compound(word: str, known: dict[str, int]) -> str | None:
    """Two corpus words (with a linking s/e) that make up the word: bostøttemetode → bostøtte metode."""
    best: tuple[int, str] | None = None
    for i in range(MIN_COMPOUND_PART, len(word) - MIN_COMPOUND_PART + 1):
        head, tail = word[:i], word[i:]
        for link in LINKING_LETTERS:
            stem = head[: len(head) - len(link)] if link and head.endswith(link) else head
            if link and not head.endswith(link):
                continue
            base = _inflected_from(tail, known)
            if stem in known and base and not {stem, base} & (STOPWORDS | ENGLISH_WORDS):
                score = min(known[stem], known[base])
                if best is None or score > best[0]:
                    best = (score, f"{stem} {base}")
    return best[1] if best else None


def preference(analysis: Analysis, vocabulary: Vocabulary) -> Callable[[Chunk], int] | None:
    """How many of the question's named entities a chunk is about (None when it names none).

    A chunk is about a method when its section heading names it, and about a
    municipality when its document is issued by it.
    """
    scopes = {s for name in analysis.municipalities for s in vocabulary.municipalities.get(name, [])}
    methods = [re.compile(rf"(?<![\w-]){re.escape(m)}(?![\w])", re.I) for m in analysis.methods]
    if not (scopes or methods):
        return None

    def about(chunk: Chunk) -> int:
        return int(chunk.scope in scopes) + int(any(m.search(chunk.section) for m in methods))

    return about
