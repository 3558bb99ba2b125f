"""`whoru.Client` against `whoru serve`: submit, wait, DataFrame, reattach, resume, as the CLI uploads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import whoru
from tests.utils.jobs import PHOTOS
from whoru.client.http import ClientError, ServerError
from whoru.client.packing import build, plan, scan
from whoru.results_csv import HEADER

TRUTH = json.loads((PHOTOS / "faces.json").read_text())


@pytest.fixture()
def served(serve):
    """Run `whoru serve` on embedded defaults."""
    return serve()


def test_submit_wait_dataframe_and_reattach(served, tmp_path, monkeypatch):
    monkeypatch.setenv("WHORU_SERVER", served.url)
    monkeypatch.setenv("WHORU_HOME", str(served.folder / "var"))
    client = whoru.Client()
    job = client.submit(PHOTOS, progress=False)
    assert job.wait(progress=False)["status"] == "succeeded"
    frame = job.to_dataframe()
    assert tuple(frame.columns) == HEADER
    for name, truth in TRUTH.items():
        faces = frame[frame["image"] == name]["face"].notna().sum()
        assert abs(faces - truth["faces"]) <= 1, name
    images = list(job.results())
    assert [image["name"] for image in images] == sorted(TRUTH)
    assert sum(len(image["faces"]) for image in images) == frame["face"].notna().sum()
    again = whoru.Client(served.url, served.key).job(job.id)
    assert again.info["status"] == "succeeded" and again.to_dataframe().equals(frame)
    assert job.id in [listed.id for listed in client.jobs()]
    csv_path = again.to_csv(tmp_path / "results.csv")
    assert csv_path.read_text().splitlines()[0] == ",".join(HEADER)


def test_resume_sends_only_the_parts_the_server_lacks(served):
    client = whoru.Client(served.url, served.key)
    opened = client.http.open_job()
    job = client.job(opened["id"])
    with pytest.raises(ClientError, match="not final"):
        job.to_dataframe()
    [part] = plan(scan([PHOTOS]).items, 256 * 1024 * 1024)
    with build(part, Path(served.folder)) as (path, sha256):
        client.http.put_part(job.id, part.n, path, sha256, part.name)
    resumed = client.submit([PHOTOS], resume=job.id, progress=False)
    assert resumed.id == job.id
    assert resumed.wait(progress=False)["counts"]["images_total"] == len(TRUTH)
    assert len(resumed.to_dataframe()["image"].unique()) == len(TRUTH)


def test_a_missing_job_a_refused_option_and_a_missing_path_say_so(served):
    client = whoru.Client(served.url, served.key)
    with pytest.raises(ServerError, match="404"):
        client.job("00000000-0000-0000-0000-000000000000")
    with pytest.raises(ServerError, match="unknown model"):
        client.submit(PHOTOS, model="nonesuch", progress=False)
    with pytest.raises(ClientError, match="missing.jpg does not exist; nothing was sent"):
        client.submit([PHOTOS / "fr_obama_small.jpg", PHOTOS / "missing.jpg"], progress=False)


def test_without_a_key_it_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.delenv("WHORU_API_KEY", raising=False)
    monkeypatch.setenv("WHORU_HOME", str(tmp_path))
    with pytest.raises(ClientError, match=str(tmp_path / "api-key")):
        whoru.Client("http://127.0.0.1:9")
