"""Time the Streamlit chat end to end: from submitting a question to the answer rendered.

Starts the real app (``streamlit run app.py``) on a free port and drives it with
headless Chromium (Debian's ``/usr/bin/chromium``), then prints p50/p95 over
the questions. The browser tests use the same helpers.

    python -m eval.bench_app [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from assistant.serving import streamlit_command
from eval.metrics import percentile
from hfa_settings import PROJECT_ROOT, load_settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
QUESTIONS = [
    "Hvad er klagefristen for en afgørelse efter § 85 a?",
    "Hvad er det maksimale caseload i CTI?",
    "Og i ICM?",
    "Hvem er målgruppen for ACT?",
    "Hvor længe varer bostøtten efter Housing First i Norddjurs?",
    "Hvilke metoder bevilger Aarhus Kommune bostøtte efter?",
    "Hvad er satsen for kontanthjælp i 2025?",
    "Hvor mange kerneprincipper bygger Housing First på?",
    "Hvad koster en Housing First-bostøtteindsats pr. borger om året?",
    "Hvad går kerneprincippet om skadesreduktion ud på?",
]


# True once the chat shows `n` answers and the last one is drawn: its text, nearest quotes or table
# (not only the widgets after it) and its feedback control.
ANSWER_DRAWN = """n => {
    const avatars = document.querySelectorAll('[data-testid="stChatMessageAvatarAssistant"]');
    if (avatars.length !== n) return false;
    const last = [...document.querySelectorAll('[data-testid="stChatMessage"]')].pop();
    const body = last.querySelector('.hfa-answer, .hfa-nearest-lead, [data-testid="stTable"]');
    return !!last.querySelector('[data-testid="stFeedback"]') && !!body && body.innerText.trim().length > 0;
}"""
ASSISTANT_AVATAR = "stChatMessageAvatarAssistant"
CHAT_INPUT = "stChatInputTextArea"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_answers(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def running_app(data_dir: Path, log: Path, timeout: float = 60.0) -> Iterator[str]:
    """Run the app on a free port with ``HFA_DATA_DIR=data_dir``; yields its URL and stops it afterwards."""
    port = free_port()
    command = streamlit_command("127.0.0.1", port, headless=True)
    env = os.environ | {"HFA_DATA_DIR": str(data_dir)}
    with log.open("w", encoding="utf-8") as out:
        server = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout
            while not _port_answers(port):
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"The app did not start; see {log}")
                time.sleep(0.2)
            yield f"http://127.0.0.1:{port}"
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def open_chat(page: Any, url: str, timeout_ms: float = 180_000) -> None:
    """Load the app and wait until the index is open and the chat input is ready."""
    page.goto(url)
    page.get_by_test_id(CHAT_INPUT).wait_for(timeout=timeout_ms)


def ask(page: Any, question: str, timeout_ms: float = 60_000) -> float:
    """Submit a question and wait for its answer; returns the seconds it took."""
    answered = page.get_by_test_id(ASSISTANT_AVATAR).count()
    started = time.perf_counter()
    page.get_by_test_id(CHAT_INPUT).fill(question)
    page.keyboard.press("Enter")
    page.wait_for_function(ANSWER_DRAWN, arg=answered + 1, timeout=timeout_ms)
    return time.perf_counter() - started


async def ask_async(page: Any, question: str, timeout_ms: float = 60_000) -> float:
    """:func:`ask` for Playwright's async API, so that several pages can ask at once."""
    answered = await page.get_by_test_id(ASSISTANT_AVATAR).count()
    started = time.perf_counter()
    await page.get_by_test_id(CHAT_INPUT).fill(question)
    await page.keyboard.press("Enter")
    await page.wait_for_function(ANSWER_DRAWN, arg=answered + 1, timeout=timeout_ms)
    return time.perf_counter() - started


def main() -> None:
    """Run the benchmark and print p50/p95."""
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=load_settings().data_dir)
    args = parser.parse_args()
    log = Path(os.environ.get("TMPDIR", "/tmp")) / "hfa-bench-app.log"
    with running_app(args.data_dir, log) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        open_chat(page, url)
        times = []
        for question in QUESTIONS:
            times.append(ask(page, question))
            print(f"{times[-1] * 1000:7.0f} ms  {question}")
        browser.close()
    p50, p95 = percentile(times, 50) or 0.0, percentile(times, 95) or 0.0
    print(f"p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms over {len(times)}")


if __name__ == "__main__":
    main()
