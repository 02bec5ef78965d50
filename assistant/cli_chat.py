"""The ``hfa chat`` conversation loop and ``hfa feedback`` listing/export."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from assistant.answer import format_text
from assistant.feedback import feedback_path, list_feedback
from assistant.generation import generate_answer, rewrite_with_llm
from assistant.settings import Settings
from ingest.index import IndexProblem


@click.command()
@click.pass_obj
def chat(settings: Settings) -> None:
    r"""Samtale i terminalen: ét spørgsmål pr. linje; opfølgende spørgsmål forstås ud fra de forrige.

    \b
    Eksempel:
      printf 'Hvad er det maksimale caseload i CTI?\nOg i ICM?\n' | hfa chat
    """
    from assistant.service import Assistant

    try:
        assistant = Assistant.open(settings)
    except IndexProblem as exc:
        raise click.ClickException(str(exc)) from exc
    history: list[str] = []
    interactive = sys.stdin.isatty()
    while True:
        if interactive:
            click.echo("> ", nl=False)
        line = sys.stdin.readline()
        if not line:
            break
        question = line.strip()
        if not question:
            continue
        searched = rewrite_with_llm(history, question, settings)
        history.append(question)
        answer = generate_answer(assistant, searched, settings)
        if searched != question:
            click.echo(f"(Søgte efter: {searched})")
        click.echo(format_text(answer) + "\n")


@click.command()
@click.option("--export", "export", type=click.Path(dir_okay=False, path_type=Path), help="Gem som JSON Lines.")
@click.pass_obj
def feedback(settings: Settings, export: Path | None) -> None:
    """Vis brugernes feedback på svarene (eller gem den med --export FIL.jsonl)."""
    rows = list_feedback(feedback_path(settings.data_dir))
    if export:
        with export.open("w", encoding="utf-8") as out:
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
        click.echo(f"Gemte {len(rows)} feedback-svar i {export}.")
        return
    if not rows:
        click.echo("Der er ingen feedback endnu.")
        return
    for row in rows:
        mark = "👍" if row["helpful"] else "👎"
        comment = f" — {row['comment']}" if row["comment"] else ""
        click.echo(f"{row['created']} {mark} {row['question']}{comment}")
    helpful = sum(row["helpful"] for row in rows)
    click.echo(f"I alt {len(rows)}: {helpful} op, {len(rows) - helpful} ned.")
