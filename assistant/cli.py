"""The ``hfa`` command line: ingest the corpus, ask questions, inspect the index."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import click

from assistant.answer import format_text
from assistant.cli_chat import chat, feedback
from assistant.logs import configure_logging, log_path
from assistant.retrieval import Filters
from hfa_settings import LLM_BACKENDS, Settings, load_settings
from ingest.index import Catalog, IndexProblem
from ingest.loaders import LoadError
from ingest.manifest import ManifestError

log = logging.getLogger(__name__)
COMMAND_GROUP = "hfa.commands"


def _friendly_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the errors a user can fix into a one-line message and exit code 1; log anything else."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (IndexProblem, ManifestError, LoadError, FileNotFoundError, ValueError) as exc:
            raise click.ClickException(str(exc)) from exc
        except (click.ClickException, click.exceptions.Exit, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:
            log.exception("Uventet fejl i hfa %s", command.__name__)
            raise click.ClickException(f"Der skete en uventet fejl ({type(exc).__name__}). {_where_logged()}") from exc

    return wrapper


def _where_logged() -> str:
    ctx = click.get_current_context(silent=True)
    settings = ctx.find_object(Settings) if ctx else None
    return f"Se detaljerne i {log_path(settings)}." if settings else "Kør med -v for detaljer."


class EntryPointGroup(click.Group):
    """A group that also offers the commands other packages register under ``hfa.commands``.

    ``hfa eval`` lives in the ``eval`` package, which imports this one; it is found
    through the entry point instead of an import that would run upwards.
    """

    def _registered(self) -> dict[str, Any]:
        return {ep.name: ep for ep in entry_points(group=COMMAND_GROUP)}

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Own commands and registered ones, sorted."""
        return sorted({*super().list_commands(ctx), *self._registered()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """An own command, or a registered one loaded on first use."""
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in self._registered():
            command = self._registered()[cmd_name].load()
        return command


@click.group(cls=EntryPointGroup)
@click.option("--data-dir", type=click.Path(path_type=Path), help="Mappe til indekset (standard: ./data).")
@click.option("--corpus-dir", type=click.Path(path_type=Path), help="Mappe med dokumenterne (standard: ./corpus).")
@click.option("-v", "--verbose", is_flag=True, help="Vis log og fejldetaljer på stderr.")
@click.version_option(package_name="hfa")
@click.pass_context
def main(ctx: click.Context, data_dir: Path | None, corpus_dir: Path | None, verbose: bool) -> None:
    """Housing First-assistenten: svar med kilder fra Housing First-dokumenterne.

    \b
    Kom i gang:
      hfa ingest        # indlæs dokumenterne i corpus/
      hfa app           # åbn chatten i browseren
      hfa ask "Hvad er klagefristen for en afgørelse efter § 85 a?"
    """
    try:
        ctx.obj = load_settings(data_dir=data_dir, corpus_dir=corpus_dir)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    configure_logging(ctx.obj, verbose)


@main.command()
@click.option("--rebuild", is_flag=True, help="Byg hele indekset forfra fra corpus/, uanset hvilken tilstand det er i.")
@click.option("--check", is_flag=True, help="Tjek kun indekset mod kataloget og corpus/ (ændrer intet).")
@click.pass_obj
@_friendly_errors
def ingest(settings: Settings, rebuild: bool, check: bool) -> None:
    """Indlæs dokumenterne i corpus/ (kun ændrede dokumenter indlejres igen).

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
    from ingest.embeddings import yield_to_answers
    from ingest.pipeline import run_ingest

    yield_to_answers(settings)
    with progress_bars() as progress_factory:
        report = run_ingest(settings, rebuild=rebuild, progress_factory=progress_factory)
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


@contextmanager
def progress_bars() -> Iterator[Callable[[int, str], Callable[[int], None]]]:
    """A progress factory for ingest: one bar on stderr per embedding step, all closed afterwards."""
    from tqdm import tqdm

    bars = []

    def progress_factory(total: int, what: str) -> Callable[[int], None]:
        bar = tqdm(total=total, desc=f"Indlejrer {what}", unit="afsnit", file=sys.stderr)
        bars.append(bar)

        def advance(done: int) -> None:
            bar.update(done)

        return advance

    try:
        yield progress_factory
    finally:
        for bar in bars:
            bar.close()


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
def ask(
    settings: Settings,
    question: str,
    k: int | None,
    scope: tuple[str, ...],
    doc: tuple[str, ...],
    kind: tuple[str, ...],
    as_json: bool,
    mode: str | None,
) -> None:
    """Stil et spørgsmål og få et svar med kilder.

    \b
    Eksempler:
      hfa ask "Hvad er klagefristen for en afgørelse efter § 85 a?"
      hfa ask "Hvor lang er CTI?" --scope norddjurs
      hfa ask "Hvad er ICM?" --mode ollama
      printf 'Hvad er ICM?\nHvad er ACT?\n' | hfa ask --json -
    """
    from assistant.service import Assistant

    assistant = Assistant.open(settings.updated(llm_backend=mode))
    filters = Filters.resolve(assistant.retriever.catalog, scope, doc, kind)
    if question != "-":
        answer = assistant.answer(question, filters=filters, k=k)
        click.echo(json.dumps(answer.to_json(), ensure_ascii=False) if as_json else format_text(answer))
        return
    failed = 0
    for number, raw in enumerate(sys.stdin.buffer, start=1):
        try:
            text = raw.decode("utf-8").strip()
        except UnicodeDecodeError as exc:
            failed += 1
            reason = f"Linje {number} på stdin er ikke gyldig UTF-8 ({exc.reason}) og er sprunget over."
            click.echo(json.dumps({"line": number, "error": reason}, ensure_ascii=False) if as_json else reason)
            continue
        if text:
            answer = assistant.answer(text, filters=filters, k=k)
            click.echo(json.dumps(answer.to_json(), ensure_ascii=False) if as_json else format_text(answer))
    if failed:
        sys.exit(2)


@main.command("compare")
@click.argument("methods", nargs=-1, metavar="[METODE]...")
@click.option(
    "--aspect", "aspects", multiple=True, help="Sammenlign på dette aspekt (kan gentages; fri tekst: egen række)."
)
@click.option("--scope", multiple=True, help="Kun kilder med dette scope (national, norddjurs, aarhus …).")
@click.option("--json", "as_json", is_flag=True, help="Som JSON (se README for kontrakten).")
@click.option("--md", "as_md", is_flag=True, help="Som Markdown-tabel med kilderne under.")
@click.option("--csv", "as_csv", is_flag=True, help="Som CSV: tabellen, derefter kilderne.")
@click.pass_obj
@_friendly_errors
def compare_command(
    settings: Settings,
    methods: tuple[str, ...],
    aspects: tuple[str, ...],
    scope: tuple[str, ...],
    as_json: bool,
    as_md: bool,
    as_csv: bool,
) -> None:
    r"""Sammenlign metoderne side om side med ordrette citater fra kilderne.

    Én kolonne pr. metode (standard: alle metoder i kilderne), én række pr.
    aspekt (standard: målgruppe, formål, varighed, faser, caseload, team og
    organisering, kontakthyppighed, afslutning, hvor støtten gives) og en række
    "Tilbydes i" pr. kommune. Hver celle citerer kilderne eller siger "ikke
    beskrevet i kilderne".

    \b
    Eksempler:
      hfa compare
      hfa compare CTI ICM ACT --aspect caseload --aspect varighed
      hfa compare CTI --scope norddjurs --md > cti-norddjurs.md
      hfa compare --csv > metoder.csv
    """
    import time

    from assistant.comparison import method_table, named_aspects, resolve_methods
    from assistant.comparison_export import to_csv, to_markdown, to_text
    from assistant.service import Assistant

    chosen = [flag for flag, on in (("--json", as_json), ("--md", as_md), ("--csv", as_csv)) if on]
    if len(chosen) > 1:
        raise click.UsageError(f"Vælg én form ad gangen, ikke både {' og '.join(chosen)}.")
    assistant = Assistant.open(settings)
    vocabulary = assistant.vocabulary
    unknown = [s for s in scope if s not in vocabulary.scope_names]
    if unknown:
        raise click.BadParameter(
            f"'{unknown[0]}' findes ikke. Kendte scopes: {', '.join(vocabulary.scope_names)}.", param_hint="--scope"
        )
    started = time.perf_counter()
    table = method_table(
        assistant.corpus, settings, resolve_methods(methods, vocabulary), named_aspects(aspects, settings), scope
    )
    elapsed = (time.perf_counter() - started) * 1000
    if as_json:
        click.echo(json.dumps(table.to_json() | {"timings_ms": {"total": round(elapsed, 1)}}, ensure_ascii=False))
    else:
        click.echo((to_markdown if as_md else to_csv if as_csv else to_text)(table), nl=not (as_md or as_csv))


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
    from ingest.embeddings import describe_threading
    from ingest.lock import holder
    from ingest.pipeline import store_problems

    catalog = Catalog.load(settings.index_dir)
    if not catalog.documents:
        raise click.ClickException("Der er intet indeks endnu. Kør 'hfa ingest'.")
    for entry in sorted(catalog.documents.values(), key=lambda e: e.doc_id):
        click.echo(f"{entry.doc_id:30} {len(entry.chunk_ids):4} afsnit  {entry.scope:10} {entry.kind:17} {entry.title}")
    click.echo(f"Afsnit i alt: {len(catalog.chunks)}")
    click.echo(f"Embedder: {catalog.embedder} ({describe_threading(settings)})")
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


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Adressen chatten lytter på.")
@click.option("--port", default=8501, show_default=True, type=click.IntRange(1, 65535), help="Porten.")
@click.pass_obj
def app(settings: Settings, host: str, port: int) -> None:
    """Start chatten i browseren (Streamlit) på http://HOST:PORT.

    \b
    Eksempel:
      hfa app --port 8502
    """
    from assistant.serving import streamlit_command

    command = streamlit_command(host, port)
    env = {**os.environ, "HFA_DATA_DIR": str(settings.data_dir), "HFA_CORPUS_DIR": str(settings.corpus_dir)}
    click.echo(f"Chatten kører på http://{host}:{port} (stop med Ctrl-C).", err=True)
    # Streamlit takes this process's place, so a signal that stops `hfa app` stops the chat.
    os.execve(sys.executable, command, env)


main.add_command(chat)
main.add_command(feedback)
