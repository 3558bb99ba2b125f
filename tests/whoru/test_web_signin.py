"""The sign-in link `whoru serve` prints opens the web page signed in, and a photo comes back boxed."""

from __future__ import annotations

import re
import time

from tests.utils.browser import Watched
from tests.utils.jobs import PHOTOS

LINK = re.compile(r"sign in to the web page: (http://\S+/#key=\S+)")


def printed_link(served, timeout: float = 30) -> str:
    """Return the sign-in link from the output of a running `whoru serve`."""
    deadline = time.monotonic() + timeout
    while not (match := LINK.search((served.folder / "serve.log").read_text(errors="replace"))):
        assert time.monotonic() < deadline, "whoru serve printed no sign-in link"
        time.sleep(0.2)
    return match.group(1)


def test_the_printed_link_signs_in_and_try_it_boxes_the_face(browser, serve):
    link = printed_link(serve())
    watched = Watched(browser)
    page = watched.page
    page.goto(link)
    page.wait_for_selector("#try:not([hidden])")
    assert "key=" not in page.url
    page.set_input_files("#try-file", str(PHOTOS / "fr_obama_small.jpg"))
    page.wait_for_selector("#try-result .box", timeout=120_000)
    assert page.locator("#try-result .box").count() == 1
    assert watched.errors == []
    page.close()
