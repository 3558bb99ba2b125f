"""ONNX Runtime sessions, the one runtime the worker runs networks on (detector and model alike)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnxruntime

# A network as the pipeline calls it: a batch in, its one output or its outputs by name out.
Net = Callable[[np.ndarray], "np.ndarray | dict[str, np.ndarray]"]


def onnx_session(model: Path | bytes, threads: int = 1) -> onnxruntime.InferenceSession:
    """Return a CPU session over an ONNX file (or its bytes) that uses `threads` threads at most."""
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = max(1, threads)
    options.log_severity_level = 3
    source = model if isinstance(model, bytes) else str(model)
    return onnxruntime.InferenceSession(source, options, providers=["CPUExecutionProvider"])


def onnx_runner(model: Path | bytes, threads: int = 1) -> Net:
    """Return a one-input ONNX network (a file or its bytes) as a `Net`."""
    session = onnx_session(model, threads)
    feed, names = session.get_inputs()[0].name, [output.name for output in session.get_outputs()]

    def run(batch: np.ndarray):
        # asarray, not astype: the detector's float32 image passes uncopied.
        outputs = session.run(names, {feed: np.asarray(batch, dtype=np.float32)})
        return outputs[0] if len(outputs) == 1 else dict(zip(names, outputs))

    return run
