"""Follow-up rewriting, checked against the real multi-turn conversations of the eval set."""

from __future__ import annotations

import pytest
import yaml

from assistant.followup import entities, rewrite
from hfa_settings import PROJECT_ROOT

CONVERSATIONS = yaml.safe_load((PROJECT_ROOT / "eval" / "conversations.yaml").read_text(encoding="utf-8"))


def _names(text: str) -> set[str]:
    return {name for names in entities(text).values() for name in names}


def _follow_ups() -> list[tuple[str, list[str], str, str]]:
    cases = []
    for conversation in CONVERSATIONS:
        questions = [turn["question"] for turn in conversation["turns"]]
        for i, turn in enumerate(conversation["turns"]):
            if "standalone" in turn:
                cases.append((conversation["id"], questions[:i], turn["question"], turn["standalone"]))
    return cases


@pytest.mark.parametrize(("conv_id", "history", "question", "standalone"), _follow_ups())
def test_rewrite_keeps_the_entities_the_conversation_named(conv_id, history, question, standalone):
    # Only entities the user actually named can be recovered (not ones that came from answers).
    named_so_far = set().union(*(_names(q) for q in [*history, question]))
    expected = _names(standalone) & named_so_far
    assert expected <= _names(rewrite(question, history)), conv_id


@pytest.mark.parametrize("conversation", CONVERSATIONS, ids=lambda c: c["id"])
def test_first_question_is_unchanged(conversation):
    first = conversation["turns"][0]["question"]
    assert rewrite(first, []) == first


def test_swapping_the_method():
    assert rewrite("Og i ICM?", ["Hvad er det maksimale caseload i CTI?"]) == "Hvad er det maksimale caseload i ICM?"


def test_swapping_the_municipality():
    history = ["Hvor længe varer bostøtten i Norddjurs Kommune?"]
    assert rewrite("Hvad med Aarhus?", history) == "Hvor længe varer bostøtten i Aarhus Kommune?"


def test_m_act_is_not_act():
    assert rewrite("Hvad med M-ACT?", ["Hvem er målgruppen for ACT?"]) == "Hvem er målgruppen for M-ACT?"


def test_swap_of_a_kind_not_in_the_previous_question_is_added():
    assert _names(rewrite("Og i Aarhus?", ["Hvem er målgruppen for CTI?"])) == {"CTI", "Aarhus"}


def test_topic_carries_over_several_turns():
    history = ["Hvem er målgruppen for ICM?", "Og for CTI?"]
    assert _names(rewrite("Hvor længe varer den?", history)) == {"CTI"}


@pytest.mark.parametrize(
    "question",
    [
        "Hvad er klagefristen for en afgørelse efter § 85 a?",
        "Hvad er det første kerneprincip i Housing First?",
        "Hvad er ICM?",
    ],
)
def test_self_contained_question_is_unchanged(question):
    assert rewrite(question, ["Hvad er det maksimale caseload i CTI?"]) == question


def test_no_history_and_blank_history_entries():
    assert rewrite("Hvor længe varer den?", []) == "Hvor længe varer den?"
    assert rewrite("Hvor længe varer den?", ["", "  "]) == "Hvor længe varer den?"
