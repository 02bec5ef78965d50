"""``hfa eval``: run the gold set through ours and the baselines, report, compare and gate."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from hfa_settings import LLM_BACKENDS, PROJECT_ROOT, Settings

DEFAULT_OUT = PROJECT_ROOT / "eval" / "reports"


@click.command("eval")
@click.option("--category", multiple=True, help="Kun denne kategori (kan gentages).")
@click.option("--tag", multiple=True, help="Kun spørgsmål med dette tag (kan gentages).")
@click.option(
    "--compare", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Tidligere rapport (JSON)."
)
@click.option("--no-baselines", is_flag=True, help="Kun vores system, ingen baselines.")
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_OUT, show_default=True
)
@click.option(
    "--mode",
    type=click.Choice(LLM_BACKENDS),
    help="Svarform for vores system (standard: HFA_LLM_BACKEND); baselines er altid udtrukne.",
)
@click.option("--gate", is_flag=True, help="Afslut med fejl, hvis vores tal er under grænserne.")
@click.option("--thresholds", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Grænsefil (TOML).")
@click.option("--comparison", is_flag=True, help="Kun metodesammenligningen (eval/comparison_gold.yaml).")
@click.pass_obj
def eval_command(
    settings: Settings,
    category: tuple[str, ...],
    tag: tuple[str, ...],
    compare: Path | None,
    no_baselines: bool,
    out_dir: Path,
    mode: str | None,
    gate: bool,
    thresholds: Path | None,
    comparison: bool,
) -> None:
    r"""Evaluer svarene mod guldsættet (eval/gold.yaml og eval/conversations.yaml).

    \b
    Eksempler:
      hfa eval                                   # vores system og baselines
      hfa eval --category regler --no-baselines
      hfa eval --compare forrige.json            # vis regressioner pr. spørgsmål
      hfa eval --gate --no-baselines             # CI: fejl under eval/thresholds.toml
      hfa eval --mode ollama --no-baselines      # svar fra den indstillede sprogmodel
      hfa eval --comparison --gate               # kun metodesammenligningen (hfa compare)

    Guldsættet er delt én gang i dev og test (eval/split.yaml); blindsættet
    (eval/blind*.yaml) hører til test. Tabellen viser dev, test og blind side om
    side, og --gate læser test. Tun og træn kun på dev.

    Uden --category/--tag scores også metodesammenligningen (celle-nøjagtighed,
    tomme celler, 'Tilbydes i', tid for hele tabellen) mod eval/comparison_gold.yaml.
    """
    if comparison:
        sys.exit(_comparison(settings, gate, thresholds))
    from assistant.service import Assistant
    from eval import report as render
    from eval import runner
    from eval.split import sided_items
    from ingest.embeddings import make_embeddings
    from ingest.index import IndexProblem

    items = [
        item
        for item in sided_items()
        if (not category or item.category in category) and (not tag or set(tag) & set(item.tags))
    ]
    if not items:
        raise click.ClickException("Ingen spørgsmål passer til filtrene.")
    try:
        ours = Assistant.open(settings.updated(llm_backend=mode), make_embeddings(settings))
    except IndexProblem as exc:
        raise click.ClickException(str(exc)) from exc
    systems = {runner.OURS: ours}
    if not no_baselines:
        from eval.baselines import baseline_assistants

        click.echo("Bygger baselines …", err=True)
        systems |= baseline_assistants(ours)

    def progress(name: str) -> None:
        click.echo(f"Evaluerer {name} ({len(items)} spørgsmål) …", err=True)

    report = runner.evaluate(systems, items, progress)
    regressions = runner.regressions(json.loads(compare.read_text(encoding="utf-8")), report) if compare else []
    paths = render.write(report, out_dir, regressions)
    click.echo(render.text_table(split_columns(report)))
    if regressions:
        click.echo(f"\nRegressioner ({len(regressions)}):")
        click.echo("\n".join(f"  {line}" for line in regressions))
    click.echo("\nRapport: " + ", ".join(str(p) for p in paths))
    failed = _comparison(settings, gate, thresholds) if not (category or tag) else 0
    if gate:
        problems = runner.gate(
            report["systems"][runner.OURS]["summary"][f"#{GATED_SPLIT}"],
            runner.load_thresholds(thresholds or runner.THRESHOLDS_FILE),
        )
        if problems:
            click.echo("\nGATE FEJLEDE:", err=True)
            click.echo("\n".join(f"  {p}" for p in problems), err=True)
            sys.exit(1)
        if failed:
            sys.exit(1)
        click.echo("Gate: alle tal er inden for grænserne.")


GATED_SPLIT = "test"


def split_columns(report: dict) -> list[list[str]]:
    """Our system's table with one column per split (dev, test, blind) and all, then the other systems."""
    from eval import report as render
    from eval import runner

    summary = report["systems"][runner.OURS]["summary"]
    splits = [s for s in ("dev", "test", "blind") if f"#{s}" in summary]
    columns = [render.table_rows(report, f"#{s}") for s in splits] + [render.table_rows(report)]
    header = ["", *splits, *(f"alle: {name}" for name in report["systems"])]
    rows = [header]
    for i in range(1, len(columns[0])):
        rows.append([columns[0][i][0], *(c[i][1] for c in columns[:-1]), *columns[-1][i][1:]])
    return rows


def _comparison(settings: Settings, gate: bool, thresholds: Path | None) -> int:
    """Score the method comparison and print it; 1 when gated and outside its targets."""
    from eval import comparison

    result = comparison.run(settings)
    click.echo("\n" + "\n".join(comparison.summary_lines(result)))
    problems = comparison.gate(result, comparison.load_targets(thresholds or comparison.THRESHOLDS_FILE))
    if gate and problems:
        click.echo("\nGATE FEJLEDE:", err=True)
        click.echo("\n".join(f"  {p}" for p in problems), err=True)
        return 1
    return 0
