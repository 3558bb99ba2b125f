"""ONNX Runtime sessions, the one runtime the worker runs networks on (detector and model alike)."""

from __future__ import annotations

from pathlib import Path

import onnxruntime


def onnx_session(model: Path | bytes, threads: int = 1) -> onnxruntime.InferenceSession:
    """Return a CPU session over an ONNX file (or its bytes) that uses `threads` threads at most."""
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = max(1, threads)
    options.log_severity_level = 3
    source = model if isinstance(model, bytes) else str(model)
    return onnxruntime.InferenceSession(source, options, providers=["CPUExecutionProvider"])
