"""How the chat app is served: the Streamlit command line of ``hfa app``, the benchmarks and the browser tests.

Two of Streamlit's defaults cost every answer time, measured with four people asking at once
(``python -m eval.bench --load``): a full garbage collection after every script run (72 ms holding
the interpreter, as the opened index and models are ~190,000 objects), and a watcher that polls the
source tree for edits to rerun on. Neither is of use to someone asking questions.
"""

from __future__ import annotations

import sys
from pathlib import Path

from hfa_settings import PROJECT_ROOT

APP_SCRIPT = PROJECT_ROOT / "app.py"
SERVER_OPTIONS = {
    "runner.postScriptGC": "false",
    "server.fileWatcherType": "none",
    "browser.gatherUsageStats": "false",
}


def streamlit_command(host: str, port: int, headless: bool = False, script: Path = APP_SCRIPT) -> list[str]:
    """The command that serves the chat on ``host:port``."""
    command = [sys.executable, "-m", "streamlit", "run", str(script), "--server.address", host]
    command += ["--server.port", str(port)]
    if headless:
        command += ["--server.headless", "true"]
    for option, value in SERVER_OPTIONS.items():
        command += [f"--{option}", value]
    return command
