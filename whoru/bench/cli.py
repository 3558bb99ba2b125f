"""`whoru bench`: a benchmark that measures and prints; it asserts nothing."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import click

from whoru.bench.measure import percentiles, run_job
from whoru.bench.stack import BenchStack
from whoru.bench.workload import build_zip
from whoru.settings import PROJECT_ROOT

# The original project's serving: one task per image, three separate seed CNNs, one face at a time.
NAIVE_ENV = {"WHORU_TASK_IMAGES": "1", "WHORU_MODEL": str(PROJECT_ROOT / "models" / "seed-baseline"), "WHORU_MODELS": "",
             "WHORU_CLASSIFY_BATCH": "1"}


@click.command("bench")
@click.option("--images", default=500, show_default=True, envvar="WHORU_BENCH_IMAGES", help="Photos in the workload.")
@click.option("--workers", default=2, show_default=True, envvar="WHORU_BENCH_WORKERS", help="Worker processes.")
@click.option("--pollers", default=0, show_default=True, envvar="WHORU_BENCH_POLLERS", help="Concurrent status pollers.")
@click.option("--poll-interval", default=1.0, show_default=True, help="Seconds each poller waits between requests.")
@click.option("--naive/--no-naive", default=True, show_default=True, help="Also run the original project's way.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), help="Write every figure as JSON.")
@click.option("--faces", "faces_dir", default=str(PROJECT_ROOT / "tests" / "fixtures" / "utkface"), show_default=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path), help="Face chips pasted into the photos.")
def bench(images: int, workers: int, pollers: int, poll_interval: float, naive: bool, json_out: Path | None, faces_dir: Path) -> None:
    """Run a synthetic workload through the real stack and print where the time goes."""
    with tempfile.TemporaryDirectory(prefix="whoru-bench-") as folder:
        root = Path(folder)
        workload = root / "workload.zip"
        pasted = build_zip(workload, images, faces_dir)
        click.echo(f"workload: {images} photos 1024x768, {pasted} faces pasted, {workload.stat().st_size / 2**20:.0f} MB")
        with BenchStack(root / "fast", workers, {}) as stack:
            fast = run_job(stack, workload, 0)
            # Pollers take CPU from the workers, so status latency gets a run of its own and
            # throughput (and the ratio to the naive path, which has no pollers) stays clean.
            polled = run_job(stack, workload, pollers, poll_interval) if pollers else None
        figures = _figures(fast, images, workers)
        if polled is not None:
            figures["status_latency_ms"] = percentiles(polled["latencies_ms"])
            figures["status_latency_in_api_ms"] = percentiles(polled["server_latencies_ms"])
            figures["images_per_s_while_polled"] = round(images / polled["wall_s"], 2)
        if naive:
            with BenchStack(root / "naive", workers, NAIVE_ENV) as stack:
                slow = run_job(stack, workload, 0)
            figures["naive_images_per_s"] = round(images / slow["wall_s"], 2)
            figures["speedup_vs_naive"] = round(figures["images_per_s"] / figures["naive_images_per_s"], 2)
    _print(figures)
    if json_out:
        json_out.write_text(json.dumps(figures, indent=1) + "\n")


def _figures(run: dict, images: int, workers: int) -> dict:
    """Turn one measured run into the reported figures."""
    wall, stages = run["wall_s"], run["stages"]
    return {
        "images": images,
        "faces": run["job"]["counts"]["faces"],
        "workers": workers,
        "wall_s": round(wall, 2),
        "images_per_s": round(images / wall, 2),
        "faces_per_s": round(run["job"]["counts"]["faces"] / wall, 2),
        "pipeline_share": round(sum(stages.values()) / 1000 / (wall * workers), 3),
        "stages_ms": {stage: round(ms / images, 2) for stage, ms in stages.items()},
        "status_latency_ms": {},
        "rss_mb": run["rss_mb"],
        "rss_mb_after_1000_images": run["rss_after_1000"],
        "rss_mb_end": run["rss_end"],
        "csv_export": run["csv"],
    }


def _print(figures: dict) -> None:
    """Print the figures as aligned lines."""
    for key, value in figures.items():
        click.echo(f"{key:>26}: {json.dumps(value)}")
