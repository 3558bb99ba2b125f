"""Fit the per-task weights that blend two sets of log-probabilities (a few parameters, in NumPy)."""

from __future__ import annotations

import numpy as np

from whoru.faces.head import sigmoid, softmax

STEPS, LEARNING_RATE = 3000, 0.05


def fit_softmax_blend(parts: list[np.ndarray], labels: np.ndarray, bias: bool) -> tuple[np.ndarray, np.ndarray]:
    """Return weights w (and a per-class bias) maximising the likelihood of softmax(sum w_j parts_j + bias).

    Each part is an (n, classes) array of log-probabilities (or logits); plain gradient ascent
    with Adam, which is enough for so few parameters.
    """
    stacked = np.stack(parts)  # (parts, n, classes)
    n, classes = labels.shape[0], stacked.shape[2]
    params = np.concatenate([np.ones(len(parts)) / len(parts), np.zeros(classes if bias else 0)])
    truth = np.eye(classes)[labels]

    def gradient(p: np.ndarray) -> np.ndarray:
        weights, b = p[: len(parts)], p[len(parts) :]
        probs = softmax(np.tensordot(weights, stacked, axes=1) + (b if bias else 0))
        residual = truth - probs
        g_w = np.einsum("jnk,nk->j", stacked, residual) / n
        return np.concatenate([g_w, residual.mean(0)]) if bias else g_w

    params = _adam_ascent(params, gradient)
    return params[: len(parts)], params[len(parts) :]


def fit_logistic_blend(logits: list[np.ndarray], labels: np.ndarray) -> np.ndarray:
    """Return weights (one per logit, then a bias) of a logistic regression on the given logits."""
    x = np.column_stack([*logits, np.ones(len(labels))])

    def gradient(p: np.ndarray) -> np.ndarray:
        return x.T @ (labels - sigmoid(x @ p)) / len(labels)

    return _adam_ascent(np.concatenate([np.ones(len(logits)) / len(logits), [0.0]]), gradient)


def _adam_ascent(params: np.ndarray, gradient) -> np.ndarray:
    """Climb a concave log-likelihood with Adam for a fixed number of steps."""
    m, v = np.zeros_like(params), np.zeros_like(params)
    for step in range(1, STEPS + 1):
        g = gradient(params)
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
        params = params + LEARNING_RATE * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
    return params
