"""The ``hfa`` command line: ingest the corpus, ask questions, inspect the index."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from functools import wraps
from pathlib import Path

import click

from assistant.answer import format_text
from assistant.retrieval import Filters
from assistant.settings import LLM_BACKENDS, Settings, load_settings
from ingest.index import Catalog, IndexProblem
from ingest.loaders import LoadError
from ingest.manifest import ManifestError


def _friendly_errors(command):
    """Turn the errors a user can fix into a one-line message and exit code 1."""

    @wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (IndexProblem, ManifestError, LoadError, FileNotFoundError, ValueError) as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper


@click.group()
@click.option("--data-dir", type=click.Path(path_type=Path), help="Mappe til indekset (standard: ./data).")
@click.option("--corpus-dir", type=click.Path(path_type=Path), help="Mappe med dokumenterne (standard: ./corpus).")
@click.pass_context
def main(ctx: click.Context, data_dir: Path | None, corpus_dir: Path | None) -> None:
    """Housing First-assistenten: svar med kilder fra Housing First-dokumenterne."""
    try:
        ctx.obj = load_settings(data_dir=data_dir, corpus_dir=corpus_dir)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc


@main.command()
@click.option("--rebuild", is_flag=True, help="Byg hele indekset forfra fra corpus/, uanset hvilken tilstand det er i.")
@click.option("--check", is_flag=True, help="Tjek kun indekset mod kataloget og corpus/ (ændrer intet).")
@click.pass_obj
@_friendly_errors
def ingest(settings: Settings, rebuild: bool, check: bool) -> None:
    r"""Indlæs dokumenterne i corpus/ (kun ændrede dokumenter indlejres igen).

    Hver indlæsning retter først indekset til efter kataloget (fx efter en
    afbrudt indlæsning). Kører en anden indlæsning, ventes der på den.

    \b
    Eksempel:
      hfa ingest            # opdater indekset
      hfa ingest --check    # tjek uden at ændre noget (kode 1, hvis noget skal rettes)
      hfa ingest --rebuild  # byg forfra, fx efter skift af embedder eller et ødelagt indeks
    """
    if check and rebuild:
        raise click.UsageError("--check og --rebuild kan ikke bruges sammen: --check ændrer intet.")
    if check:
        _check(settings)
        return
    from tqdm import tqdm

    from ingest.pipeline import run_ingest

    bars = []

    def progress_factory(total: int):
        bar = tqdm(total=total, desc="Indlejrer afsnit", unit="afsnit", file=sys.stderr)
        bars.append(bar)
        return bar.update

    report = run_ingest(settings, rebuild=rebuild, progress_factory=progress_factory)
    for bar in bars:
        bar.close()
    for repair in report.repairs:
        click.echo(f"Rettet: {repair}")
    for label, ids in (
        ("Tilføjet", report.added),
        ("Opdateret", report.updated),
        ("Fjernet", report.removed),
    ):
        if ids:
            click.echo(f"{label}: {', '.join(ids)}")
    click.echo(f"Uændret: {len(report.unchanged)} dokument(er). Indlejrede afsnit: {report.chunks_embedded}.")
    for name, reason in report.skipped.items():
        click.echo(f"ADVARSEL: {name} {reason}.", err=True)
    for name, reason in report.failed.items():
        click.echo(f"FEJL i {name}: {reason}", err=True)
    if report.failed:
        sys.exit(2)


def _check(settings: Settings) -> None:
    """``hfa ingest --check``: report, and exit 1 when ``hfa ingest`` has something to do."""
    from ingest.pipeline import check_index

    result = check_index(settings)
    for line in result.facts + result.problems:
        click.echo(line)
    if result.problems:
        click.echo("Indekset er ikke i orden. Kør 'hfa ingest' for at rette det.")
        sys.exit(1)
    click.echo("Indekset er i orden og passer til corpus/.")


def _filters(scope: tuple[str, ...], doc: tuple[str, ...], kind: tuple[str, ...]) -> Filters:
    return Filters(doc_ids=doc, scopes=scope, kinds=kind)


@main.command()
@click.argument("question")
@click.option("--k", "k", type=click.IntRange(1, 50), help="Antal passager at hente.")
@click.option("--scope", multiple=True, help="Kun kilder med dette scope (national, norddjurs, aarhus …).")
@click.option("--doc", multiple=True, help="Kun dette dokument (doc_id).")
@click.option("--kind", multiple=True, help="Kun denne slags dokument (manual, kvalitetsstandard …).")
@click.option("--json", "as_json", is_flag=True, help="Svar som JSON (med '-' : ét spørgsmål pr. linje på stdin).")
@click.option(
    "--mode",
    type=click.Choice(LLM_BACKENDS),
    help="Udtrukne citater eller svar fra en sprogmodel (standard: HFA_LLM_BACKEND, ellers extractive).",
)
@click.pass_obj
@_friendly_errors
def ask(settings: Settings, question: str, k, scope, doc, kind, as_json: bool, mode: str | None) -> None:
    r"""Stil et spørgsmål og få et svar med kilder.

    \b
    Eksempler:
      hfa ask "Hvad er klagefristen for en afgørelse efter § 85 a?"
      hfa ask "Hvor lang er CTI?" --scope norddjurs
      hfa ask "Hvad er ICM?" --mode ollama
      printf 'Hvad er ICM?\nHvad er ACT?\n' | hfa ask --json -
    """
    from assistant.generation import generate_answer
    from assistant.service import Assistant

    settings = replace(settings, llm_backend=mode or settings.llm_backend)
    assistant = Assistant.open(settings)
    filters = _filters(scope, doc, kind)
    questions = (line.strip() for line in sys.stdin) if question == "-" else iter([question])
    streamed: list[str] = []

    def show(token: str) -> None:
        streamed.append(token)
        click.echo(token, nl=False)

    for text in questions:
        if not text:
            continue
        streamed.clear()
        answer = generate_answer(assistant, text, settings, on_token=None if as_json else show, filters=filters, k=k)
        if as_json:
            click.echo(json.dumps(answer.to_json(), ensure_ascii=False))
            continue
        if streamed:
            click.echo()
        click.echo(format_text(answer, with_text=not streamed or answer.fallback_reason is not None))


@main.command()
@click.pass_obj
def doctor(settings: Settings) -> None:
    """Tjek at den valgte sprogmodel kan nås og findes (afslutter med kode 1, hvis ikke)."""
    from assistant.doctor import diagnose

    diagnosis = diagnose(settings)
    for line in diagnosis.lines:
        click.echo(line)
    if not diagnosis.ok:
        sys.exit(1)


@main.command()
@click.pass_obj
@_friendly_errors
def sources(settings: Settings) -> None:
    """Vis de indlæste dokumenter, antal afsnit, embedder og seneste indlæsning.

    Passer vektorlageret eller det leksikale indeks ikke til kataloget, siges
    det, og kommandoen slutter med kode 1.
    """
    from ingest.lock import holder
    from ingest.pipeline import store_problems

    catalog = Catalog.load(settings.index_dir)
    if not catalog.documents:
        raise click.ClickException("Der er intet indeks endnu. Kør 'hfa ingest'.")
    for entry in sorted(catalog.documents.values(), key=lambda e: e.doc_id):
        click.echo(f"{entry.doc_id:30} {len(entry.chunk_ids):4} afsnit  {entry.scope:10} {entry.kind:17} {entry.title}")
    click.echo(f"Afsnit i alt: {len(catalog.chunks)}")
    click.echo(f"Embedder: {catalog.embedder}")
    click.echo(f"Seneste indlæsning: {catalog.last_ingest}")
    running = holder(settings.index_dir)
    if running is not None:
        click.echo(f"En indlæsning kører lige nu (proces {running}); tallene kan ændre sig.")
        return
    problems = store_problems(settings, catalog)
    for problem in problems:
        click.echo(f"ADVARSEL: {problem}", err=True)
    if problems:
        click.echo("Indekset passer ikke til kataloget. Kør 'hfa ingest' for at rette det.", err=True)
        sys.exit(1)


from assistant.cli_chat import chat, feedback  # noqa: E402

main.add_command(chat)
main.add_command(feedback)
from eval.cli import eval_command  # noqa: E402

main.add_command(eval_command)
