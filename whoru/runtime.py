"""Process-wide TensorFlow settings, applied before TensorFlow is first imported."""

from __future__ import annotations

import os


def configure_tensorflow(threads: int = 0) -> None:
    """Set TensorFlow's environment; must run before `import keras` or `import tensorflow`.

    oneDNN's fused kernels crashed TF 2.21 (segfault in a training step of a BatchNorm
    residual net) and were no faster (docs/performance.md, "Choices in the code"), so they are
    off everywhere.
    """
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    if threads > 0:
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:
            pass  # TensorFlow already runs in this process (training, tests) with the pools it chose.
