"""The one stop and divergence rule of every training loop in the package (the feed-forward engines of
:mod:`reptheory.networks.train`, the probes of :mod:`reptheory.lab`, the RNNs of :mod:`reptheory.sequel`).

A run *diverges* when its loss is not finite or exceeds :data:`DIVERGENCE_FACTOR` times its first recorded
loss: it is stopped, marked ``diverged``, and counted by its callers, never averaged. A run with a
``stop_loss`` *converges* (stops) at the first record whose loss is below it. The batched engines (of the
networks, the probes and the parity RNNs) apply the rule to arrays or tensors of records through
:func:`diverged_where`; the numba kernel, compiled code that cannot call it, applies the same comparison with the
same constant.

>>> import numpy as np
>>> from reptheory.networks import stop
>>> stop.diverged(float("nan"), 1.0), stop.diverged(2e6, 1.0), stop.diverged(0.5, 1.0)
(True, True, False)
>>> stop.diverged_where(np.array([0.5, np.inf, 3e6]), np.array(1.0))
array([False,  True,  True])
>>> stop.verdict(1e-5, 1.0, stop_loss=1e-4), stop.verdict(0.5, 1.0, stop_loss=1e-4)
('converged', '')
"""
from __future__ import annotations

import numpy as np

__all__ = ["DIVERGENCE_FACTOR", "diverged", "diverged_where", "verdict"]

#: a loss above this multiple of the first recorded loss is a divergence
DIVERGENCE_FACTOR = 1e6


def diverged_where(loss, first):
    """Elementwise: whether each ``loss`` is non-finite or above :data:`DIVERGENCE_FACTOR` times ``first`` (the
    first record's loss, floored at 1e-30), for a numpy array or a torch tensor (``first`` of the same kind,
    broadcast against ``loss``); a boolean array or tensor of ``loss``'s shape."""
    if hasattr(loss, "clamp_min"):               # a torch tensor (this module does not import torch)
        return ~loss.isfinite() | (loss > DIVERGENCE_FACTOR * first.clamp_min(1e-30))
    loss = np.asarray(loss)
    with np.errstate(invalid="ignore"):
        return ~np.isfinite(loss) | (loss > DIVERGENCE_FACTOR * np.maximum(first, 1e-30))


def diverged(loss: float, first: float) -> bool:
    """Whether ``loss`` is non-finite or above :data:`DIVERGENCE_FACTOR` times ``first`` (the first record):
    :func:`diverged_where` for one record."""
    return bool(diverged_where(np.float64(loss), np.float64(first)))


def verdict(loss: float, first: float, stop_loss: float | None = None) -> str:
    """``"diverged"``, ``"converged"`` (below ``stop_loss``) or ``""`` (training goes on) for a record with
    loss ``loss`` in a run whose first record had ``first``."""
    if diverged(float(loss), float(first)):
        return "diverged"
    if stop_loss is not None and loss < stop_loss:
        return "converged"
    return ""
