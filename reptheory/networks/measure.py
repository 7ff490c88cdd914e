"""The theory's variables measured on a trained network (paper Eq. 8; the authors' ``get_h_y_w``).

For points ``i`` and ``j`` of a :class:`reptheory.networks.train.Run` at every recorded epoch:

* ``h2 = ||h(x_j) − h(x_i)||²`` at the tracked hidden layer (post-nonlinearity),
* ``y2 = ||ŷ(x_j) − ŷ(x_i)||²``,
* ``w = y2 − (y_j − y_i)·(ŷ(x_j) − ŷ(x_i))``,

and the constants ``dx2``, ``dy2`` and ``m0 = ||½(ŷ_i + ŷ_j) − ½(y_i + y_j)||²`` at epoch 0. This is the
only module that knows both a network record and the theory's notation.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reptheory import validate as _v
from reptheory.theory.trajectory import Trajectory

__all__ = ["Measured", "two_point_variables"]


@dataclass(frozen=True)
class Measured:
    """Measured curves of one pair at one layer, with the pair's constants."""

    traj: Trajectory          # t in epochs, h2, y2, w
    loss: np.ndarray          # the training criterion at the same epochs (½-MSE over the whole dataset)
    dx2: float
    dy2: float
    m0: float                 # initial squared error of the pair's mean prediction
    layer: int


def two_point_variables(run, layer: int | None = None, pair: tuple[int, int] = (0, 1)) -> Measured:
    """``(h2, y2, w)`` of ``pair`` at hidden ``layer`` (default: the setting's tracked layer) over all
    recorded epochs of ``run``."""
    layer = run.setting.layer if layer is None else layer
    n_layers = run.dist2.shape[1]
    layer = _v.integer("layer", layer, 0, n_layers - 1)
    i, j = pair
    n = run.X.shape[0]
    if not (0 <= i < n and 0 <= j < n and i != j):
        raise ValueError(f"pair must be two different point indices in [0, {n - 1}], got {pair!r}")
    if run.loss.size == 0:
        raise ValueError("the run has no finite record (it diverged at once)")
    dout = run.outputs[:, j] - run.outputs[:, i]
    dy = (run.Y[j] - run.Y[i]).astype(float)
    y2 = np.sum(dout**2, axis=1)
    w = y2 - dout @ dy
    h2 = run.dist2[:, layer, i, j]
    dx2 = float(np.sum((run.X[j].astype(float) - run.X[i].astype(float)) ** 2))
    mean_err = 0.5 * (run.outputs[0, i] + run.outputs[0, j]) - 0.5 * (run.Y[i] + run.Y[j])
    return Measured(Trajectory(run.epochs, h2, y2, w), run.loss, dx2, float(dy @ dy), float(mean_err @ mean_err),
                    int(layer))
