"""Datasets of the paper's point experiments (Sec. 3, 4.4).

Arrays are float32 numpy arrays ``X`` (points × input dimension) and ``Y`` (points × output dimension).
"""
from __future__ import annotations

import numpy as np

from . import validate as _v

__all__ = ["two_points", "xor"]


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
