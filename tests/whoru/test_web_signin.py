"""The sign-in link `whoru serve` prints opens the web page signed in, and a photo comes back boxed."""

from __future__ import annotations

import re

from tests.utils.browser import Watched
from tests.utils.jobs import PHOTOS
from tests.utils.waiting import wait_until

LINK = re.compile(r"sign in to the web page: (http://\S+/#key=\S+)")


def printed_link(served, timeout: float = 30) -> str:
    """Return the sign-in link from the output of a running `whoru serve`."""
    found = wait_until(
        lambda: LINK.search((served.folder / "serve.log").read_text(errors="replace")),
        timeout,
        0.2,
        lambda: "whoru serve printed no sign-in link",
    )
    return found.group(1)


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
