"""Speed and retrieval figures of the core, printed (not asserted).

    python -m eval.bench [--data-dir DIR] [--load]

Prints: full ingest time, unchanged re-ingest time, warm `ask` latency p50/p95
over the gold questions, retrieval recall@5 and MRR on the in-scope ones, and
the time to build the whole default method comparison (`hfa compare`).
With ``--load``: answer times on a busy machine instead (see eval/bench_load.py).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from assistant.service import Assistant
from eval import bench_load
from eval.comparison import timed_table
from eval.gold import load_gold
from eval.metrics import percentile, recall_at, reciprocal_rank
from hfa_settings import load_settings
from ingest.embeddings import make_embeddings
from ingest.pipeline import run_ingest


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, help="index folder (default: a fresh temporary one)")
    parser.add_argument("--load", action="store_true", help="answer times idle, during an ingest and in the app")
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="hfa-bench-"))
    settings = load_settings(data_dir=data_dir)
    embeddings = make_embeddings(settings)
    if args.load:
        run_ingest(settings, embeddings=embeddings)
        questions = [item.question for item in load_gold()]
        bench_load.run(settings, Assistant.open(settings, embeddings), questions)
        return

    full = _timed(lambda: run_ingest(settings, rebuild=True, embeddings=embeddings))
    unchanged = _timed(lambda: run_ingest(settings, embeddings=embeddings))
    assistant = Assistant.open(settings, embeddings)
    items = load_gold()
    assistant.answer(items[0].question)  # warm-up
    latencies, recalls, ranks = [], [], []
    for item in items:
        started = time.perf_counter()
        answer = assistant.answer(item.question)
        latencies.append((time.perf_counter() - started) * 1000)
        if not item.out_of_scope:
            passages = answer.to_json()["passages"]
            recalls.append(recall_at(item, passages, 5))
            ranks.append(reciprocal_rank(item, passages))

    print(f"full ingest:              {full:7.1f} s")
    print(f"unchanged re-ingest:      {unchanged:7.2f} s")
    p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
    print(f"warm ask p50 / p95:       {p50:7.1f} / {p95:.1f} ms  (n={len(items)})")
    recall, mrr = statistics.mean(recalls), statistics.mean(ranks)
    print(f"retrieval recall@5 / MRR: {recall:7.3f} / {mrr:.3f}  (n={len(recalls)})")
    table, table_ms = timed_table(assistant)
    cells = len(table.rows) * len(table.methods)
    print(f"compare, default table:   {table_ms:7.1f} ms  ({cells} cells, median of warm builds)")


if __name__ == "__main__":
    main()
