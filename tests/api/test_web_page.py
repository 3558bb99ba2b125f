"""The web page in a real Chromium against the real stack: sign-in, try it, bulk upload, jobs, job page."""

from __future__ import annotations

import base64
import json
import re
import shutil

import pytest

from tests.utils.browser import PHONE, Watched
from tests.utils.jobs import PHOTOS, keyed_client, make_zip, post_files
from tests.utils.people import photos

FACES = {name: meta["faces"] for name, meta in json.loads((PHOTOS / "faces.json").read_text()).items()}
HOSTILE = "<img src=x onerror=alert(1)>.jpg"
SLOW = 120_000


@pytest.fixture()
def owner(app, stack):
    """Return a test client with a fresh API key of its own, and that key."""
    client = keyed_client(app, stack.database_url)
    return client, client.environ_base["HTTP_AUTHORIZATION"].split()[1]


@pytest.fixture()
def key(owner) -> str:
    """Return a fresh API key of its own."""
    return owner[1]


@pytest.fixture()
def watched(browser):
    """Yield a fresh page (own sessionStorage); afterwards insist it raised no script error."""
    page = Watched(browser)
    yield page
    page.page.close()
    assert page.errors == []


def sign_in(watched: Watched, live_url: str, key: str) -> None:
    """Open the page through a sign-in link."""
    watched.page.goto(f"{live_url}/#key={key}")
    watched.page.wait_for_selector("#try:not([hidden])")


def test_a_wrong_key_is_refused_with_a_clear_message(watched, live_url, key, screenshots):
    page = watched.page
    page.goto(f"{live_url}/#key=not-a-key")
    page.wait_for_selector("#signin:not([hidden])")
    assert "refused" in page.text_content("#signin-error")
    assert page.evaluate("sessionStorage.length") == 0
    page.fill("#key-input", "still-wrong")
    page.click("#signin-form button")
    page.wait_for_function("() => document.querySelector('#signin-error').textContent.includes('refused')")
    watched.screenshot(screenshots, "signin-refused")
    page.fill("#key-input", key)
    page.press("#key-input", "Enter")
    page.wait_for_selector("#try:not([hidden])")


def test_the_link_signs_in_and_leaves_no_key_in_the_address(watched, live_url, key):
    page = watched.page
    sign_in(watched, live_url, key)
    assert key not in page.url and page.url.endswith("#/try")
    assert page.evaluate("sessionStorage.getItem('whoru.key')") == key
    page.click("#sign-out")
    page.wait_for_selector("#signin:not([hidden])")
    assert page.evaluate("sessionStorage.length") == 0


def tab_to(page, selector: str, presses: int = 30) -> None:
    """Press Tab until the element matching a selector has the focus."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate("(selector) => document.activeElement.matches(selector)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_the_page_works_from_the_keyboard(watched, live_url, key):
    page = watched.page
    page.goto(f"{live_url}/")
    page.wait_for_selector("#signin:not([hidden])")
    tab_to(page, "#key-input")
    page.keyboard.type(key)
    page.keyboard.press("Enter")
    page.wait_for_selector("#try:not([hidden])")
    tab_to(page, "#try-file")
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files(str(PHOTOS / "fr_obama_small.jpg"))
    page.wait_for_selector("#try-result .box", timeout=SLOW)
    tab_to(page, "nav a[href='#/jobs']")
    page.keyboard.press("Enter")
    page.wait_for_selector("#jobs-body tr")
    tab_to(page, "#jobs-body a")
    page.keyboard.press("Enter")
    page.wait_for_selector("#job-status.succeeded")


def test_try_it_boxes_every_face_of_a_photo(watched, live_url, key, screenshots):
    page = watched.page
    sign_in(watched, live_url, key)
    page.set_input_files("#try-file", str(PHOTOS / "dlib_2008_001322.jpg"))
    page.wait_for_selector("#try-result .box", timeout=SLOW)
    assert page.locator("#try-result .box").count() == FACES["dlib_2008_001322.jpg"] == 3
    labels = page.locator("#try-result .box .label").all_text_contents()
    assert all(re.search(r"age \d+.*(male|female) \d+%.*\d+%", label) for label in labels), labels
    assert page.text_content("#try-status") == "3 faces found."
    watched.screenshot(screenshots, "try-it")


def fail_once(page, pattern: str) -> list[str]:
    """Answer the first request matching a URL pattern with a 503 and let the rest through; return what was seen."""
    seen = []

    def handle(route):
        seen.append(route.request.method)
        if len(seen) == 1:
            route.fulfill(status=503, json={"error": {"code": "unavailable", "message": "try again"}})
        else:
            route.continue_()

    page.route(pattern, handle)
    return seen


def test_a_photo_dropped_on_try_it_comes_back_boxed(watched, live_url, key):
    page = watched.page
    sign_in(watched, live_url, key)
    photo = base64.b64encode((PHOTOS / "dlib_2008_001009.jpg").read_bytes()).decode()
    dropped = page.evaluate_handle(
        """(photo) => {
        const data = new DataTransfer();
        const bytes = Uint8Array.from(atob(photo), (c) => c.charCodeAt(0));
        data.items.add(new File([bytes], "dropped.jpg", { type: "image/jpeg" }));
        return data;
    }""",
        photo,
    )
    page.dispatch_event("#try-drop", "drop", {"dataTransfer": dropped})
    page.wait_for_selector("#try-result .box", timeout=SLOW)
    assert page.locator("#try-result .box").count() == FACES["dlib_2008_001009.jpg"]


def upload_folder_and_zip(watched: Watched, live_url: str, key: str, tmp_path, screenshots=None) -> str:
    """Send the shared photos as a folder (packed into one zip part) plus a zip (one member named to inject
    HTML), the second part failing once; return the job page URL."""
    page = watched.page
    folder = tmp_path / "holiday"
    shutil.copytree(PHOTOS, folder)
    archive = tmp_path / "more.zip"
    photo = (PHOTOS / "fr_obama_small.jpg").read_bytes()
    archive.write_bytes(make_zip({"inside/obama.jpg": photo, HOSTILE: photo, "broken.jpg": b"not a jpeg"}))
    sign_in(watched, live_url, key)
    page.click("nav a[href='#/bulk']")
    page.set_input_files("#bulk-folder", str(folder))
    page.set_input_files("#bulk-files", str(archive))
    assert page.text_content("#bulk-picked").startswith("5 files")
    retried = fail_once(page, "**/parts/1")
    page.click("#bulk-start")
    page.wait_for_function(
        "() => document.querySelector('#bulk-status').textContent.startsWith('All 5 files sent in 2 parts')",
        timeout=SLOW,
    )
    assert page.locator("#bulk-parts .name").all_text_contents() == [
        "4 photos from holiday/dlib_2008_001009.jpg",
        "more.zip",
    ]
    assert retried == ["PUT", "PUT"] and page.locator("#bulk-parts .state").all_text_contents() == ["stored"] * 2
    if screenshots:
        watched.screenshot(screenshots, "bulk")
    page.click("#bulk-job-link")
    page.wait_for_selector("#job-status.succeeded", timeout=SLOW)
    return page.url


def held_back(page, pattern: re.Pattern) -> list:
    """Hold back the requests to a URL pattern until the test lets them go: answers that come back late."""
    routes: list = []
    page.route(pattern, lambda route: routes.append(route))
    return routes


def test_bulk_upload_then_the_job_page_boxes_filters_and_downloads(watched, live_url, key, tmp_path, screenshots):
    page = watched.page
    upload_folder_and_zip(watched, live_url, key, tmp_path, screenshots)
    faces = sum(FACES.values()) + 2
    page.wait_for_function(f"() => document.querySelectorAll('#gallery .box').length === {faces}", timeout=SLOW)
    assert page.text_content("[data-count=faces]") == str(faces)
    assert page.text_content("[data-count=failed]") == "1"
    assert "broken.jpg" in page.text_content("#job-failed") and "not_an_image" in page.text_content("#job-failed")
    charts = page.locator("#job-charts .chart").all_text_contents()
    assert len(charts) == 4 and all(chart.strip() for chart in charts)
    watched.screenshot(screenshots, "job")

    page.select_option("#job-filters select[name=gender]", "female")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#gallery .card')].every(c => c.textContent.includes('female'))"
    )
    female = page.locator("#gallery .card").count()
    assert 0 < female < 7
    unfiltered = re.compile(r"/results\?page_size=24$")
    late = held_back(page, unfiltered)
    page.select_option("#job-filters select[name=gender]", "")
    page.select_option("#job-filters select[name=status]", "failed")
    page.wait_for_function("() => document.querySelectorAll('#gallery .card').length === 1")
    page.unroute(unfiltered)
    with page.expect_response(unfiltered):
        late[0].continue_()
    page.wait_for_timeout(500)  # time for the page to (wrongly) draw the late answer
    assert page.locator("#gallery .card").count() == 1
    assert page.text_content("#gallery .card .name") == "more.zip/broken.jpg"

    with page.expect_download() as download:
        page.click("#job-csv")
    rows = download.value.path().read_text().splitlines()
    assert (
        rows[0].startswith("position,image,face,x,y,w,h") and len(rows) == 1 + faces + 2
    )  # a row per face, per image without one

    page.set_viewport_size(PHONE)
    page.select_option("#job-filters select[name=status]", "")
    page.wait_for_function(f"() => document.querySelectorAll('#gallery .box').length === {faces}", timeout=SLOW)
    watched.screenshot(screenshots, "job-phone")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.click("nav a[href='#/jobs']")
    page.wait_for_selector("#jobs-body tr .badge.succeeded")
    watched.screenshot(screenshots, "jobs")


def test_a_hostile_file_name_shows_as_text_and_runs_nothing(watched, live_url, key, tmp_path):
    page = watched.page
    upload_folder_and_zip(watched, live_url, key, tmp_path)
    page.wait_for_selector(f"#gallery .card .name[title='more.zip/{HOSTILE}']", timeout=SLOW)
    assert f"more.zip/{HOSTILE}" in page.locator("#gallery .name").all_text_contents()
    assert page.locator("img").count() == 0
    assert watched.dialogs == []


def test_cancel_then_delete_from_the_job_page(watched, live_url, owner):
    client, key = owner
    photo = (PHOTOS / "dlib_2008_001322.jpg").read_bytes()
    job_id = post_files(client, [(f"p{i}.jpg", photo) for i in range(40)]).get_json()["id"]
    page = watched.page
    sign_in(watched, live_url, key)
    page.goto(f"{live_url}/#/jobs/{job_id}")
    page.wait_for_selector("#job-cancel:not([hidden])")
    page.click("#job-cancel")
    page.wait_for_selector("#job-status.canceled", timeout=SLOW)
    assert page.is_hidden("#job-cancel")
    page.click("#job-delete")
    assert len(watched.dialogs) == 1 and client.get(f"/v1/jobs/{job_id}").status_code == 200  # dismissed: kept
    watched.accept_dialogs = True
    page.click("#job-delete")
    page.wait_for_selector("#jobs:not([hidden])")
    assert client.get(f"/v1/jobs/{job_id}").status_code == 404


def test_people_tiles_are_drawn_and_a_click_filters_the_gallery(watched, live_url, key, tmp_path, screenshots):
    page = watched.page
    for name, data in photos():
        (tmp_path / name).write_bytes(data)
    sign_in(watched, live_url, key)
    page.click("nav a[href='#/bulk']")
    page.set_input_files("#bulk-files", [str(tmp_path / name) for name, _ in photos()])
    page.check("#bulk-people")
    page.click("#bulk-start")
    page.wait_for_function(
        "() => document.querySelector('#bulk-status').textContent.startsWith('All 4 files sent')", timeout=SLOW
    )
    page.click("#bulk-job-link")
    page.wait_for_selector("#job-status.succeeded", timeout=SLOW)
    page.wait_for_function("() => document.querySelectorAll('#people li').length === 4", timeout=SLOW)
    assert page.locator("#people .name").all_text_contents() == ["p1", "p2", "p3", "p4"]
    page.wait_for_function("() => document.querySelectorAll('#job-charts .chart').length === 7")
    assert "People by gender" in page.text_content("#job-charts")
    assert all("2 photos" in tile for tile in page.locator("#people button").all_text_contents())
    # Each tile's canvas gets its face from a preview: wait until every one has pixels.
    page.wait_for_function(
        """() => [...document.querySelectorAll('#people canvas')].every(c =>
        c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some((v, i) => i % 4 === 3 && v > 0))""",
        timeout=SLOW,
    )
    watched.screenshot(screenshots, "people")
    page.click("#people button[data-person=p3]")
    page.wait_for_function("() => document.querySelectorAll('#gallery .card').length === 2")
    cards = page.locator("#gallery .card").all()
    assert all(
        any(line.startswith("p3 · ") for line in card.locator(".legend li").all_text_contents()) for card in cards
    )
    assert page.get_attribute("#people button[data-person=p3]", "aria-pressed") == "true"
    assert page.input_value("#job-filters select[name=person]") == "p3"
    page.click("#people button[data-person=p3]")
    page.wait_for_function("() => document.querySelectorAll('#gallery .card').length === 4")


def test_bulk_names_a_zip_and_a_folder_apart_and_the_label_shows_and_changes(watched, live_url, owner, tmp_path):
    client, key = owner
    page = watched.page
    folder = tmp_path / "party"
    folder.mkdir()
    shutil.copyfile(PHOTOS / "dlib_2008_001322.jpg", folder / "ulfd_16.jpg")
    archive = tmp_path / "dup.zip"
    archive.write_bytes(make_zip({"ulfd_16.jpg": (PHOTOS / "fr_obama_small.jpg").read_bytes()}))
    sign_in(watched, live_url, key)
    page.click("nav a[href='#/bulk']")
    page.set_input_files("#bulk-folder", str(folder))
    page.set_input_files("#bulk-files", str(archive))
    page.fill("#bulk-label", "holiday 2026")
    page.click("#bulk-start")
    page.wait_for_function(
        "() => document.querySelector('#bulk-status').textContent.startsWith('All 2 files sent')", timeout=SLOW
    )
    page.click("#bulk-job-link")
    page.wait_for_selector("#job-status.succeeded", timeout=SLOW)
    page.wait_for_function("() => document.querySelectorAll('#gallery .card').length === 2")
    assert sorted(page.locator("#gallery .card .name").all_text_contents()) == [
        "dup.zip/ulfd_16.jpg",
        "party/ulfd_16.jpg",
    ]
    assert page.text_content("#job-title").endswith(": holiday 2026")
    job_id = page.url.rsplit("/", 1)[1]
    assert client.get(f"/v1/jobs/{job_id}").get_json()["label"] == "holiday 2026"

    page.fill("#job-label", "summer 2026")
    page.click("#job-label-form button")
    page.wait_for_function("() => document.querySelector('#job-title').textContent.endsWith(': summer 2026')")
    assert client.get(f"/v1/jobs/{job_id}").get_json()["label"] == "summer 2026"
    page.click("nav a[href='#/jobs']")
    page.wait_for_selector(f"#jobs-body tr[data-job='{job_id}'] .job-label")
    assert page.text_content(f"#jobs-body tr[data-job='{job_id}'] .job-label") == "summer 2026"


def test_try_it_jobs_are_marked_in_the_list_and_can_be_hidden(watched, live_url, owner):
    client, key = owner
    kept = post_files(client, [("a.jpg", (PHOTOS / "fr_obama_small.jpg").read_bytes())]).get_json()["id"]
    page = watched.page
    sign_in(watched, live_url, key)
    page.set_input_files("#try-file", str(PHOTOS / "fr_obama_small.jpg"))
    page.wait_for_selector("#try-result .box", timeout=SLOW)
    page.click("nav a[href='#/jobs']")
    page.wait_for_function("() => document.querySelectorAll('#jobs-body tr').length === 2")
    tried = page.locator("#jobs-body tr", has=page.locator(".badge.try-it"))
    assert tried.count() == 1 and "fr_obama_small.jpg" in tried.locator(".job-label").text_content()
    page.check("#jobs-hide-try")
    page.wait_for_function("() => document.querySelectorAll('#jobs-body tr').length === 1")
    assert page.locator("#jobs-body tr").get_attribute("data-job") == kept
