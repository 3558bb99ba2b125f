"""Quantize a model directory's ONNX networks to 8-bit integers, calibrated on faces of its training split.

On a CPU with 8-bit dot-product instructions (AVX-512 VNNI, AVX-VNNI), ONNX Runtime runs
quantized convolutions several times faster than float ones (docs/performance.md). The float
files stay beside the quantized ones, as the source they were made from.

Weights use 7 of their 8 bits (`reduce_range`). Without VNNI (AVX2 alone, AVX-512 without VNNI),
ONNX Runtime multiplies uint8 activations by int8 weights with an instruction whose pairwise sums
saturate at 16 bits: quantized with full-range weights, `fast`'s ages moved by more than the
test's 1 year there (docs/performance.md, "Choices in the code"), and stayed within it on VNNI CPUs.
"""

from __future__ import annotations

import json
import random
import tempfile
from pathlib import Path

import numpy as np
import onnxruntime
from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process

from whoru.faces.model import FACE, input_specs
from whoru.local_files import file_sha256
from whoru.model_card import ModelCard
from whoru.training.cache import build_arrays
from whoru.training.readers import read_dataset

CALIBRATION_FACES = 512
CALIBRATION_BATCH = 16
SUFFIX = ".int8.onnx"
# Convolutions hold nearly all the multiply-adds; the dense output layers stay float, so that their
# rounding does not land on the predictions.
QUANTIZED_OPS = ["Conv"]


class _Faces(CalibrationDataReader):
    """Feeds the calibration faces to ONNX Runtime's calibrator, a batch at a time."""

    def __init__(self, input_name: str, faces: np.ndarray):
        self._batches = iter(
            [
                {input_name: faces[i : i + CALIBRATION_BATCH].astype(np.float32)}
                for i in range(0, len(faces), CALIBRATION_BATCH)
            ]
        )

    def get_next(self) -> dict | None:
        """Return the next batch, or None when all were given."""
        return next(self._batches, None)


def quantize_model(
    model_dir: Path, data: Path, networks: list[str], faces: int = CALIBRATION_FACES, seed: int = 1234
) -> dict:
    """Serve an 8-bit copy of each named network (all when none are named); return the card's record of it."""
    card = ModelCard.load(model_dir)
    specs = input_specs(card)
    previous = (card.model_extra or {}).get("quantization", {}).get("from", {})
    float_files = {role: previous.get(role, {}).get("file", file) for role, file in card.onnx_files.items()}
    chosen = _calibration_faces(model_dir, data, faces, seed)
    record = {
        "format": "QDQ",
        "weights": "int8 in 7 bits (reduce_range), per channel",
        "activations": "uint8, per tensor",
        "quantized_ops": QUANTIZED_OPS,
        "calibration": f"min-max over {len(chosen)} faces of the training split, seed {seed}",
        "onnxruntime": onnxruntime.__version__,
        "from": {},
    }
    served = dict(float_files)
    for role in networks or list(float_files):
        source = model_dir / float_files[role]
        target = model_dir / (source.name.removesuffix(".onnx") + SUFFIX)
        _quantize(source, target, build_arrays(data, chosen, specs[role if role in specs else FACE], None).images)
        served[role] = target.name
        record["from"][role] = {"file": source.name, "sha256": file_sha256(source)}
    card.updated({"onnx_files": served, "quantization": record}).save(model_dir)
    return record


def _calibration_faces(model_dir: Path, data: Path, count: int, seed: int) -> list:
    """Return `count` faces of the model's training split, chosen at random with a fixed seed."""
    train = set(json.loads((model_dir / "split.json").read_text())["train"])
    faces = [face for face in read_dataset(data).faces if face.name in train]
    return random.Random(seed).sample(sorted(faces, key=lambda face: face.name), min(count, len(faces)))


def _quantize(source: Path, target: Path, faces: np.ndarray) -> None:
    """Quantize one network statically, its activations' ranges measured on the faces."""
    input_name = onnxruntime.InferenceSession(str(source), providers=["CPUExecutionProvider"]).get_inputs()[0].name
    with tempfile.TemporaryDirectory() as scratch:
        # Shape inference and graph folding first, as ONNX Runtime's quantizer recommends.
        prepared = Path(scratch) / "prepared.onnx"
        quant_pre_process(str(source), str(prepared))
        quantize_static(
            str(prepared),
            str(target),
            _Faces(input_name, faces),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            reduce_range=True,
            op_types_to_quantize=QUANTIZED_OPS,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
        )
