"""The dev/test split of the gold set: made once by a stable hash, then frozen in ``eval/split.yaml``.

Items that quote the same source passage (paraphrases of one question, a
conversation and the single question it grew from) form one group, and a group
goes to one side whole, so no wording of a test question is ever tuned on.
A group's side is the SHA-1 of its smallest evidence quote: stable across runs
and machines. The assignment of every id is written to ``eval/split.yaml`` the
first time; later runs read it, and a new item joins the side of the group it
shares a passage with, or is hashed like the rest. Only ``dev`` is tuned and
trained on; the CI gate reads ``test``. The blind set (``eval/blind.yaml`` and
``eval/blind_conversations.yaml``), written from the corpus README alone before
any answering code of issue 17 changed, was scored once at the end of that
work; since then it is part of ``test`` (its items keep the tag ``blind``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

import yaml

from eval.gold import EVAL_DIR, GoldItem, load_all
from eval.metrics import normalise

SPLIT_FILE = EVAL_DIR / "split.yaml"
BLIND_FILES = (EVAL_DIR / "blind.yaml", EVAL_DIR / "blind_conversations.yaml")
DEV, TEST, BLIND = "dev", "test", "blind"
TEST_SHARE = 0.35


def _root(parent: dict[str, str], key: str) -> str:
    while parent.setdefault(key, key) != key:
        parent[key] = parent[parent[key]]
        key = parent[key]
    return key


def _conversation(item: GoldItem) -> str | None:
    return item.id.split("/")[0] if "/" in item.id else None


def _quote_first(key: str) -> tuple[bool, str]:
    return not key.startswith("q:"), key


def groups(items: Sequence[GoldItem]) -> dict[str, str]:
    """Each item id → its group's key: the smallest evidence quote (or question) of items sharing a passage."""
    parent: dict[str, str] = {}
    for item in items:
        keys = [f"q:{e.doc_id}:{normalise(e.quote).casefold()}" for e in item.evidence]
        keys.append(f"c:{_conversation(item)}" if _conversation(item) else f"i:{item.id}")
        first = _root(parent, keys[0])
        for key in keys[1:]:
            parent[_root(parent, key)] = first
    members: dict[str, list[str]] = {}
    for key in list(parent):
        members.setdefault(_root(parent, key), []).append(key)
    name = {root: min((k for k in keys if not k.startswith("c:")), key=_quote_first) for root, keys in members.items()}
    own = {item.id: f"c:{_conversation(item)}" if _conversation(item) else f"i:{item.id}" for item in items}
    return {item_id: name[_root(parent, key)] for item_id, key in own.items()}


def hashed_side(group: str) -> str:
    """``test`` for about TEST_SHARE of groups, by the SHA-1 of the group key; else ``dev``."""
    digest = int(hashlib.sha1(group.encode("utf-8")).hexdigest()[:8], 16)
    return TEST if digest / 0xFFFFFFFF < TEST_SHARE else DEV


def assign(items: Sequence[GoldItem], frozen: dict[str, str]) -> dict[str, str]:
    """Each item id → dev or test: frozen ids keep their side, a new item takes its group's (or its hash)."""
    by_group = groups(items)
    group_side = {by_group[i]: side for i, side in frozen.items() if i in by_group}
    return {
        item.id: frozen.get(item.id) or group_side.get(by_group[item.id]) or hashed_side(by_group[item.id])
        for item in items
    }


def read_frozen(path: Path = SPLIT_FILE) -> dict[str, str]:
    """The frozen assignment (empty before the first split)."""
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {item_id: side for side, ids in data.items() for item_id in ids}


def write_frozen(assignment: dict[str, str], path: Path = SPLIT_FILE) -> None:
    """Write the assignment, ids sorted per side, atomically."""
    sides = {side: sorted(i for i, s in assignment.items() if s == side) for side in (DEV, TEST)}
    header = "# The frozen dev/test split of eval/gold.yaml and eval/conversations.yaml (eval/split.py).\n"
    header += "# Tune and train on dev only; the CI gate reads test. Never move an id between sides.\n"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(header + yaml.safe_dump(sides, allow_unicode=True, sort_keys=False), encoding="utf-8")
    tmp.replace(path)


def split(items: Sequence[GoldItem], path: Path = SPLIT_FILE) -> dict[str, str]:
    """The side of every gold item, freezing new assignments in ``path``."""
    frozen = read_frozen(path)
    assignment = assign(items, frozen)
    if assignment.keys() - frozen.keys():
        write_frozen(frozen | assignment, path)
    return assignment


def side(items: Iterable[GoldItem], assignment: dict[str, str], wanted: str) -> list[GoldItem]:
    """The items on one side."""
    return [item for item in items if assignment.get(item.id) == wanted]


def sided_items() -> list[GoldItem]:
    """Every evaluation item tagged with its side: the gold set's dev or test, and the blind set as test."""
    items = load_all()
    sides = split(items)
    tagged = [replace(item, tags=(*item.tags, sides[item.id])) for item in items]
    blind = load_all(*BLIND_FILES)
    return tagged + [replace(item, tags=(*item.tags, BLIND, TEST)) for item in blind]
