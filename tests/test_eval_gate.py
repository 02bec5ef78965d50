from dataclasses import replace

import pytest
from click.testing import CliRunner

from assistant.cli import main
from assistant.retrieval import Filters, HybridRetriever, Passage, Preference
from assistant.service import Assistant
from eval import runner
from eval.split import TEST, sided_items

pytestmark = pytest.mark.slow


class ReversedRetriever(HybridRetriever):
    """Broken on purpose: returns the worst of the candidates, worst first."""

    def search(
        self, question: str, k: int | None = None, filters: Filters | None = None, prefer: Preference | None = None
    ) -> list[Passage]:
        k = k or self.k
        candidates = super().search(question, self.settings.candidate_k, filters, prefer)
        return [replace(p, rank=rank) for rank, p in enumerate(candidates[::-1][:k], start=1)]


def overall(assistant: Assistant) -> dict:
    """Our figures on the test split, which the CI gate reads."""
    test = [item for item in sided_items() if TEST in item.tags]
    return runner.evaluate({runner.OURS: assistant}, test)["systems"][runner.OURS]["summary"]["alle"]


def test_gate_passes_with_the_real_retriever(assistant):
    assert runner.gate(overall(assistant), runner.load_thresholds()) == []


def test_gate_fails_with_a_broken_retriever(assistant, corpus_settings):
    real = assistant.retriever
    broken = ReversedRetriever(
        settings=real.settings,
        catalog=real.catalog,
        embeddings=real.embeddings,
        vectors=real.vectors,
        lexical=real.lexical,
        k=real.k,
    )
    problems = runner.gate(overall(Assistant(corpus_settings, broken)), runner.load_thresholds())
    failed = {p.split(":")[0] for p in problems}
    assert {"recall@5", "mrr", "fact_recall"} <= failed


@pytest.mark.parametrize(("minimum", "exit_code"), [(0.0, 0), (1.01, 1)])
def test_eval_command_exit_code_follows_the_gate(corpus_settings, tmp_path, minimum, exit_code):
    thresholds = tmp_path / "thresholds.toml"
    thresholds.write_text(f"[min]\nout_of_scope_not_answered = {minimum}\n", encoding="utf-8")
    out = tmp_path / "reports"
    args = ["--data-dir", str(corpus_settings.data_dir), "eval", "--category", "uden-for-kilderne"]
    args += ["--no-baselines", "--gate", "--thresholds", str(thresholds), "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == exit_code, result.output
    assert (out / "eval-report.json").is_file() and (out / "eval-report.png").stat().st_size > 0
    assert ("GATE FEJLEDE" in result.output) is bool(exit_code)
