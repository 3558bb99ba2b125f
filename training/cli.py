"""`whoru train` and `whoru evaluate`."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import click

from whoru.runtime import configure_tensorflow


def _require_training_extra() -> None:
    """Say how to install TensorFlow and the other training tools when they are missing."""
    missing = [name for name in ("tensorflow", "tf2onnx", "matplotlib") if importlib.util.find_spec(name) is None]
    if missing:
        raise click.ClickException(
            f"this command needs the training extra ({', '.join(missing)} missing): "
            "pip install 'whoru[train]', or `make test` in a clone"
        )


def model_dir_option(help_text: str):
    """Return the --model option of a training command: an existing model directory, never the serving WHORU_MODEL."""
    return click.option(
        "--model",
        "model_dir",
        required=True,
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        envvar="WHORU_TRAIN_MODEL",
        help=help_text,
    )


DATA = click.option(
    "--data",
    required=True,
    type=click.Path(exists=True, path_type=Path),
    envvar="WHORU_TRAIN_DATA",
    help="UTKFace folder or .tar/.tar.gz/.zip archive.",
)
CACHE = click.option(
    "--cache-dir",
    default=".cache/whoru",
    show_default=True,
    type=click.Path(path_type=Path),
    envvar="WHORU_CACHE_DIR",
    help="Where aligned faces are cached between runs.",
)


@click.command("train")
@DATA
@click.option(
    "--arch",
    type=click.Choice(["default", "seed"]),
    default="default",
    show_default=True,
    envvar="WHORU_ARCH",
    help="Architecture to train.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    envvar="WHORU_TRAIN_OUT",
    help="Model directory to write, e.g. models/NAME.",
)
@click.option("--epochs", default=45, show_default=True, envvar="WHORU_EPOCHS", help="Training epochs.")
@click.option("--resume", is_flag=True, envvar="WHORU_RESUME", help="Continue from the last epoch's checkpoint.")
@click.option(
    "--fit-on",
    type=click.Choice(["train", "train+val"]),
    default="train",
    show_default=True,
    envvar="WHORU_FIT_ON",
    help="train: keep the best validation epoch; train+val: refit on both "
    "for exactly --epochs and keep the last (once a train run has chosen the recipe).",
)
@click.option(
    "--seed",
    default=1234,
    show_default=True,
    envvar="WHORU_SEED",
    help="Random seed of weights, shuffling and augmentation (the split never changes).",
)
@CACHE
def train_command(
    data: Path, arch: str, out: Path, epochs: int, resume: bool, fit_on: str, seed: int, cache_dir: Path
) -> None:
    """Train an architecture and write models/NAME with its card, split and test metrics."""
    _require_training_extra()
    configure_tensorflow()
    from whoru.training.train import train

    card = train(data, arch, out, epochs, resume, cache_dir, fit_on, seed)
    per_dataset = card.quantitative_analysis["test_chips"]
    click.echo(json.dumps({name: figures | {"groups": "..."} for name, figures in per_dataset.items()}, indent=1))


@click.command("evaluate")
@model_dir_option("Model directory to measure.")
@click.option(
    "--data",
    "sources",
    required=True,
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Dataset folder or archive (UTKFace, AAF or APPA-REAL, told apart by their folders); repeatable.",
)
@click.option(
    "--mode",
    type=click.Choice(["chips", "pipeline"]),
    default="chips",
    show_default=True,
    help="chips: images are aligned face crops; pipeline: detect and align like serving does.",
)
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), help="Write the figures as JSON.")
@click.option(
    "--report", type=click.Path(dir_okay=False, path_type=Path), help="Write a Markdown report (PNG beside it)."
)
@click.option("--update-card", is_flag=True, help="Store the figures in the model's card.json.")
@CACHE
def evaluate_command(model_dir, sources, mode, json_out, report, update_card, cache_dir) -> None:
    """Measure a model on every image of each dataset it did not train or validate on, dataset by dataset."""
    _require_training_extra()
    configure_tensorflow()
    from whoru.training.card import record_metrics
    from whoru.training.evaluate import evaluate
    from whoru.training.report import write_report

    every = {}
    for source in sources:
        figures, raw = evaluate(model_dir, source, mode, cache_dir)
        every[figures["dataset"]] = figures
        click.echo(json.dumps({k: v for k, v in figures.items() if k != "groups"}, indent=1))
        if report:
            path = (
                report if len(sources) == 1 else report.with_name(f"{report.stem}-{figures['dataset']}{report.suffix}")
            )
            write_report(path, model_dir.name, figures, raw)
        if update_card:
            record_metrics(model_dir, mode, figures)
    if json_out:
        json_out.write_text(json.dumps(every if len(sources) > 1 else every.popitem()[1], indent=1) + "\n")


@click.command("export")
@model_dir_option("Model directory whose Keras files to export.")
def export_command(model_dir: Path) -> None:
    """Export a model directory's Keras networks to the ONNX files the worker serves."""
    _require_training_extra()
    configure_tensorflow()
    from whoru.training.export import export_onnx

    for role, file in export_onnx(model_dir).items():
        click.echo(f"{role}: {model_dir / file}")


@click.command("quantize")
@model_dir_option("Model directory whose ONNX networks to quantize.")
@DATA
@click.option(
    "--network",
    "networks",
    multiple=True,
    help="A network (its role in the card) to quantize; repeatable; all when none.",
)
@click.option("--faces", default=512, show_default=True, help="Training faces the activation ranges are measured on.")
def quantize_command(model_dir: Path, data: Path, networks: tuple[str, ...], faces: int) -> None:
    """Quantize a model's ONNX networks to 8 bits and serve those (the float files stay as their source)."""
    from whoru.training.quantize import quantize_model

    record = quantize_model(model_dir, data, list(networks), faces)
    click.echo(json.dumps(record, indent=1))
