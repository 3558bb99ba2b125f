"""Importers that turn downloaded pretrained networks into ONNX files under models/."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path


def run_importer(
    doc: str, source: str, source_help: str, out: str, importer: Callable[[Path, Path], dict]
) -> tuple[Path, dict]:
    """Read an importer's command line (the downloaded package, --out), run it, and return the folder and card."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument(source, type=Path, help=source_help)
    parser.add_argument("--out", type=Path, default=Path(out), help="model directory to write")
    args = parser.parse_args()
    return args.out, importer(getattr(args, source), args.out)
