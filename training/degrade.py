"""Random degradations of a training face, the ways users' photos differ from UTKFace's chips.

Each is drawn on its own for every face of every epoch: grayscale (scanned or old prints), blur and
low resolution (small or out-of-focus faces), JPEG artefacts (re-encoded, messaged photos) and
exposure (flash, backlight, dim rooms). The network's own augmentation (flip, shifts, contrast)
runs after these.
"""

from __future__ import annotations

import tensorflow as tf

# Chance that each degradation is applied to a face.
P_GRAY, P_BLUR, P_LOW_RES, P_JPEG, P_EXPOSURE = 0.15, 0.2, 0.25, 0.3, 0.3
# Side in pixels a low-resolution face is shrunk to before it is scaled back up; JPEG quality.
LOW_RES_SIDES, JPEG_QUALITY = (16, 48), (15, 60)
BLUR_SIGMA, GAMMA, GAIN = (0.6, 1.8), (0.6, 1.6), (0.6, 1.3)


def degrade(face: tf.Tensor) -> tf.Tensor:
    """Return a uint8 face (height, width, 3) with each degradation applied at random."""
    x = tf.cast(face, tf.float32)
    x = _maybe(P_LOW_RES, x, _low_resolution)
    x = _maybe(P_BLUR, x, _blur)
    x = _maybe(P_EXPOSURE, x, _exposure)
    x = _maybe(P_GRAY, x, lambda v: tf.tile(tf.image.rgb_to_grayscale(v), [1, 1, 3]))
    x = tf.cast(tf.clip_by_value(tf.round(x), 0.0, 255.0), tf.uint8)
    return _maybe(P_JPEG, x, _jpeg)


def _maybe(p: float, x: tf.Tensor, transform) -> tf.Tensor:
    """Apply `transform` with probability p."""
    return tf.cond(tf.random.uniform(()) < p, lambda: transform(x), lambda: x)


def _low_resolution(x: tf.Tensor) -> tf.Tensor:
    """Shrink the face to a few dozen pixels and scale it back up."""
    side = tf.random.uniform((), *LOW_RES_SIDES, dtype=tf.int32)
    size = tf.shape(x)[:2]
    small = tf.image.resize(x, [side, side], method="area")
    return tf.image.resize(small, size, method="bilinear")


def _blur(x: tf.Tensor) -> tf.Tensor:
    """Blur with a Gaussian of random width (a separable 7-tap kernel)."""
    sigma = tf.random.uniform((), *BLUR_SIGMA)
    taps = tf.range(-3.0, 4.0)
    kernel = tf.exp(-0.5 * (taps / sigma) ** 2)
    kernel = kernel / tf.reduce_sum(kernel)
    image = x[None]
    rows = tf.tile(tf.reshape(kernel, [7, 1, 1, 1]), [1, 1, 3, 1])
    columns = tf.tile(tf.reshape(kernel, [1, 7, 1, 1]), [1, 1, 3, 1])
    image = tf.nn.depthwise_conv2d(image, rows, [1, 1, 1, 1], "SAME")
    return tf.nn.depthwise_conv2d(image, columns, [1, 1, 1, 1], "SAME")[0]


def _exposure(x: tf.Tensor) -> tf.Tensor:
    """Change the gamma and the gain, as under- or over-exposure does."""
    gamma = tf.random.uniform((), *GAMMA)
    gain = tf.random.uniform((), *GAIN)
    return 255.0 * tf.pow(x / 255.0, gamma) * gain


def _jpeg(face: tf.Tensor) -> tf.Tensor:
    """Re-encode as a low-quality JPEG."""
    quality = tf.random.uniform((), *JPEG_QUALITY, dtype=tf.int32)
    return tf.reshape(tf.image.adjust_jpeg_quality(face, quality), tf.shape(face))
