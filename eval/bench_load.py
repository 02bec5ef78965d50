"""Answer speed on a busy machine, printed (not asserted).

    python -m eval.bench --load [--data-dir DIR]

Prints p50/p95 of answers asked in-process, idle and while ``hfa ingest --rebuild`` of the whole
corpus runs into a scratch data directory in another process; then the browser's submit-to-answer
time through the running app (Streamlit on 127.0.0.1, headless Chromium), for one asker and for
four asking at the same time, each in its own session.
"""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from assistant.service import Assistant
from eval.bench_app import CHAT_INPUT, CHROMIUM, CHROMIUM_ARGS, QUESTIONS, ask_async, running_app
from eval.metrics import percentile
from hfa_settings import Settings

# The other process loads its engine and reads the corpus before it embeds.
INGEST_WARMUP_SECONDS = 5.0
MAX_ASKS = 2000
CONCURRENT_ASKERS = 4
VIEWPORT = {"width": 1400, "height": 1000}


def answer_times(assistant: Assistant, questions: Iterable[str]) -> list[float]:
    """Milliseconds per answer to each question."""
    times: list[float] = []
    for question in questions:
        started = time.perf_counter()
        assistant.answer(question)
        times.append((time.perf_counter() - started) * 1000)
    return times


def during_ingest_times(assistant: Assistant, questions: Sequence[str], settings: Settings) -> list[float]:
    """The questions asked over and over (at most MAX_ASKS) while another process indexes the whole corpus."""
    hfa = str(Path(sys.executable).with_name("hfa"))
    with tempfile.TemporaryDirectory(prefix="hfa-bench-ingest-") as scratch:
        command = [hfa, "--data-dir", scratch, "--corpus-dir", str(settings.corpus_dir), "ingest", "--rebuild"]
        ingest = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(INGEST_WARMUP_SECONDS)
        asked = itertools.islice(itertools.cycle(questions), MAX_ASKS)
        times = answer_times(assistant, itertools.takewhile(lambda _: ingest.poll() is None, asked))
        if ingest.wait() != 0:
            raise RuntimeError(f"The ingest under load failed: {' '.join(command)}")
    return times


async def _open_chat(browser: Any, url: str) -> Any:
    """A person's own session with the chat open and ready."""
    page = await (await browser.new_context(viewport=VIEWPORT)).new_page()
    await page.goto(url)
    await page.get_by_test_id(CHAT_INPUT).wait_for(timeout=180_000)
    return page


async def _ask_in_turn(page: Any, questions: Sequence[str]) -> list[float]:
    """One person asking the questions one after another (ms each)."""
    return [await ask_async(page, question) * 1000 for question in questions]


async def _browser_times(url: str, askers: int, questions: Sequence[str]) -> list[float]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # Everyone has the chat open before anyone asks: loading a page is not part of an answer.
        pages = await asyncio.gather(*(_open_chat(browser, url) for _ in range(askers)))
        # Each starts at a different question, as colleagues do (they do not ask the same thing at once).
        starts = [i * len(questions) // askers for i in range(askers)]
        turns = [[*questions[start:], *questions[:start]] for start in starts]
        per_asker = await asyncio.gather(*(_ask_in_turn(page, own) for page, own in zip(pages, turns, strict=True)))
        await browser.close()
    return [ms for times in per_asker for ms in times]


def browser_times(url: str, askers: int, questions: Sequence[str] = QUESTIONS) -> list[float]:
    """Submit-to-answer milliseconds in the app, with ``askers`` people asking at the same time."""
    return asyncio.run(_browser_times(url, askers, questions))


def _row(label: str, times: Sequence[float], idle: Sequence[float] | None = None) -> str:
    p50, p95 = percentile(times, 50) or 0.0, percentile(times, 95) or 0.0
    line = f"  {label:34} {p50:7.1f} {p95:8.1f} {len(times):6}"
    if idle:
        line += f"   ({p50 / (percentile(idle, 50) or 1):.2f}× / {p95 / (percentile(idle, 95) or 1):.2f}× idle)"
    return line


def run(settings: Settings, assistant: Assistant, questions: Sequence[str]) -> None:
    """Measure and print answer times idle, during an ingest, and through the app for 1 and 4 askers."""
    assistant.answer(questions[0])  # warm-up
    print(f"  {'answers (ms)':34} {'p50':>7} {'p95':>8} {'n':>6}")
    idle = answer_times(assistant, questions)
    print(_row("in-process, idle", idle), flush=True)
    print(_row("in-process, during a full ingest", during_ingest_times(assistant, questions, settings), idle))
    with running_app(settings.data_dir, Path(tempfile.gettempdir()) / "hfa-bench-load-app.log") as url:
        alone = browser_times(url, 1)
        print(_row("browser submit-to-answer, 1 asker", alone), flush=True)
        together = browser_times(url, CONCURRENT_ASKERS)
        print(_row(f"browser, {CONCURRENT_ASKERS} askers at once", together, alone))
