"""The ``hfa chat`` conversation loop and ``hfa feedback`` listing/export (also as gold candidates) and purge."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from assistant.answer import Answer, format_text
from assistant.feedback import (
    FeedbackError,
    export_gold_candidates,
    feedback_path,
    gold_candidates,
    list_feedback,
    purge_older_than,
)
from assistant.retrieval import Filters
from hfa_settings import LLM_BACKENDS, Settings
from ingest.index import IndexProblem


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Ét JSON-objekt pr. tur (samme kontrakt som hfa ask --json).")
@click.option("--scope", multiple=True, help="Kun kilder med dette scope (national, norddjurs, aarhus …).")
@click.option("--doc", multiple=True, help="Kun dette dokument (doc_id).")
@click.option("--kind", multiple=True, help="Kun denne slags dokument.")
@click.option("--mode", type=click.Choice(LLM_BACKENDS), help="Udtrukne citater eller svar fra en sprogmodel.")
@click.pass_obj
def chat(
    settings: Settings,
    as_json: bool,
    scope: tuple[str, ...],
    doc: tuple[str, ...],
    kind: tuple[str, ...],
    mode: str | None,
) -> None:
    """Samtale i terminalen: ét spørgsmål pr. linje; opfølgende spørgsmål forstås ud fra de forrige.

    En tom linje starter en ny samtale.

    \b
    Eksempel:
      printf 'Hvad er det maksimale caseload i CTI?\nOg i ICM?\n' | hfa chat
      printf 'Hvad er ICM?\nHvem er målgruppen?\n\nHvad er ACT?\n' | hfa chat --json
    """
    from assistant.service import Assistant

    try:
        assistant = Assistant.open(settings.updated(llm_backend=mode))
    except IndexProblem as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        filters = Filters.resolve(assistant.retriever.catalog, scope, doc, kind)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    history: list[Answer] = []
    interactive = sys.stdin.isatty() and not as_json
    while True:
        if interactive:
            click.echo("> ", nl=False)
        line = sys.stdin.readline()
        if not line:
            break
        question = line.strip()
        if not question:
            history.clear()
            if interactive:
                click.echo("(Ny samtale)")
            continue
        answer = assistant.answer(question, history=history, filters=filters)
        history.append(answer)
        if as_json:
            click.echo(json.dumps(answer.to_json(), ensure_ascii=False))
            continue
        if answer.searched != answer.question:
            click.echo(f"(Søgte efter: {answer.searched})")
        click.echo(format_text(answer) + "\n")


class RetentionDays(click.ParamType):
    """Whole days (0 or more); the option given without a number means ``feedback_retention_days``."""

    name = "dage"
    CONFIGURED = "standard"  # the value click passes when the option stands alone

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        """The number of days, the configured retention for :attr:`CONFIGURED`."""
        if value == self.CONFIGURED:
            settings = ctx.find_object(Settings) if ctx else None
            field = Settings.model_fields["feedback_retention_days"]
            return settings.feedback_retention_days if settings else int(field.default)
        try:
            days = int(value)
        except (TypeError, ValueError):
            self.fail(f"'{value}' er ikke et helt antal dage.", param, ctx)
        if days < 0:
            self.fail(f"{days} er negativt; angiv 0 dage eller flere.", param, ctx)
        return days


@click.command()
@click.option("--export", "export", type=click.Path(dir_okay=False, path_type=Path), help="Gem som JSON Lines.")
@click.option(
    "--to-gold",
    "to_gold",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Skriv tommel ned som kandidater til guldsættet (YAML som eval/gold.yaml).",
)
@click.option("--all", "include_exported", is_flag=True, help="Med --to-gold: også feedback, der er skrevet ud før.")
@click.option("--force", is_flag=True, help="Med --to-gold: overskriv filen, hvis den findes.")
@click.option(
    "--purge-older-than",
    "purge_days",
    type=RetentionDays(),
    is_flag=False,
    flag_value=RetentionDays.CONFIGURED,
    metavar="[DAGE]",
    help="Slet feedback, der er ældre end DAGE dage (uden tal: indstillingen feedback_retention_days).",
)
@click.pass_obj
def feedback(
    settings: Settings,
    export: Path | None,
    to_gold: Path | None,
    include_exported: bool,
    force: bool,
    purge_days: int | None,
) -> None:
    """Vis brugernes feedback på svarene (eller gem den med --export FIL.jsonl).

    Med --to-gold FIL.yaml skrives hvert tommel ned (ældste først) som en kandidat til
    guldsættet, som en underviser kan nøgle og flytte til eval/gold.yaml. Feedback, der er
    skrevet ud, springes over næste gang (medmindre --all).

    Feedback rummer spørgsmål og kommentarer; --purge-older-than sletter den gamle.

    \b
    Eksempel:
      hfa feedback --to-gold kandidater.yaml
      hfa feedback --purge-older-than        # ældre end feedback_retention_days
      hfa feedback --purge-older-than 30     # ældre end 30 dage
    """
    if (include_exported or force) and not to_gold:
        raise click.UsageError("--all og --force bruges kun sammen med --to-gold.")
    if export and to_gold:
        raise click.UsageError("Brug enten --export eller --to-gold, ikke begge.")
    if purge_days is not None:
        if export or to_gold:
            raise click.UsageError("--purge-older-than bruges alene, ikke sammen med --export eller --to-gold.")
        _purge(settings, purge_days)
        return
    if to_gold:
        _write_gold_candidates(settings, to_gold, include_exported, force)
        return
    try:
        rows = list_feedback(feedback_path(settings.data_dir))
    except FeedbackError as exc:
        raise click.ClickException(str(exc)) from exc
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


def _purge(settings: Settings, days: int) -> None:
    """``hfa feedback --purge-older-than``: delete the old feedback and say how much went."""
    try:
        deleted = purge_older_than(feedback_path(settings.data_dir), days)
    except FeedbackError as exc:
        raise click.ClickException(str(exc)) from exc
    age = f"{days} dag" if days == 1 else f"{days} dage"
    if not deleted:
        click.echo(f"Ingen feedback er ældre end {age}; intet er slettet.")
        return
    click.echo(f"Slettede {deleted} feedback-svar, der var ældre end {age}.")


def _write_gold_candidates(settings: Settings, target: Path, include_exported: bool, force: bool) -> None:
    """``hfa feedback --to-gold``: write the thumbs-down feedback as gold candidates and say what to do next."""
    try:
        written = export_gold_candidates(feedback_path(settings.data_dir), target, include_exported, force)
    except FileExistsError as exc:
        raise click.ClickException(
            f"{target} findes allerede og er ikke ændret. Vælg et andet filnavn, eller brug --force for at overskrive."
        ) from exc
    except FeedbackError as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:
        raise click.ClickException(
            f"Kunne ikke skrive {target} ({exc}). Findes mappen, og må du skrive i den?"
        ) from exc
    if not written:
        click.echo(_nothing_to_write(settings, include_exported))
        return
    noun = "kandidat" if written == 1 else "kandidater"
    click.echo(f"Skrev {written} {noun} til guldsættet i {target}.")
    click.echo(
        "Nøgl dem sådan: udfyld evidence (doc_id og et ordret citat) og facts, sæt category, giv et rigtigt id, "
        "og flyt dem til eval/gold.yaml."
    )


def _nothing_to_write(settings: Settings, include_exported: bool) -> str:
    """Why ``--to-gold`` wrote no file: no thumbs-down at all, or all of it written out before."""
    if include_exported or not gold_candidates(feedback_path(settings.data_dir), include_exported=True):
        return "Der er ingen feedback med tommel ned endnu, så der er ikke skrevet nogen fil."
    return (
        "Al feedback med tommel ned er skrevet ud før, så der er ikke skrevet nogen fil "
        "(brug --all for at skrive den ud igen)."
    )
