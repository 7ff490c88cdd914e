"""Datasets of the paper's point experiments (Sec. 3, 4.4).

Arrays are float32 numpy arrays ``X`` (points × input dimension) and ``Y`` (points × output dimension).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import validate as _v

__all__ = ["two_points", "xor", "Blobs", "blobs"]


def two_points(dx2: float = 1.0, dy2: float = 0.5, in_dim: int = 1, out_dim: int = 1):
    """The two-point dataset of Sec. 3: ``x = (−1, −1 + √dx2)`` and ``y = (0.6, 0.6 + √dy2)`` in every
    coordinate, divided by ``√dim``, so that ``||Δx||² = dx2`` and ``||Δy||² = dy2`` exactly.

    With the defaults ``x = (−1, 0)``, ``y = (0.6, 0.6 + √0.5)``, the paper's ``||Δx||² = 1``,
    ``||Δy||² = 0.5``."""
    dx2, dy2 = float(_v.positive("dx2", dx2)), float(_v.nonnegative("dy2", dy2))
    for name, n in (("in_dim", in_dim), ("out_dim", out_dim)):
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {n!r}")
    X = np.array([[-1.0], [-1.0 + np.sqrt(dx2)]]) * np.ones((1, in_dim)) / np.sqrt(in_dim)
    Y = np.array([[0.6], [0.6 + np.sqrt(dy2)]]) * np.ones((1, out_dim)) / np.sqrt(out_dim)
    return X.astype(np.float32), Y.astype(np.float32)


def xor():
    """XOR (Sec. 4.4): inputs ``(0,0), (0,1), (1,0), (1,1)`` with targets ``0, 1, 1, 0``."""
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    Y = np.array([[0], [1], [1], [0]], dtype=np.float32)
    return X, Y


@dataclass(frozen=True)
class Blobs:
    """The blob dataset of Sec. 4.5 / App. B.3 with its latent variables (one entry per point)."""

    X: np.ndarray            # (2 n², pixels² + 2): blob image, then the one-hot context
    Y: np.ndarray            # (2 n², 1): mu_x in context 0, mu_y in context 1
    mu_x: np.ndarray         # blob centre, horizontal, in [-1, 1]
    mu_y: np.ndarray         # blob centre, vertical, in [-1, 1]
    context: np.ndarray      # 0 or 1

    @property
    def relevant(self) -> np.ndarray:
        """The feature the target reads in each point's context (mu_x in context 0, mu_y in context 1)."""
        return np.where(self.context == 0, self.mu_x, self.mu_y)

    @property
    def irrelevant(self) -> np.ndarray:
        return np.where(self.context == 0, self.mu_y, self.mu_x)


def blobs(n_centres: int = 30, pixels: int = 5) -> Blobs:
    """Gaussian-blob images (App. B.3): ``exp(−((u − mu_x)² + (v − mu_y)²)/2)`` on the pixel grid
    ``linspace(−1, 1, pixels)²``, normalised to sum 1, for centres on an ``n_centres × n_centres`` grid in
    ``[−1, 1]²``. Each image appears twice, with the context one-hot ``(1, 0)`` or ``(0, 1)`` appended; the
    target is ``mu_x`` in the first context and ``mu_y`` in the second. Defaults: the paper's 1800 points of
    27 dimensions."""
    for name, n, lo in (("n_centres", n_centres, 2), ("pixels", pixels, 2)):
        if not isinstance(n, int) or isinstance(n, bool) or n < lo:
            raise ValueError(f"{name} must be an integer >= {lo}, got {n!r}")
    c = np.linspace(-1.0, 1.0, n_centres)
    mx, my = (a.ravel() for a in np.meshgrid(c, c, indexing="ij"))
    g = np.linspace(-1.0, 1.0, pixels)
    u, v = np.meshgrid(g, g, indexing="xy")
    img = np.exp(-((u[None] - mx[:, None, None]) ** 2 + (v[None] - my[:, None, None]) ** 2) / 2.0)
    img = (img / img.sum(axis=(1, 2), keepdims=True)).reshape(mx.size, -1)
    n = mx.size
    ctx = np.repeat([0, 1], n)
    X = np.concatenate([np.tile(img, (2, 1)), np.eye(2)[ctx]], axis=1)
    mu_x, mu_y = np.tile(mx, 2), np.tile(my, 2)
    Y = np.where(ctx == 0, mu_x, mu_y)[:, None]
    return Blobs(X.astype(np.float32), Y.astype(np.float32), mu_x, mu_y, ctx)
