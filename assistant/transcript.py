"""A conversation as a Markdown document the user can download."""

from __future__ import annotations

from assistant.answer import Answer, source_label


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" for line in text.splitlines() or [""])


def to_markdown(answers: list[Answer], title: str = "Samtale med Housing First-assistenten") -> str:
    """Every question and answer with its numbered sources and the quoted sentences."""
    lines = [f"# {title}", ""]
    for turn, answer in enumerate(answers, start=1):
        lines += [f"## {turn}. {answer.question}", ""]
        if answer.searched and answer.searched != answer.question:
            lines += [f"*Søgte efter: {answer.searched}*", ""]
        lines += [answer.text, ""]
        lines += [f"*{notice}*" for notice in answer.notices]
        if answer.notices:
            lines.append("")
        if answer.citations:
            lines += ["### Kilder", ""]
            for n, chunk in answer.sources():
                lines += [f"**[{n}]** {source_label(chunk)}", ""]
                lines += [_quote(c.quote) + "\n" for c in answer.citations if c.n == n]
    return "\n".join(lines).rstrip() + "\n"
