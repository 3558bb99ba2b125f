"""`whoru bench`: a benchmark that measures and prints; it asserts nothing."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import click

from whoru.bench.measure import percentiles, run_job
from whoru.bench.stack import BenchStack
from whoru.bench.workload import build_zip, parse_size
from whoru.settings import MODELS_DIR, PROJECT_ROOT

# The original project's serving: one task per image, three separate seed CNNs, one face at a time.
NAIVE_ENV = {
    "WHORU_TASK_IMAGES": "1",
    "WHORU_MODEL": str(MODELS_DIR / "seed-baseline"),
    "WHORU_MODELS": "",
    "WHORU_CLASSIFY_BATCH": "1",
}


def _photo_size(_ctx, _param, values: tuple[str, ...]) -> list[tuple[int, int]]:
    """Parse every --photo-size, refusing a malformed one."""
    try:
        return [parse_size(value) for value in values]
    except ValueError as error:
        raise click.BadParameter(str(error)) from error


@click.command("bench")
@click.option(
    "--images",
    default=500,
    show_default=True,
    envvar="WHORU_BENCH_IMAGES",
    help="Photos in the workload (per photo size).",
)
@click.option("--workers", default=2, show_default=True, envvar="WHORU_BENCH_WORKERS", help="Worker processes.")
@click.option(
    "--pollers",
    default=0,
    show_default=True,
    envvar="WHORU_BENCH_POLLERS",
    help="Concurrent status pollers (first photo size).",
)
@click.option("--poll-interval", default=1.0, show_default=True, help="Seconds each poller waits between requests.")
@click.option(
    "--naive/--no-naive",
    default=True,
    show_default=True,
    help="Also run the original project's way (first photo size).",
)
@click.option(
    "--photo-size",
    "photo_sizes",
    multiple=True,
    default=("1024x768",),
    show_default=True,
    callback=_photo_size,
    help="Stored size WxH of the workload's photos; repeat to measure several sizes in one run.",
)
@click.option(
    "--model",
    default=None,
    envvar="WHORU_BENCH_MODEL",
    help="Served model the jobs ask for (a folder beside WHORU_MODEL); the default model when not given.",
)
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), help="Write every figure as JSON.")
@click.option(
    "--faces",
    "faces_dir",
    default=str(PROJECT_ROOT / "tests" / "fixtures" / "utkface"),
    show_default=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Face chips pasted into the photos.",
)
def bench(
    images: int,
    workers: int,
    pollers: int,
    poll_interval: float,
    naive: bool,
    photo_sizes: list[tuple[int, int]],
    model: str | None,
    json_out: Path | None,
    faces_dir: Path,
) -> None:
    """Run a synthetic workload through the real stack and print where the time goes."""
    with tempfile.TemporaryDirectory(prefix="whoru-bench-") as folder:
        root = Path(folder)
        workloads = {size: _workload(root, size, images, faces_dir) for size in photo_sizes}
        first = workloads[photo_sizes[0]]
        with BenchStack(root / "fast", workers, _served(model)) as stack:
            runs = {size: run_job(stack, workload, 0, model=model) for size, workload in workloads.items()}
            # Pollers take CPU from the workers, so status latency gets a run of its own and
            # throughput (and the ratio to the naive path, which has no pollers) stays clean.
            polled = run_job(stack, first, pollers, poll_interval, model) if pollers else None
        figures = {**_figures(runs[photo_sizes[0]], images, workers), "model": model or "default"}
        if polled is not None:
            figures["status_latency_ms"] = percentiles(polled["latencies_ms"])
            figures["status_latency_in_api_ms"] = percentiles(polled["server_latencies_ms"])
            figures["images_per_s_while_polled"] = round(images / polled["wall_s"], 2)
        if naive:
            with BenchStack(root / "naive", workers, NAIVE_ENV) as stack:
                slow = run_job(stack, first, 0)
            figures["naive_images_per_s"] = round(images / slow["wall_s"], 2)
            figures["speedup_vs_naive"] = round(figures["images_per_s"] / figures["naive_images_per_s"], 2)
        figures["sizes"] = _sizes(runs, images, workers)
    _print(figures)
    if json_out:
        json_out.write_text(json.dumps(figures, indent=1) + "\n")


def _workload(root: Path, size: tuple[int, int], images: int, faces_dir: Path) -> Path:
    """Build the workload zip of one photo size and say what is in it."""
    path = root / f"workload-{size[0]}x{size[1]}.zip"
    pasted = build_zip(path, images, faces_dir, size)
    click.echo(
        f"workload: {images} photos {size[0]}x{size[1]}, {pasted} faces pasted, {path.stat().st_size / 2**20:.0f} MB"
    )
    return path


def _served(model: str | None) -> dict[str, str]:
    """Return the environment that makes the workers serve the model the jobs ask for (and no other)."""
    if model is None:
        return {}
    return {"WHORU_MODELS": "" if model == "default" else model}


def _figures(run: dict, images: int, workers: int) -> dict:
    """Turn one measured run into the reported figures."""
    wall, stages = run["wall_s"], run["stages"]
    return {
        "images": images,
        "faces": run["job"]["counts"]["faces"],
        "workers": workers,
        "wall_s": round(wall, 2),
        "start_s": round(run["start_s"], 2),
        "upload_s": round(run["upload_s"], 2),
        "images_per_s": round(images / wall, 2),
        "faces_per_s": round(run["job"]["counts"]["faces"] / wall, 2),
        "pipeline_share": round(sum(stages.values()) / 1000 / (wall * workers), 3),
        "stages_ms": {stage: round(ms / images, 2) for stage, ms in stages.items()},
        "status_latency_ms": {},
        "rss_mb": run["rss_mb"],
        "rss_mb_after_1000_images": run["rss_after_1000"],
        "rss_mb_end": run["rss_end"],
        "worker_rss_mb_ends": run["worker_rss_ends"],
        "csv_export": run["csv"],
    }


def _sizes(runs: dict[tuple[int, int], dict], images: int, workers: int) -> dict:
    """Return each photo size's throughput and stages, and how it compares with the first size."""
    sizes, base = {}, None
    for (width, height), run in runs.items():
        figures = _figures(run, images, workers)
        stages = figures["stages_ms"]
        worker_ms = round(sum(stages.values()), 2)
        base = base or figures["images_per_s"]
        sizes[f"{width}x{height}"] = {
            **{
                key: figures[key]
                for key in (
                    "images",
                    "faces",
                    "wall_s",
                    "start_s",
                    "upload_s",
                    "images_per_s",
                    "faces_per_s",
                    "pipeline_share",
                    "stages_ms",
                    "worker_rss_mb_ends",
                )
            },
            "worker_ms_per_image": worker_ms,
            # The acceptance figures: time inside the worker per image against detection alone, and
            # throughput against the first size of the run.
            "worker_per_detect": round(worker_ms / stages["detect"], 2) if stages.get("detect") else None,
            "images_per_s_vs_first": round(figures["images_per_s"] / base, 3),
        }
    return sizes


def _print(figures: dict) -> None:
    """Print the figures as aligned lines."""
    for key, value in figures.items():
        click.echo(f"{key:>26}: {json.dumps(value)}")
