"""The real app, started once for the browser tests: streamlit run + headless Debian Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest

from eval.bench_app import CHROMIUM, running_app

# Set to refresh the README pictures from a browser test run. Not HFA_*: the tests clear those.
UPDATE_SCREENSHOTS = "UPDATE_SCREENSHOTS"


@pytest.fixture(scope="session")
def app_url(corpus_settings, tmp_path_factory):
    if not Path(CHROMIUM).is_file():
        pytest.skip("Debian chromium is not installed (apt-get install chromium)")
    log = tmp_path_factory.mktemp("app") / "streamlit.log"
    with running_app(corpus_settings.data_dir, log) as url:
        yield url
