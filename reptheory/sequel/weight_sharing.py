r"""Weight sharing and feature learning: an illustration of the headline of arXiv:2602.15593 (Bauer, Fischer,
Helias & Palmigiano), whose full text was not available to us.

An RNN is a deep network whose layers share one weight matrix. Claim illustrated: at strong feature learning
only the weight-shared network grows an outlier eigenvalue in its recurrent matrix; the untied deep network's
layer matrices keep their random bulk. Proxy experiment (gradient descent, not the paper's Bayesian
posterior): ``N`` tanh units, ``T`` steps, the input only at the first step, ``P`` orthogonal input
patterns with ±1 labels read out at the last step, mean-field (μP) scaling

.. math::

   h_1 = \tanh(U x),

   h_t = \tanh\!\left(W_t h_{t-1} / \sqrt{N}\right) \quad (t = 2, \dots, T),

   f = v \cdot h_T / (\gamma N),

with ``W_t = W`` for the RNN and independent ``W_2 … W_T`` for the DNN; ``O(1)`` initial weights
(``W`` entries ``N(0, g²)``, bulk radius ``g``), full-batch SGD on ``½ mean (f − y)²`` with step
``lr = 0.5 γ² N``. ``γ`` sets the strength of feature learning (large ``γ``: the readout is weak, so the
hidden weights must move).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["SharingResult", "train", "sweep"]


@dataclass(frozen=True)
class SharingResult:
    """One trained network of the proxy experiment (:func:`train`)."""

    shared: bool            #: True: the RNN (one shared W); False: the untied DNN
    gamma: float            #: γ, the strength of feature learning
    seed: int               #: torch seed of the initial weights
    final_loss: float       #: ½ mean (f − y)² after the last step
    top_eig: float          #: largest absolute eigenvalue of W/√N (DNN: the largest over its layers)
    bulk: float             #: the initial bulk radius g


def train(shared: bool, gamma: float, seed: int, n: int = 256, T: int = 6, P: int = 16, g: float = 1.2,
          steps: int = 2000) -> SharingResult:
    """Train one network (``shared``: the RNN) and return its loss and top recurrent eigenvalue."""
    if not gamma > 0:
        raise ValueError(f"gamma must be > 0, got {gamma!r}")
    if not (isinstance(T, int) and T >= 2 and isinstance(n, int) and n >= 2 and isinstance(P, int) and P >= 2):
        raise ValueError(f"need integers T >= 2, n >= 2, P >= 2, got T={T!r}, n={n!r}, P={P!r}")
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(seed)
    X = torch.eye(P)
    y = torch.where(torch.rand(P, generator=gen) < 0.5, -1.0, 1.0)
    U = torch.randn(n, P, generator=gen).requires_grad_()
    Ws = [torch.randn(n, n, generator=gen) * g for _ in range(1 if shared else T - 1)]
    Ws = [w.requires_grad_() for w in Ws]
    v = torch.randn(n, generator=gen).requires_grad_()
    params = [U, v, *Ws]
    lr = 0.5 * gamma**2 * n
    for _ in range(steps + 1):
        h = torch.tanh(X @ U.T)
        for t in range(T - 1):
            h = torch.tanh(h @ Ws[0 if shared else t].T / np.sqrt(n))
        f = h @ v / (gamma * n)
        loss = 0.5 * torch.mean((f - y) ** 2)
        if _ == steps:
            break
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, gr in zip(params, grads):
                p -= lr * gr
    top = max(float(np.max(np.abs(np.linalg.eigvals(w.detach().numpy() / np.sqrt(n))))) for w in Ws)
    return SharingResult(shared, float(gamma), seed, float(loss.detach()), top, g)


def sweep(gammas=(1.0, 4.0, 10.0), seeds=(0, 1, 2), n_jobs: int | None = None) -> list[SharingResult]:
    """RNN and DNN at every ``γ`` and seed, in parallel processes (cached by the caller if needed)."""
    from reptheory import parallel, validate
    seeds = validate.seeds("seeds", seeds)
    jobs = [(shared, float(gm), s) for gm in gammas for s in seeds for shared in (True, False)]
    return parallel.run(train, jobs, n_jobs, None, "weight sharing")
