"""The headless Chromium the report tests open reports in (shared by test_report and test_publish)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.report.test_report import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        message = f"no Chromium at {CHROMIUM}: apt-get install chromium (CI's .ci/run does)"
        if os.environ.get("REPORT_BROWSER_REQUIRED"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
