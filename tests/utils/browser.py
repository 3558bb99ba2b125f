"""Headless Debian Chromium driven by Playwright, never a downloaded browser; skipped where it is missing."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@contextmanager
def chromium():
    """Yield a launched headless Chromium, or skip the test saying what is missing."""
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests skipped: {CHROMIUM} is missing (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests skipped: Playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


class Watched:
    """A page whose script errors and dialogs are recorded, so a test can insist there were none."""

    def __init__(self, browser, viewport: dict = DESKTOP):
        self.page = browser.new_page(viewport=viewport, accept_downloads=True)
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.accept_dialogs = False
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("dialog", self._dialog)
        # A page behind another gets no user activation from key presses, and so opens no file chooser.
        self.page.bring_to_front()

    def _dialog(self, dialog) -> None:
        """Record a dialog (alert, confirm) and answer it as the test said."""
        self.dialogs.append(dialog.message)
        dialog.accept() if self.accept_dialogs else dialog.dismiss()

    def screenshot(self, folder: Path, name: str) -> Path:
        """Save a full-page screenshot as a test artifact and return its path."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path
