"""Training the point-dataset networks and recording what the theory needs (paper Sec. 3, App. B).

Training on the ½-MSE loss ``½ mean((ŷ − y)²)`` (mean over points and output dimensions), as in the
authors' code: full batch (one step per epoch) unless the setting has a ``batch_size``, then shuffled
minibatches (a fixed-seed permutation per epoch). At the start of each epoch (and once more after the last)
the record holds the loss, the outputs and, for every hidden layer, the matrix of squared distances between the
points' representations. This module knows nothing of the theory; :mod:`reptheory.measure` turns a record
into the theory's variables.

Two engines give the same numbers (tested against each other):

* ``"numba"``: the dense MLP with SGD, as one fused kernel per epoch loop (forward pass, then one backward
  pass that reads and writes each weight matrix once, no autograd); used whenever it applies.
* ``"torch"``: any architecture and optimiser of :mod:`reptheory.models`, with autograd.

A run whose loss becomes non-finite or grows above ``1e6 ×`` its initial value is stopped and marked
``diverged``; callers must count it, never average it.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from numba import njit

from . import models as _models
from .configs import Setting

__all__ = ["Run", "train", "train_many", "engine_for", "DIVERGENCE_FACTOR"]

DIVERGENCE_FACTOR = 1e6
# reassociation and contraction only: NaN and inf must stay detectable (divergence)
_FM = {"reassoc", "contract", "arcp", "nsz"}
_ACT_CODE = {"linear": 0, "relu": 1, "leaky_relu": 2, "elu": 3, "tanh": 4, "silu": 5}


@dataclass(frozen=True)
class Run:
    """One training run. ``loss[e]``, ``outputs[e]``, ``dist2[e]`` are taken before update ``e``
    (``e = 0 … epochs − 1``) and, at ``e = epochs``, after the last update. ``dist2[e, l, i, j]`` is the
    squared distance between points ``i`` and ``j`` in hidden layer ``l``. After a divergence the arrays
    end at the last finite record."""

    setting: Setting
    seed: int
    engine: str
    X: np.ndarray
    Y: np.ndarray
    loss: np.ndarray
    outputs: np.ndarray
    dist2: np.ndarray
    diverged: bool
    seconds: float

    @property
    def epochs(self) -> np.ndarray:
        return np.arange(self.loss.size, dtype=float)


def engine_for(setting: Setting) -> str:
    """``"numba"`` for the dense MLP trained with full-batch SGD, else ``"torch"``."""
    full = setting.batch_size is None
    return "numba" if setting.arch == "mlp" and setting.optimizer == "sgd" and full else "torch"


def train(setting: Setting, X, Y, seed: int, engine: str | None = None) -> Run:
    """Train ``setting``'s network from ``models.build(setting, …, seed)`` on ``(X, Y)``, full batch."""
    if not isinstance(setting, Setting):
        raise TypeError(f"setting must be a reptheory.configs.Setting, got {type(setting).__name__}")
    X, Y = np.asarray(X, dtype=np.float32), np.asarray(Y, dtype=np.float32)
    if X.ndim != 2 or Y.ndim != 2 or X.shape[0] != Y.shape[0] or X.shape[0] < 2:
        raise ValueError(f"X and Y must be 2-D with the same number (>= 2) of points, got {X.shape} and {Y.shape}")
    engine = engine or engine_for(setting)
    if engine not in ("numba", "torch"):
        raise ValueError(f"engine must be 'numba' or 'torch', got {engine!r}")
    if engine == "numba" and engine_for(setting) != "numba":
        raise ValueError("the numba engine covers arch 'mlp' with full-batch optimizer 'sgd', not "
                         f"{setting.arch}/{setting.optimizer}/batch_size={setting.batch_size}")
    torch.set_num_threads(1)
    model = _models.build(setting, X.shape[1], Y.shape[1], seed)
    t0 = time.perf_counter()
    if engine == "numba":
        loss, outs, d2, div = _train_numba(model, setting, X, Y)
    else:
        loss, outs, d2, div = _train_torch(model, setting, X, Y)
    return Run(setting, seed, engine, X, Y, loss, outs, d2, bool(div), time.perf_counter() - t0)


# ----------------------------------------------------------------------------------------------------------
# torch engine

def _pairwise_d2(h: torch.Tensor) -> np.ndarray:
    sq = (h.double() ** 2).sum(1)
    d = sq[:, None] + sq[None, :] - 2.0 * (h.double() @ h.double().T)
    return d.clamp_min(0).numpy()


def _train_torch(model, s: Setting, X, Y):
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    opt = (torch.optim.SGD if s.optimizer == "sgd" else torch.optim.Adam)(model.parameters(), lr=s.lr)
    n_layers = s.n_tracked
    loss_rec = np.zeros(s.epochs + 1)
    out_rec = np.zeros((s.epochs + 1,) + Y.shape)
    d2_rec = np.zeros((s.epochs + 1, n_layers, X.shape[0], X.shape[0]))
    stochastic = s.arch == "dropout"

    def record(e, out, hidden):
        loss_rec[e] = 0.5 * torch.mean((out.double() - Yt.double()) ** 2).item()
        out_rec[e] = out.detach().double().numpy()
        for l, h in enumerate(hidden):
            d2_rec[e, l] = _pairwise_d2(h.detach())

    if s.batch_size is not None and s.batch_size < X.shape[0]:
        return _train_torch_minibatch(model, s, Xt, Yt, opt, record, loss_rec, out_rec, d2_rec)
    loss0 = None
    for e in range(s.epochs + 1):
        if stochastic or e == s.epochs:
            model.eval()
            with torch.no_grad():
                record(e, *model(Xt))
            if e == s.epochs:
                break
            model.train()
            out, hidden = model(Xt)
        else:
            out, hidden = model(Xt)
            record(e, out, hidden)
        loss0 = loss_rec[0] if loss0 is None else loss0
        if not np.isfinite(loss_rec[e]) or loss_rec[e] > DIVERGENCE_FACTOR * max(loss0, 1e-30):
            return loss_rec[:e], out_rec[:e], d2_rec[:e], True
        loss = 0.5 * torch.mean((out - Yt) ** 2)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    if not np.isfinite(loss_rec[-1]):
        return loss_rec[:-1], out_rec[:-1], d2_rec[:-1], True
    return loss_rec, out_rec, d2_rec, False


def _train_torch_minibatch(model, s: Setting, Xt, Yt, opt, record, loss_rec, out_rec, d2_rec):
    """Minibatch epochs: record on the whole dataset in eval mode, then one step per shuffled batch."""
    gen = torch.Generator().manual_seed(s.seeds[0] if s.seeds else 0)
    n = Xt.shape[0]
    for e in range(s.epochs + 1):
        model.eval()
        with torch.no_grad():
            record(e, *model(Xt))
        if not np.isfinite(loss_rec[e]) or loss_rec[e] > DIVERGENCE_FACTOR * max(loss_rec[0], 1e-30):
            return loss_rec[:e], out_rec[:e], d2_rec[:e], True
        if e == s.epochs:
            break
        model.train()
        for idx in torch.randperm(n, generator=gen).split(s.batch_size):
            out, _ = model(Xt[idx])
            loss = 0.5 * torch.mean((out - Yt[idx]) ** 2)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return loss_rec, out_rec, d2_rec, False


def train_many(setting: Setting, X, Y, seeds, n_jobs: int = 2) -> list[Run]:
    """:func:`train` for several seeds in ``n_jobs`` worker processes (one torch thread each).

    Independent trials of the 500-unit nets do not share work, so processes, not batched tensors, are the
    way to use more cores (batched kernels only add memory traffic at this width)."""
    seeds = list(seeds)
    if not seeds or not all(isinstance(x, int) and x >= 0 for x in seeds):
        raise ValueError(f"seeds must be a non-empty list of integers >= 0, got {seeds!r}")
    if n_jobs == 1 or len(seeds) == 1:
        return [train(setting, X, Y, sd) for sd in seeds]
    from joblib import Parallel, delayed
    return Parallel(n_jobs=n_jobs)(delayed(train)(setting, X, Y, sd) for sd in seeds)


# ----------------------------------------------------------------------------------------------------------
# numba engine: dense MLP + SGD

@njit(cache=True, inline="always", fastmath=_FM)
def _act(z, kind):
    if kind == 0:
        return z
    if kind == 1:
        return z if z > 0 else np.float32(0.0)
    if kind == 2:
        return z if z > 0 else np.float32(0.01) * z
    if kind == 3:
        return z if z > 0 else np.float32(np.expm1(z))
    if kind == 4:
        return np.float32(np.tanh(z))
    return np.float32(z / (1.0 + np.exp(-z)))


@njit(cache=True, inline="always", fastmath=_FM)
def _dact(z, kind):
    if kind == 0:
        return np.float32(1.0)
    if kind == 1:
        return np.float32(1.0) if z > 0 else np.float32(0.0)
    if kind == 2:
        return np.float32(1.0) if z > 0 else np.float32(0.01)
    if kind == 3:
        return np.float32(1.0) if z > 0 else np.float32(np.exp(z))
    if kind == 4:
        t = np.tanh(z)
        return np.float32(1.0 - t * t)
    sg = 1.0 / (1.0 + np.exp(-z))
    return np.float32(sg * (1.0 + z * (1.0 - sg)))


@njit(cache=True, fastmath=_FM)
def _forward(X, W0, b0, Wh, bh, WL, bL, kind, Z, A, out):
    B, n_in = X.shape
    P = W0.shape[0]
    L = Z.shape[0]
    for b in range(B):
        for i in range(P):
            s = b0[i]
            for j in range(n_in):
                s += W0[i, j] * X[b, j]
            Z[0, b, i] = s
            A[0, b, i] = _act(s, kind)
    for l in range(1, L):
        W = Wh[l - 1]
        for i in range(P):
            for b in range(B):
                s = np.float32(0.0)
                for j in range(P):
                    s += W[i, j] * A[l - 1, b, j]
                s += bh[l - 1, i]
                Z[l, b, i] = s
                A[l, b, i] = _act(s, kind)
    for b in range(B):
        for k in range(WL.shape[0]):
            s = bL[k]
            for j in range(P):
                s += WL[k, j] * A[L - 1, b, j]
            out[b, k] = s


@njit(cache=True)
def _record(e, A, out, Y, loss_rec, out_rec, d2_rec):
    B, K = out.shape
    s = 0.0
    for b in range(B):
        for k in range(K):
            d = np.float64(out[b, k]) - np.float64(Y[b, k])
            s += d * d
            out_rec[e, b, k] = out[b, k]
    loss_rec[e] = 0.5 * s / (B * K)
    L, _, P = A.shape
    for l in range(L):
        for b1 in range(B):
            for b2 in range(b1 + 1, B):
                acc = 0.0
                for j in range(P):
                    d = np.float64(A[l, b1, j]) - np.float64(A[l, b2, j])
                    acc += d * d
                d2_rec[e, l, b1, b2] = acc
                d2_rec[e, l, b2, b1] = acc


@njit(cache=True, inline="always", fastmath=_FM)
def _row_backward_update(w_row, d_col, A_prev, dprev, lr32):
    """One weight row: accumulate its back-propagated error with the old weights, then apply the SGD
    update ``w -= lr Σ_b d_b a_b`` (the row stays in L1 between the two contiguous passes)."""
    B, P = A_prev.shape
    for b in range(B):
        db = d_col[b]
        for j in range(P):
            dprev[b, j] += db * w_row[j]
    for b in range(B):
        c = lr32 * d_col[b]
        for j in range(P):
            w_row[j] -= c * A_prev[b, j]


@njit(cache=True, fastmath=_FM)
def _mlp_epochs(X, Y, W0, b0, Wh, bh, WL, bL, kind, lr, epochs, div_factor, loss_rec, out_rec, d2_rec):
    B, n_in = X.shape
    P = W0.shape[0]
    L = Wh.shape[0] + 1
    K = WL.shape[0]
    Z = np.zeros((L, B, P), dtype=np.float32)
    A = np.zeros((L, B, P), dtype=np.float32)
    out = np.zeros((B, K), dtype=np.float32)
    g = np.zeros((B, K), dtype=np.float32)
    d = np.zeros((B, P), dtype=np.float32)
    dprev = np.zeros((B, P), dtype=np.float32)
    lr32 = np.float32(lr)
    for e in range(epochs + 1):
        _forward(X, W0, b0, Wh, bh, WL, bL, kind, Z, A, out)
        _record(e, A, out, Y, loss_rec, out_rec, d2_rec)
        if not np.isfinite(loss_rec[e]) or loss_rec[e] > div_factor * max(loss_rec[0], 1e-30):
            return e                      # diverged: records [0, e) are valid
        if e == epochs:
            break
        # dL/dout for L = ½ mean over B·K entries
        for b in range(B):
            for k in range(K):
                g[b, k] = (out[b, k] - Y[b, k]) / np.float32(B * K)
        # output layer: back-propagate with the old weights and update in the same pass
        dprev[:, :] = 0.0
        for k in range(K):
            _row_backward_update(WL[k], g[:, k], A[L - 1], dprev, lr32)
            gb = np.float32(0.0)
            for b in range(B):
                gb += g[b, k]
            bL[k] -= lr32 * gb
        for b in range(B):
            for j in range(P):
                d[b, j] = dprev[b, j] * _dact(Z[L - 1, b, j], kind)
        # hidden layers L-1 … 1 (weights Wh[l-1] map A[l-1] to Z[l])
        for l in range(L - 1, 0, -1):
            W = Wh[l - 1]
            dprev[:, :] = 0.0
            for i in range(P):
                _row_backward_update(W[i], d[:, i], A[l - 1], dprev, lr32)
                db = np.float32(0.0)
                for b in range(B):
                    db += d[b, i]
                bh[l - 1, i] -= lr32 * db
            for b in range(B):
                for j in range(P):
                    d[b, j] = dprev[b, j] * _dact(Z[l - 1, b, j], kind)
        # first layer
        for i in range(P):
            db = np.float32(0.0)
            for b in range(B):
                db += d[b, i]
            b0[i] -= lr32 * db
            for j in range(n_in):
                upd = np.float32(0.0)
                for b in range(B):
                    upd += d[b, i] * X[b, j]
                W0[i, j] -= lr32 * upd
    return -1


def _train_numba(model, s: Setting, X, Y):
    layers = list(model.layers)
    P = s.width
    W0 = layers[0].weight.detach().numpy().copy()
    b0 = layers[0].bias.detach().numpy().copy()
    if len(layers) > 2:
        Wh = np.stack([m.weight.detach().numpy() for m in layers[1:-1]]).astype(np.float32)
        bh = np.stack([m.bias.detach().numpy() for m in layers[1:-1]]).astype(np.float32)
    else:
        Wh, bh = np.zeros((0, P, P), np.float32), np.zeros((0, P), np.float32)
    WL = layers[-1].weight.detach().numpy().copy()
    bL = layers[-1].bias.detach().numpy().copy()
    loss_rec = np.zeros(s.epochs + 1)
    out_rec = np.zeros((s.epochs + 1,) + Y.shape)
    d2_rec = np.zeros((s.epochs + 1, s.hidden_layers, X.shape[0], X.shape[0]))
    stop = _mlp_epochs(X, Y, W0, b0, Wh, bh, WL, bL, _ACT_CODE[s.nonlinearity], s.lr, s.epochs,
                       DIVERGENCE_FACTOR, loss_rec, out_rec, d2_rec)
    if stop >= 0:
        return loss_rec[:stop], out_rec[:stop], d2_rec[:stop], True
    return loss_rec, out_rec, d2_rec, False
