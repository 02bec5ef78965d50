"""The gold set: ``eval/gold.yaml`` and ``eval/conversations.yaml`` as validated, frozen records."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

EVAL_DIR = Path(__file__).resolve().parent
GOLD_FILE = EVAL_DIR / "gold.yaml"
CONVERSATIONS_FILE = EVAL_DIR / "conversations.yaml"
OUT_OF_SCOPE = "uden-for-kilderne"
CONVERSATION = "samtale"


class GoldError(ValueError):
    """The gold file is malformed; the message names the item."""


@dataclass(frozen=True)
class Evidence:
    """A passage of a source document that answers the question (quoted from one line)."""

    doc_id: str
    quote: str


@dataclass(frozen=True)
class GoldItem:
    """One question with what a correct answer must rest on and contain."""

    id: str
    question: str
    lang: str
    category: str
    tags: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    facts: tuple[str, ...]
    # For a conversation turn: the questions asked before it, and what it means alone.
    history: tuple[str, ...] = ()
    standalone: str = ""

    @property
    def out_of_scope(self) -> bool:
        """Whether the documents do not answer the question (a refusal is correct)."""
        return self.category == OUT_OF_SCOPE


@dataclass(frozen=True)
class Turn:
    """One turn of a conversation; ``standalone`` is what an elliptical follow-up means alone."""

    question: str
    standalone: str
    evidence: tuple[Evidence, ...]
    facts: tuple[str, ...]


@dataclass(frozen=True)
class Conversation:
    """A multi-turn conversation."""

    id: str
    turns: tuple[Turn, ...]
    tags: tuple[str, ...] = ()

    def items(self) -> list[GoldItem]:
        """Each turn as a gold item asked as typed, after the turns before it (id ``conv-001/2``)."""
        questions = [turn.question for turn in self.turns]
        return [
            GoldItem(
                id=f"{self.id}/{n}",
                question=turn.question,
                lang="",
                category=CONVERSATION,
                tags=(CONVERSATION, *self.tags),
                evidence=turn.evidence,
                facts=turn.facts,
                history=tuple(questions[: n - 1]),
                standalone=turn.standalone,
            )
            for n, turn in enumerate(self.turns, start=1)
        ]


def _require(raw: dict[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in raw:
        raise GoldError(f"{where}: mangler '{key}'")
    value = raw[key]
    if not isinstance(value, kind) or (isinstance(value, str) and not value.strip()):
        raise GoldError(f"{where}: '{key}' skal være {kind.__name__} og ikke tom")
    return value


def _strings(raw: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    values = _require(raw, key, list, where) if key in raw else []
    if not all(isinstance(v, str) and v.strip() for v in values):
        raise GoldError(f"{where}: '{key}' skal være en liste af ikke-tomme tekster")
    return tuple(values)


def _evidence(raw: dict[str, Any], where: str) -> tuple[Evidence, ...]:
    entries = _require(raw, "evidence", list, where)
    evidence = []
    for i, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise GoldError(f"{where}: evidence {i} skal have doc_id og quote")
        here = f"{where} evidence {i}"
        evidence.append(Evidence(_require(entry, "doc_id", str, here), _require(entry, "quote", str, here)))
    return tuple(evidence)


def _check_scope(where: str, out_of_scope: bool, evidence: tuple, facts: tuple) -> None:
    if out_of_scope and (evidence or facts):
        raise GoldError(f"{where}: et spørgsmål uden for kilderne kan ikke have evidence eller facts")
    if not out_of_scope and not (evidence and facts):
        raise GoldError(f"{where}: mangler evidence og facts")


def _item(raw: Any, index: int) -> GoldItem:
    if not isinstance(raw, dict):
        raise GoldError(f"element {index}: skal være en mapping")
    where = str(raw.get("id", f"element {index}"))
    item = GoldItem(
        id=_require(raw, "id", str, where),
        question=_require(raw, "question", str, where),
        lang=_require(raw, "lang", str, where),
        category=_require(raw, "category", str, where),
        tags=_strings(raw, "tags", where),
        evidence=_evidence(raw, where),
        facts=_strings(raw, "facts", where),
    )
    _check_scope(where, item.out_of_scope, item.evidence, item.facts)
    return item


def _turn(raw: Any, where: str, first: bool) -> Turn:
    if not isinstance(raw, dict):
        raise GoldError(f"{where}: skal være en mapping")
    question = _require(raw, "question", str, where)
    standalone = question if first and "standalone" not in raw else _require(raw, "standalone", str, where)
    turn = Turn(question, standalone, _evidence(raw, where), _strings(raw, "facts", where))
    _check_scope(where, False, turn.evidence, turn.facts)
    return turn


def _conversation(raw: Any, index: int) -> Conversation:
    if not isinstance(raw, dict):
        raise GoldError(f"samtale {index}: skal være en mapping")
    conv_id = _require(raw, "id", str, f"samtale {index}")
    turns = _require(raw, "turns", list, conv_id)
    return Conversation(
        conv_id,
        tuple(_turn(t, f"{conv_id} tur {n}", n == 1) for n, t in enumerate(turns, start=1)),
        _strings(raw, "tags", conv_id),
    )


def _read_list(path: Path) -> list[Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise GoldError(f"{path}: skal være en liste")
    return data


def _check_unique(ids: Iterable[str]) -> None:
    seen: set[str] = set()
    for item_id in ids:
        if item_id in seen:
            raise GoldError(f"{item_id}: id'et findes to gange")
        seen.add(item_id)


def load_gold(path: Path = GOLD_FILE) -> list[GoldItem]:
    """The single-turn gold items, validated."""
    items = [_item(raw, i) for i, raw in enumerate(_read_list(path), start=1)]
    _check_unique(item.id for item in items)
    return items


def load_conversations(path: Path = CONVERSATIONS_FILE) -> list[Conversation]:
    """The multi-turn conversations, validated."""
    conversations = [_conversation(raw, i) for i, raw in enumerate(_read_list(path), start=1)]
    _check_unique(c.id for c in conversations)
    return conversations


def load_all(gold: Path = GOLD_FILE, conversations: Path = CONVERSATIONS_FILE) -> list[GoldItem]:
    """Gold items followed by every conversation turn as an item."""
    items = load_gold(gold) + [item for c in load_conversations(conversations) for item in c.items()]
    _check_unique(item.id for item in items)
    return items
