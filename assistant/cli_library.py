"""``hfa add``, ``hfa remove`` and ``hfa admin-password``: a municipality's own documents, from the command line.

Registered under the ``hfa.commands`` entry points (pyproject.toml), so they
load after :mod:`assistant.cli`, whose error handling and progress bars they use.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from assistant.cli import _friendly_errors, progress_bars
from hfa_settings import Settings


@click.command("add")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--title", required=True, help="Dokumentets titel, som kilderne viser den.")
@click.option("--issuer", required=True, help='Hvem der har udgivet det, fx "Syddjurs Kommune".')
@click.option("--scope", required=True, help='Hvor det gælder: "national" eller kommunen, fx "syddjurs".')
@click.option("--kind", required=True, help="Slags dokument, fx kvalitetsstandard, manual, beslutning.")
@click.option("--date", default="", help="Dato eller år, fx 2025-03-01 (valgfri).")
@click.pass_obj
@_friendly_errors
def add_command(settings: Settings, path: Path, title: str, issuer: str, scope: str, kind: str, date: str) -> None:
    """Tilføj et dokument (PDF, Word eller tekst), så svarene kan bruge det.

    Filen kopieres ind i corpus/, skrives i manifestet og indlæses; til sidst
    udskrives dokumentets doc_id. Afvises filen, ændres intet.

    \b
    Eksempel:
      hfa add kvalitetsstandard.pdf --title "Kvalitetsstandard for bostøtte" \\
          --issuer "Syddjurs Kommune" --scope syddjurs --kind kvalitetsstandard --date 2025
    """
    from ingest.embeddings import yield_to_answers
    from ingest.library import DocumentMeta, add_document

    yield_to_answers(settings)
    meta = DocumentMeta(title=title, issuer=issuer, scope=scope, kind=kind, date=date)
    with progress_bars() as progress_factory:
        doc_id = add_document(settings, path, meta, progress_factory)
    click.echo(doc_id)
    click.echo(f"Tilføjet og indlæst som {doc_id}. Fjern det igen med 'hfa remove {doc_id}'.", err=True)


@click.command("remove")
@click.argument("doc_id")
@click.pass_obj
@_friendly_errors
def remove_command(settings: Settings, doc_id: str) -> None:
    """Fjern et dokument, så svarene ikke længere bruger det.

    Posten fjernes fra manifestet og dokumentet fra indekset; filen flyttes til
    corpus/.removed/ (den slettes ikke).

    \b
    Eksempel:
      hfa remove kvalitetsstandard-bostoette-2025
    """
    from ingest.library import remove_document

    aside = remove_document(settings, doc_id)
    click.echo(f"{doc_id} er fjernet og bruges ikke længere i svarene. Filen ligger nu i {aside}.")


@click.command("admin-password")
@_friendly_errors
def admin_password_command() -> None:
    """Lav hashen af adgangskoden til at ændre kilderne i appen.

    Læser adgangskoden skjult (to gange), eller som første linje på stdin.
    Udskriver linjen til hfa.toml; sæt den dér eller som miljøvariablen
    HFA_ADMIN_PASSWORD_HASH, og genstart appen.

    \b
    Eksempel:
      hfa admin-password >> hfa.toml
    """
    from assistant.admin import hash_password

    if sys.stdin.isatty():
        password = click.prompt("Adgangskode", hide_input=True, confirmation_prompt="Gentag adgangskoden", err=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    hashed = hash_password(password)
    click.echo(f'admin_password_hash = "{hashed}"')
    click.echo(f"Sæt linjen i hfa.toml, eller sæt HFA_ADMIN_PASSWORD_HASH={hashed} i miljøet.", err=True)
