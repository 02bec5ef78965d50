"""Render an eval report: a terminal table, Markdown, and a PNG chart per category."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from eval.gold import OUT_OF_SCOPE

TABLE = (
    ("recall@5", "recall@5"),
    ("mrr", "MRR"),
    ("ndcg@10", "nDCG@10"),
    ("fact_recall", "fakta synlige"),
    ("citation_precision", "citat-præcision"),
    ("citation_recall", "citat-recall"),
    ("groundedness", "forankring"),
    ("verbatim", "ordrette citater"),
    ("complete", "komplette svar"),
    ("answer_rate", "besvaret (inde)"),
    ("not_covered_rate", "ikke dækket (inde)"),
    ("wrong_answer_rate", "forkerte af givne svar"),
    ("out_of_scope_not_answered", "ikke besvaret (ude)"),
    ("resolved", "opfølgning løst"),
    ("refusal_accuracy", "afvisning (ude)"),
    ("false_refusal_rate", "fejlafvisning (inde)"),
    ("latency_p50_ms", "p50 ms"),
    ("latency_p95_ms", "p95 ms"),
    ("context_chars", "kontekst tegn"),
)
CHART_METRICS = ("recall@5", "mrr", "fact_recall", "citation_precision")
REPORT_NAME = "eval-report"


def _cell(value: float | None, name: str) -> str:
    if value is None:
        return "–"
    return f"{value:.0f}" if name.endswith("_ms") or name == "context_chars" else f"{value:.3f}"


def table_rows(report: Mapping[str, Any], category: str = "alle") -> list[list[str]]:
    """Header and one row per metric, one column per system."""
    systems = report["systems"]
    rows = [["", *systems]]
    for name, label in TABLE:
        rows.append([label, *(_cell(s["summary"].get(category, {}).get(name), name) for s in systems.values())])
    return rows


def text_table(rows: Sequence[Sequence[str]]) -> str:
    """Rows as aligned plain text."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
        for r in rows
    )


def markdown_table(rows: Sequence[Sequence[str]]) -> str:
    """Rows as a Markdown table."""
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    return "\n".join(lines)


def markdown(report: Mapping[str, Any], regressions: Sequence[str] = ()) -> str:
    """The whole report as Markdown: overall, per category, failures and regressions."""
    first = next(iter(report["systems"].values()))
    categories = [c for c in first["summary"] if c != "alle"]
    parts = [
        f"# Evaluering {report['created']}",
        f"{report['items']} spørgsmål.",
        "## Samlet",
        markdown_table(table_rows(report)),
    ]
    for category in categories:
        parts += [f"## {category}", markdown_table(table_rows(report, category))]
    for name, system in report["systems"].items():
        clusters = Counter(f["cluster"] for f in system["failures"])
        parts.append(f"## Fejl: {name} ({len(system['failures'])})")
        parts += [
            f"- **{cluster}** ({count}): "
            + ", ".join(f["item_id"] for f in system["failures"] if f["cluster"] == cluster)
            for cluster, count in clusters.most_common()
        ]
    for name, system in report["systems"].items():
        curves = system.get("risk_coverage") or {}
        if curves:
            rows = [["answer_confidence", *(f"{split}: dækning / risiko" for split in curves)]]
            for i, point in enumerate(next(iter(curves.values()))):
                cells = [f"{c[i]['coverage']:.3f} / {c[i]['risk']:.3f}" for c in curves.values()]
                rows.append([f"{point['threshold']:.2f}", *cells])
            parts += [
                f"## Risiko–dækning: {name}",
                "Dækning: andel af de besvarbare spørgsmål, der besvares; risiko: andel forkerte af de givne svar.",
                markdown_table(rows),
            ]
    if regressions:
        parts += ["## Regressioner", *(f"- {line}" for line in regressions)]
    return "\n\n".join(parts) + "\n"


def chart(report: Mapping[str, Any], path: Path) -> None:
    """Bar charts of the chart metrics per category, one bar per system."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    systems = report["systems"]
    first = next(iter(systems.values()))
    categories = [c for c in first["summary"] if c != OUT_OF_SCOPE and (not c.startswith("#") or c == "#everyday")]
    figure, axes = plt.subplots(len(CHART_METRICS), 1, figsize=(11, 3 * len(CHART_METRICS)), sharex=True)
    width = 0.8 / len(systems)
    for ax, metric in zip(axes, CHART_METRICS, strict=True):
        for i, (name, system) in enumerate(systems.items()):
            values = [system["summary"][c].get(metric) or 0.0 for c in categories]
            ax.bar([x + i * width for x in range(len(categories))], values, width, label=name)
        ax.set_ylabel(metric)
        ax.set_ylim(0, 1)
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(loc="lower right", ncols=len(systems), fontsize="small")
    axes[-1].set_xticks([x + 0.4 - width / 2 for x in range(len(categories))], categories)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def risk_chart(report: Mapping[str, Any], path: Path) -> None:
    """The risk–coverage curve per system: answered share of answerable questions against wrong answers."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(6, 5))
    for name, system in report["systems"].items():
        for split, curve in (system.get("risk_coverage") or {}).items():
            ax.plot([p["coverage"] for p in curve], [p["risk"] for p in curve], "o-", label=f"{name}: {split}")
            for p in curve[::4]:
                ax.annotate(f"{p['threshold']:.2f}", (p["coverage"], p["risk"]), fontsize=7)
    ax.set_xlabel("dækning (besvarbare spørgsmål, der besvares)")
    ax.set_ylabel("risiko (forkerte blandt de givne svar)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def write(report: Mapping[str, Any], out_dir: Path, regressions: Sequence[str] = ()) -> list[Path]:
    """Write the JSON, Markdown and PNG report files (metrics and the risk–coverage curve); their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{REPORT_NAME}.{ext}" for ext in ("json", "md", "png")]
    paths.append(out_dir / f"{REPORT_NAME}-risk.png")
    paths[0].write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    paths[1].write_text(markdown(report, regressions), encoding="utf-8")
    chart(report, paths[2])
    risk_chart(report, paths[3])
    return paths
