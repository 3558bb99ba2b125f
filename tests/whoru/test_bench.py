"""`whoru bench` on a tiny workload: every figure the performance issue names is there and consistent.

It asserts what the benchmark reports, never how fast anything was.
"""

from __future__ import annotations

import json

from click.testing import CliRunner

from whoru.bench.cli import bench

KEYS = ("images", "faces", "workers", "images_per_s", "faces_per_s", "naive_images_per_s", "speedup_vs_naive",
        "pipeline_share", "stages_ms", "status_latency_ms", "status_latency_in_api_ms", "rss_mb")


def test_bench_reports_every_figure(tmp_path, monkeypatch):
    monkeypatch.delenv("WHORU_REDIS_URL", raising=False)
    monkeypatch.delenv("WHORU_DATABASE_URL", raising=False)
    out = tmp_path / "bench.json"
    result = CliRunner().invoke(bench, ["--images", "6", "--workers", "1", "--pollers", "2", "--poll-interval", "0.1",
                                        "--json", str(out)])
    assert result.exit_code == 0, result.output
    figures = json.loads(out.read_text())
    assert all(key in figures for key in KEYS)
    assert figures["images"] == 6 and figures["workers"] == 1 and figures["faces"] >= 6
    assert set(figures["stages_ms"]) == {"read", "decode", "detect", "align", "classify", "db_write"}
    assert 0 < figures["pipeline_share"] <= 1
    polled, in_api = figures["status_latency_ms"], figures["status_latency_in_api_ms"]
    assert polled["requests"] >= 2 and in_api["requests"] >= polled["requests"]
    assert figures["csv_export"]["lines"] == figures["faces"] + 1
    assert len(figures["rss_mb"]["workers"]) == 1 and figures["rss_mb"]["api"] > 0
    assert figures["naive_images_per_s"] > 0 and figures["speedup_vs_naive"] > 0
