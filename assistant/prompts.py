"""The prompts of generative answering, loaded from the text files in ``prompts/``.

Each template must use exactly its expected variables: a file that drops or adds
one is an error when it is loaded, not a silently wrong prompt.
"""

from __future__ import annotations

from pathlib import Path

from langchain_core.prompts import ChatPromptTemplate, PromptTemplate

from hfa_settings import Settings

ANSWER_VARIABLES = frozenset({"question", "passages"})
REWRITE_VARIABLES = frozenset({"history", "question"})


def load_template(prompts_dir: Path, name: str, variables: frozenset[str]) -> PromptTemplate:
    """The template in ``prompts_dir/name``, checked to use exactly ``variables``."""
    path = prompts_dir / name
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"Promptfilen {path} mangler.") from exc
    template = PromptTemplate.from_template(text)
    found = set(template.input_variables)
    if found != variables:
        raise ValueError(f"Promptfilen {path} skal bruge variablerne {sorted(variables)}, men bruger {sorted(found)}.")
    return template


def answer_prompt(settings: Settings) -> ChatPromptTemplate:
    """System rules plus the user message with the numbered passages and the question."""
    system = load_template(settings.prompts_dir, "system.txt", frozenset())
    user = load_template(settings.prompts_dir, "answer.txt", ANSWER_VARIABLES)
    return ChatPromptTemplate.from_messages([("system", system.template), ("human", user.template)])


def rewrite_prompt(settings: Settings) -> ChatPromptTemplate:
    """Earlier questions plus a follow-up, to be rewritten as a standalone question."""
    user = load_template(settings.prompts_dir, "rewrite.txt", REWRITE_VARIABLES)
    return ChatPromptTemplate.from_messages([("human", user.template)])
