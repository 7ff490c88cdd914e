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

The networks train on the package's one batched engine, :func:`reptheory.networks.stack.train_stack` (the RNNs of a
sweep stacked together, the DNNs together), with its stop and divergence rule: a network whose loss diverges is
stopped, marked ``diverged`` and counted by the page, never averaged.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["SharingResult", "train", "sweep"]

#: the proxy's size and budget (:func:`train`'s defaults, :func:`sweep`'s networks): units N, steps T, patterns P,
#: initial bulk radius g, gradient steps
_N, _T, _P, _G, _STEPS = 256, 6, 16, 1.2, 2000


@dataclass(frozen=True)
class SharingResult:
    """One trained network of the proxy experiment (:func:`train`)."""

    shared: bool            #: True: the RNN (one shared W); False: the untied DNN
    gamma: float            #: γ, the strength of feature learning
    seed: int               #: torch seed of the initial weights
    final_loss: float       #: ½ mean (f − y)² after the last step (at the divergence for a diverged network)
    top_eig: float          #: largest absolute eigenvalue of W/√N (DNN: the largest over its layers); NaN if diverged
    bulk: float             #: the initial bulk radius g
    diverged: bool = False  #: the loss diverged (:mod:`reptheory.networks.stop`) and the network was stopped


class _Proxy(torch.nn.Module):
    """The proxy network: ``forward(x, gamma) -> (f, W/√N)`` on the ``P`` patterns ``x`` (rows), ``f`` of shape
    ``(P, 1)``; ``W`` holds one matrix (the RNN's shared one) or the DNN's ``T - 1`` untied ones."""

    def __init__(self, n: int, T: int, P: int, layers: int):
        super().__init__()
        self.T, self.n = T, n
        self.U = torch.nn.Parameter(torch.zeros(n, P))
        self.W = torch.nn.Parameter(torch.zeros(layers, n, n))
        self.v = torch.nn.Parameter(torch.zeros(n))

    def forward(self, x, gamma):
        h, Ws = torch.tanh(x @ self.U.T), self.W.unbind(0)
        for t in range(self.T - 1):
            h = torch.tanh(h @ Ws[0 if len(Ws) == 1 else t].T / np.sqrt(self.n))
        return (h @ self.v / (gamma * self.n))[:, None], self.W / np.sqrt(self.n)


def _check(gamma, n, T, P) -> tuple:
    """``(gamma, n, T, P)`` checked: a finite ``gamma > 0``, integers ``n, T, P >= 2``."""
    from reptheory import validate
    return (float(validate.positive("gamma", gamma)), validate.integer("n", n, 2), validate.integer("T", T, 2),
            validate.integer("P", P, 2))


def _train_stack(shared: bool, cases: list, n: int, T: int, P: int, g: float, steps: int) -> list[SharingResult]:
    """The networks ``cases = [(gamma, seed), ...]`` of one kind (``shared``: RNNs), trained as one stack."""
    from reptheory.networks.stack import train_stack
    torch.set_num_threads(1)
    layers = 1 if shared else T - 1
    init, labels = {"U": [], "W": [], "v": []}, []
    for _, seed in cases:                 # each network's draws from its own generator, in the order U, W…, v
        gen = torch.Generator().manual_seed(seed)
        labels.append(torch.where(torch.rand(P, generator=gen) < 0.5, -1.0, 1.0))
        init["U"].append(torch.randn(n, P, generator=gen))
        init["W"].append(torch.stack([torch.randn(n, n, generator=gen) * g for _ in range(layers)]))
        init["v"].append(torch.randn(n, generator=gen))
    params = {k: torch.stack(v) for k, v in init.items()}
    B = len(cases)
    gammas = torch.tensor([float(gm) for gm, _ in cases])
    X, Y = torch.eye(P).expand(B, P, P), torch.stack(labels)[:, :, None]
    final = {}

    def record(e, idx, out, W, live):
        loss = 0.5 * ((out.double() - Y[idx].double()) ** 2).mean((1, 2))
        for row, b in enumerate(idx.tolist()):
            if live[row]:
                final[b] = float(loss[row]), (W[row] if e == steps else None)
        return loss

    _, diverged, _ = train_stack(_Proxy(n, T, P, layers), params, (X, gammas[:, None]), Y,
                                 0.5 * gammas.numpy() ** 2 * n, steps, record)
    out = []
    for b, (gm, seed) in enumerate(cases):
        loss, W = final[b]
        top = (float("nan") if diverged[b] else
               max(float(np.max(np.abs(np.linalg.eigvals(w.numpy())))) for w in W))
        out.append(SharingResult(shared, float(gm), seed, loss, top, g, bool(diverged[b])))
    return out


def train(shared: bool, gamma: float, seed: int, n: int = _N, T: int = _T, P: int = _P, g: float = _G,
          steps: int = _STEPS) -> SharingResult:
    """Train one network (``shared``: the RNN) and return its loss and top recurrent eigenvalue.

    >>> r = train(True, 1.0, 0, n=16, T=3, P=4, steps=20)
    >>> r.shared, r.diverged, bool(r.top_eig > 0)
    (True, False, True)
    """
    from reptheory import validate
    gamma, n, T, P = _check(gamma, n, T, P)
    return _train_stack(bool(shared), [(gamma, validate.integer("seed", seed, 0))], n, T, P,
                        float(validate.positive("g", g)), validate.integer("steps", steps, 1))[0]


def sweep(gammas=(1.0, 4.0, 10.0), seeds=(0, 1, 2), n_jobs: int | None = None) -> list[SharingResult]:
    """RNN and DNN at every ``γ`` and seed (the RNNs as one stack, the DNNs as another, in parallel processes),
    in the order γ, seed, RNN before DNN."""
    from reptheory import parallel, validate
    seeds = validate.seeds("seeds", seeds)
    cases = [(_check(gm, _N, _T, _P)[0], s) for gm in gammas for s in seeds]
    stacks = parallel.run(_train_stack, [(shared, cases, _N, _T, _P, _G, _STEPS) for shared in (True, False)],
                          n_jobs, None, "weight sharing")
    return [stacks[k][j] for j in range(len(cases)) for k in (0, 1)]
