"""The one stop and divergence rule of every training loop in the package (the feed-forward engines of
:mod:`reptheory.networks.train`, the probes of :mod:`reptheory.lab`, the RNNs of :mod:`reptheory.sequel`).

A run *diverges* when its loss is not finite or exceeds :data:`DIVERGENCE_FACTOR` times its first recorded
loss: it is stopped, marked ``diverged``, and counted by its callers, never averaged. A run with a
``stop_loss`` *converges* (stops) at the first record whose loss is below it. The numba kernel and the batched
engines apply the same rule to arrays (with the same constant).

>>> from reptheory.networks import stop
>>> stop.diverged(float("nan"), 1.0), stop.diverged(2e6, 1.0), stop.diverged(0.5, 1.0)
(True, True, False)
>>> stop.verdict(1e-5, 1.0, stop_loss=1e-4), stop.verdict(0.5, 1.0, stop_loss=1e-4)
('converged', '')
"""
from __future__ import annotations

import math

__all__ = ["DIVERGENCE_FACTOR", "diverged", "verdict"]

#: a loss above this multiple of the first recorded loss is a divergence
DIVERGENCE_FACTOR = 1e6


def diverged(loss: float, first: float) -> bool:
    """Whether ``loss`` is non-finite or above :data:`DIVERGENCE_FACTOR` times ``first`` (the first record)."""
    return not math.isfinite(loss) or loss > DIVERGENCE_FACTOR * max(first, 1e-30)


def verdict(loss: float, first: float, stop_loss: float | None = None) -> str:
    """``"diverged"``, ``"converged"`` (below ``stop_loss``) or ``""`` (training goes on) for a record with
    loss ``loss`` in a run whose first record had ``first``."""
    if diverged(float(loss), float(first)):
        return "diverged"
    if stop_loss is not None and loss < stop_loss:
        return "converged"
    return ""
