"""`whoru bench` on a tiny workload: every figure it reports is there and consistent.

It asserts what the benchmark reports, never how fast anything was.
"""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

from click.testing import CliRunner
from PIL import Image

from whoru.bench.cli import bench
from whoru.bench.workload import face_chips, photo
from whoru.settings import PROJECT_ROOT

KEYS = (
    "images",
    "faces",
    "workers",
    "images_per_s",
    "faces_per_s",
    "naive_images_per_s",
    "speedup_vs_naive",
    "pipeline_share",
    "stages_ms",
    "status_latency_ms",
    "status_latency_in_api_ms",
    "rss_mb",
    "model",
    "sizes",
)
STAGES = {"read", "decode", "preview", "detect", "align", "classify", "db_write"}
SIZE_KEYS = {
    "images",
    "faces",
    "wall_s",
    "start_s",
    "upload_s",
    "images_per_s",
    "faces_per_s",
    "pipeline_share",
    "stages_ms",
    "worker_ms_per_image",
    "worker_per_detect",
    "images_per_s_vs_first",
    "worker_rss_mb_ends",
}


def test_bench_reports_every_figure(tmp_path, monkeypatch):
    monkeypatch.delenv("WHORU_REDIS_URL", raising=False)
    monkeypatch.delenv("WHORU_DATABASE_URL", raising=False)
    out = tmp_path / "bench.json"
    result = CliRunner().invoke(
        bench,
        [
            "--images",
            "4",
            "--workers",
            "1",
            "--pollers",
            "2",
            "--poll-interval",
            "0.1",
            "--photo-size",
            "800x600",
            "--photo-size",
            "1200x900",
            "--model",
            "fast",
            "--json",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(out.read_text())
    assert all(key in figures for key in KEYS)
    assert figures["images"] == 4 and figures["workers"] == 1 and figures["faces"] > 0 and figures["model"] == "fast"
    assert set(figures["stages_ms"]) == STAGES
    assert 0 < figures["pipeline_share"] <= 1
    polled, in_api = figures["status_latency_ms"], figures["status_latency_in_api_ms"]
    assert polled["requests"] >= 2 and in_api["requests"] >= polled["requests"]
    assert figures["csv_export"]["lines"] >= figures["faces"] + 1
    assert len(figures["rss_mb"]["workers"]) == 1 and figures["rss_mb"]["api"] > 0
    assert figures["naive_images_per_s"] > 0 and figures["speedup_vs_naive"] > 0
    assert list(figures["sizes"]) == ["800x600", "1200x900"]
    for size in figures["sizes"].values():
        assert set(size) == SIZE_KEYS and set(size["stages_ms"]) == STAGES and size["images"] == 4
        assert size["worker_ms_per_image"] >= size["stages_ms"]["detect"] > 0
        assert 0 < size["start_s"] < size["wall_s"] and 0 < size["upload_s"] < size["wall_s"]
        # Four images are both the first and the last hundred; the largest worker is sampled at least once.
        assert size["worker_rss_mb_ends"]["first"] > 0 and size["worker_rss_mb_ends"]["last"] > 0
    assert figures["sizes"]["800x600"]["images_per_s_vs_first"] == 1.0


def test_bench_refuses_a_malformed_photo_size():
    result = CliRunner().invoke(bench, ["--photo-size", "4032by3024"])
    assert result.exit_code != 0 and "WxH" in result.output


def test_workload_photos_are_saved_as_a_camera_saves_them():
    rng, chips = random.Random(7), face_chips(Path(PROJECT_ROOT / "tests" / "fixtures" / "utkface"))
    orientations = set()
    for _ in range(60):
        data, count = photo(rng, chips, (320, 240))
        with Image.open(io.BytesIO(data)) as image:
            assert image.format == "JPEG" and image.size == (320, 240) and 1 <= count <= 6
            orientations.add(image.getexif().get(0x0112))
    assert {3, 6, 8} <= orientations and 1 in orientations
