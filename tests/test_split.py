"""The dev/test split: stable, grouped by source passage, frozen once."""

from __future__ import annotations

from eval.gold import Evidence, GoldItem, load_all
from eval.split import DEV, TEST, assign, groups, read_frozen, split, write_frozen


def gold(item_id: str, *quotes: str) -> GoldItem:
    return GoldItem(item_id, "?", "da", "regler", (), tuple(Evidence("d", q) for q in quotes), ("x",) if quotes else ())


def test_paraphrases_of_one_passage_share_a_side_and_conversations_stay_whole() -> None:
    items = [
        gold("a", "Klagefristen er 4 uger."),
        gold("b", "klagefristen  er 4 uger.", "Der kan klages skriftligt."),  # same passage, other wording
        gold("c", "Der kan klages skriftligt."),
        gold("conv-1/1", "Noget helt andet."),
        gold("conv-1/2", "Endnu noget andet."),
        gold("d", "Et tredje sted."),
    ]
    by_group = groups(items)
    assert by_group["a"] == by_group["b"] == by_group["c"]
    assert by_group["conv-1/1"] == by_group["conv-1/2"] != by_group["a"]
    sides = assign(items, {})
    assert sides["a"] == sides["b"] == sides["c"] and sides["conv-1/1"] == sides["conv-1/2"]
    assert assign(items, {}) == sides  # a stable hash, not a random draw


def test_frozen_sides_hold_and_a_new_item_joins_its_group(tmp_path) -> None:
    items = [gold("a", "Klagefristen er 4 uger."), gold("d", "Et tredje sted.")]
    path = tmp_path / "split.yaml"
    write_frozen({"a": TEST, "d": DEV}, path)
    grown = [*items, gold("e", "Klagefristen er 4 uger.")]  # a new paraphrase of a's passage
    sides = split(grown, path)
    assert sides == {"a": TEST, "d": DEV, "e": TEST}
    assert read_frozen(path) == sides


def test_the_real_gold_set_is_split_once_into_dev_and_test() -> None:
    items = load_all()
    sides = split(items)
    assert set(sides.values()) == {DEV, TEST}
    assert 0.2 <= sum(s == TEST for s in sides.values()) / len(sides) <= 0.4
    by_group = groups(items)
    for item in items:  # no group straddles the split
        assert all(sides[other] == sides[item.id] for other in sides if by_group[other] == by_group[item.id])
