"""The prompt files: loaded, checked for their variables, rendered with real passages."""

import shutil

import pytest

from assistant.citecheck import REFUSAL_PHRASE
from assistant.generation import format_passages
from assistant.prompts import answer_prompt, load_template, rewrite_prompt
from hfa_settings import load_settings


def test_answer_prompt_renders_rules_passages_and_question(assistant) -> None:
    question = "Hvad er klagefristen for en afgørelse efter § 85 a?"
    passages = assistant.retrieve(question)
    system, user = answer_prompt(assistant.settings).format_messages(
        question=question, passages=format_passages(passages)
    )
    assert system.type == "system" and user.type == "human"
    assert REFUSAL_PHRASE in system.content and "[n]" in user.content
    assert "instruktioner" in system.content and "kommune" in system.content.lower()
    assert question in user.content
    for n, passage in enumerate(passages, start=1):
        assert f"<passage nr={n}>" in user.content and passage.chunk.text in user.content
    assert "Norddjurs Kommune" in user.content


def test_rewrite_prompt_renders_history_and_question() -> None:
    [message] = rewrite_prompt(load_settings()).format_messages(
        history="1. Hvor længe varer et CTI-forløb?", question="Og i ICM?"
    )
    assert "Hvor længe varer et CTI-forløb?" in message.content and "Og i ICM?" in message.content


def test_missing_variable_when_rendering_is_an_error() -> None:
    with pytest.raises(KeyError):
        answer_prompt(load_settings()).format_messages(question="Hvad er ICM?")


@pytest.mark.parametrize("text", ["Spørgsmål: {question}", "{question} {passages} {extra}"])
def test_a_prompt_file_with_other_variables_is_rejected(tmp_path, text) -> None:
    settings = load_settings().updated(prompts_dir=tmp_path)
    shutil.copy(load_settings().prompts_dir / "system.txt", tmp_path)
    (tmp_path / "answer.txt").write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="answer.txt"):
        answer_prompt(settings)


def test_a_missing_prompt_file_says_which(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="rewrite.txt"):
        load_template(tmp_path, "rewrite.txt", frozenset({"history", "question"}))
