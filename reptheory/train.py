"""Training the point-dataset networks and recording what the theory needs (paper Sec. 3, App. B).

Training on the ½-MSE loss ``½ mean((ŷ − y)²)`` (mean over points and output dimensions), as in the
authors' code: full batch (one step per epoch) unless the setting has a ``batch_size``, then shuffled
minibatches (a fixed-seed permutation per epoch). At the start of each epoch (and once more after the last)
the record holds the loss, the outputs and, for every hidden layer, the matrix of squared distances between the
points' representations. This module knows nothing of the theory; :mod:`reptheory.measure` turns a record
into the theory's variables.

Two engines give the same numbers (tested against each other; for dropout, with the same masks):

* ``"numba"``: the dense nets (the MLP, its skip-connection and dropout variants) trained full batch with SGD
  or Adam, as one fused kernel per epoch loop (forward pass, then one backward pass that reads and writes each
  weight matrix once, no autograd); used whenever it applies on the CPU. Dropout masks come from numba's
  Mersenne Twister seeded with the run's seed (PyTorch's own masks differ, so the two engines agree on a
  dropout net in distribution, and exactly when the kernel's masks are replayed: tested).
* ``"torch"``: any architecture and optimiser of :mod:`reptheory.models`, with autograd.

A run whose loss becomes non-finite or grows above ``1e6 ×`` its initial value is stopped and marked
``diverged``; callers must count it, never average it. A setting with ``stop_loss`` stops after the first
record whose loss is below it (the paper's "train until the loss is below 1e-4"); the arrays then end there.

Device: ``$REPTHEORY_DEVICE`` (``cpu`` by default, ``cuda``, ``cuda:N``, ``mps`` or ``auto``) or the ``device``
argument. Off the CPU every run uses the torch engine (the numba kernel is CPU code); results differ from
CPU runs in float32 rounding, so the device is part of a run's cache key.

``record="ends"`` is for datasets too large for per-epoch distance matrices (the blobs, MNIST): the loss is
recorded every epoch, the hidden activations of every layer only before the first and after the last update
(``Run.hidden``), and ``dist2`` and ``outputs`` are empty, unless ``track`` names a few points: then
``outputs`` and ``dist2`` are recorded every epoch for those points only (in the order given).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from numba import njit

from . import models as _models
from . import runtime as _runtime
from .configs import Setting

__all__ = ["Run", "train", "train_batch", "train_many", "engine_for", "device", "DIVERGENCE_FACTOR"]

DIVERGENCE_FACTOR = 1e6
#: :func:`train_batch` asks the device whether any trial still trains every this many epochs (``None``: every
#: epoch on the CPU, every 100 on a GPU, where each question waits for the device to finish its queue)
BATCH_POLL = None
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
    hidden: np.ndarray | None = None      # record="ends": (2, layers, points, width) at the first/last record

    @property
    def epochs(self) -> np.ndarray:
        return np.arange(self.loss.size, dtype=float)


def device(name: str | None = None) -> str:
    """The torch device runs use: ``name``, else the runtime's (``$REPTHEORY_DEVICE``, else ``"cpu"``;
    ``"auto"``: CUDA when available). Raises a clear error for an unknown or unavailable device."""
    raw = name or _runtime.current().device
    if raw == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        dev = torch.device(raw)
    except (RuntimeError, TypeError):
        raise ValueError(f"device must be cpu, cuda, cuda:N, mps or auto, got {raw!r}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {raw!r} was requested but torch finds no CUDA GPU (torch.cuda.is_available() "
                         "is False); use cpu or auto")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise ValueError(f"device {raw!r}: only {torch.cuda.device_count()} CUDA devices")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device {raw!r} was requested but MPS is not available")
    if dev.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"device must be cpu, cuda, cuda:N, mps or auto, got {raw!r}")
    return str(dev)


def engine_for(setting: Setting) -> str:
    """``"numba"`` for the dense nets (MLP, skip connections, dropout) trained full batch with SGD or Adam on the
    CPU, else ``"torch"``."""
    full = setting.batch_size is None
    on_cpu = device() == "cpu"
    return "numba" if setting.arch in _NUMBA_ARCHS and full and on_cpu else "torch"


def _finite_data(name: str, a) -> np.ndarray:
    """``a`` as float32; NaN or inf in training data is an input error naming the array (not a divergence)."""
    try:
        arr = np.asarray(a, dtype=np.float32)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of real numbers, got {type(a).__name__}") from None
    bad = ~np.isfinite(arr)
    if bad.any():
        raise ValueError(f"{name} must be finite: {int(bad.sum())} of its {arr.size} entries are NaN or inf "
                         f"(first at index {tuple(int(i) for i in np.argwhere(bad)[0])})")
    return arr


def train(setting: Setting, X, Y, seed: int, engine: str | None = None, record: str = "pairs",
          track: tuple | None = None) -> Run:
    """Train ``setting``'s network from ``models.build(setting, …, seed)`` on ``(X, Y)``.

    ``record``: ``"pairs"`` (distance matrices of every layer at every epoch) or ``"ends"`` (see the module
    docstring; torch engine), with ``track`` (point indices) recorded every epoch."""
    if not isinstance(setting, Setting):
        raise TypeError(f"setting must be a reptheory.configs.Setting, got {type(setting).__name__}")
    X, Y = _finite_data("X", X), _finite_data("Y", Y)
    if X.ndim != 2 or Y.ndim != 2 or X.shape[0] != Y.shape[0] or X.shape[0] < 2:
        raise ValueError(f"X and Y must be 2-D with the same number (>= 2) of points, got {X.shape} and {Y.shape}")
    if record not in ("pairs", "ends"):
        raise ValueError(f"record must be 'pairs' or 'ends', got {record!r}")
    if track is not None:
        track = tuple(track)
        if record != "ends" or len(track) < 2 or not all(isinstance(i, (int, np.integer)) and 0 <= i < X.shape[0]
                                                        for i in track):
            raise ValueError(f"track must be >= 2 point indices in [0, {X.shape[0] - 1}] with record='ends', "
                             f"got {track!r}")
    engine = engine or ("torch" if record == "ends" else engine_for(setting))
    if engine == "numba" and record == "ends":
        raise ValueError("record='ends' needs the torch engine")
    if engine not in ("numba", "torch"):
        raise ValueError(f"engine must be 'numba' or 'torch', got {engine!r}")
    if engine == "numba" and engine_for(setting) != "numba":
        raise ValueError(f"the numba engine covers archs {', '.join(_NUMBA_ARCHS)} trained full batch on the CPU, "
                         f"not {setting.arch}/{setting.optimizer}/batch_size={setting.batch_size}")
    torch.set_num_threads(1)
    model = _models.build(setting, X.shape[1], Y.shape[1], seed)
    t0 = time.perf_counter()
    hidden = None
    if engine == "numba":
        loss, outs, d2, div = _train_numba(model, setting, X, Y, seed)
    else:
        loss, outs, d2, div, hidden = _train_torch(model, setting, X, Y, seed, record, track)
    return Run(setting, seed, engine, X, Y, loss, outs, d2, bool(div), time.perf_counter() - t0, hidden)


# ----------------------------------------------------------------------------------------------------------
# torch engine

def _pairwise_d2(h: torch.Tensor) -> np.ndarray:
    h = h.cpu().double()
    sq = (h ** 2).sum(1)
    d = sq[:, None] + sq[None, :] - 2.0 * (h @ h.T)
    return d.clamp_min(0).numpy()


def _stop(loss_rec, e, s: Setting) -> str:
    """``"diverged"``, ``"converged"`` (below ``stop_loss``) or ``""`` after the record of epoch ``e``."""
    if not np.isfinite(loss_rec[e]) or loss_rec[e] > DIVERGENCE_FACTOR * max(loss_rec[0], 1e-30):
        return "diverged"
    if s.stop_loss is not None and loss_rec[e] < s.stop_loss:
        return "converged"
    return ""


def _train_torch(model, s: Setting, X, Y, seed: int, record_mode: str, track=None):
    dev = device()
    model.to(dev)
    Xt, Yt = torch.from_numpy(X).to(dev), torch.from_numpy(Y).to(dev)
    opt = (torch.optim.SGD if s.optimizer == "sgd" else torch.optim.Adam)(model.parameters(), lr=s.lr)
    n_layers = s.n_tracked
    ends = record_mode == "ends"
    pts = list(track) if track is not None else list(range(X.shape[0]))
    n_rec = 0 if ends and track is None else s.epochs + 1
    loss_rec = np.zeros(s.epochs + 1)
    out_rec = np.zeros((n_rec, len(pts), Y.shape[1]))
    d2_rec = np.zeros((n_rec, n_layers, len(pts), len(pts)))
    first_hidden = []

    def record(e, out, hidden):
        loss_rec[e] = 0.5 * torch.mean((out.double() - Yt.double()) ** 2).item()
        if ends and e == 0:
            first_hidden.append(np.stack([h.detach().cpu().numpy().astype(np.float32) for h in hidden]))
        if n_rec == 0:
            return
        out_rec[e] = out.detach()[pts].double().cpu().numpy()
        for l, h in enumerate(hidden):
            d2_rec[e, l] = _pairwise_d2(h.detach()[pts])

    def finish(e, diverged):
        """Records [0, e) (diverged) or [0, e] (stopped or finished), with the last hidden activations."""
        n = e if diverged else e + 1
        hidden = None
        if ends:
            model.eval()
            with torch.no_grad():
                _, last = model(Xt)
            hidden = np.stack([first_hidden[0], np.stack([h.cpu().numpy().astype(np.float32) for h in last])])
        return loss_rec[:n], out_rec[:n], d2_rec[:n], diverged, hidden

    if s.batch_size is not None and s.batch_size < X.shape[0]:
        gen = torch.Generator().manual_seed(seed)
        for e in range(s.epochs + 1):
            model.eval()
            with torch.no_grad():
                record(e, *model(Xt))
            why = _stop(loss_rec, e, s)
            if why or e == s.epochs:
                return finish(e, why == "diverged")
            model.train()
            for idx in torch.randperm(X.shape[0], generator=gen).split(s.batch_size):
                out, _ = model(Xt[idx])
                loss = 0.5 * torch.mean((out - Yt[idx]) ** 2)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
        raise AssertionError("unreachable")

    stochastic = s.arch == "dropout"
    for e in range(s.epochs + 1):
        if stochastic or e == s.epochs:       # dropout: record without it; the last record: no step follows
            model.eval()
            with torch.no_grad():
                record(e, *model(Xt))
            model.train()
        else:
            out, hidden = model(Xt)
            record(e, out, hidden)
        why = _stop(loss_rec, e, s)
        if why or e == s.epochs:
            return finish(e, why == "diverged")
        if stochastic:
            out, hidden = model(Xt)
        loss = 0.5 * torch.mean((out - Yt) ** 2)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    raise AssertionError("unreachable")


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
def _forward(X, W0, b0, Wh, bh, WL, bL, kind, skip, Z, A, out):
    """Forward pass without dropout (every record, and the training step of the nets without dropout):
    ``Z[l]`` the pre-activations, ``A[l]`` the activations (plus ``A[l-2]`` from layer 2 on with ``skip``, as
    the ResNet of :mod:`reptheory.models`), ``out`` the outputs."""
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
        if skip and l >= 2:                       # ResNet: the activation two layers back is added
            for b in range(B):
                for i in range(P):
                    A[l, b, i] += A[l - 2, b, i]
    for b in range(B):
        for k in range(WL.shape[0]):
            s = bL[k]
            for j in range(P):
                s += WL[k, j] * A[L - 1, b, j]
            out[b, k] = s


@njit(cache=True, fastmath=_FM)
def _forward_dropout(X, W0, b0, Wh, bh, WL, bL, kind, MX, MA, Z, A, AD, out):
    """Forward pass with dropout before every linear layer: the input of layer ``l`` is ``A[l-1] * MA[l-1]``
    (``X * MX`` for the first), kept in ``AD`` for the backward pass; ``A`` holds the activations."""
    B, n_in = X.shape
    P = W0.shape[0]
    L = Z.shape[0]
    for b in range(B):
        for i in range(P):
            s = b0[i]
            for j in range(n_in):
                s += W0[i, j] * (X[b, j] * MX[b, j])
            Z[0, b, i] = s
            A[0, b, i] = _act(s, kind)
            AD[0, b, i] = A[0, b, i] * MA[0, b, i]
    for l in range(1, L):
        W = Wh[l - 1]
        for i in range(P):
            for b in range(B):
                s = np.float32(0.0)
                for j in range(P):
                    s += W[i, j] * AD[l - 1, b, j]
                s += bh[l - 1, i]
                Z[l, b, i] = s
                A[l, b, i] = _act(s, kind)
                AD[l, b, i] = A[l, b, i] * MA[l, b, i]
    for b in range(B):
        for k in range(WL.shape[0]):
            s = bL[k]
            for j in range(P):
                s += WL[k, j] * AD[L - 1, b, j]
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
def _row_backward_update(w_row, d_col, A_prev, dprev, lr32, opt, m_row, v_row, c1, c2, grow):
    """One weight row: accumulate its back-propagated error with the old weights, then update the row with
    the gradient ``Σ_b d_b a_b``: SGD ``w -= lr g`` (``opt`` 0), or Adam (``opt`` 1) with the moments
    ``m_row``, ``v_row`` and the step's bias corrections ``c1 = lr / (1 − β1^t)``, ``c2 = 1/√(1 − β2^t)``
    (PyTorch's Adam: β = (0.9, 0.999), ε = 1e-8). The row stays in L1 between the two contiguous passes."""
    B, P = A_prev.shape
    for b in range(B):
        db = d_col[b]
        for j in range(P):
            dprev[b, j] += db * w_row[j]
    if opt == 0:
        for b in range(B):
            c = lr32 * d_col[b]
            for j in range(P):
                w_row[j] -= c * A_prev[b, j]
        return
    for j in range(P):
        grow[j] = np.float32(0.0)
    for b in range(B):
        db = d_col[b]
        for j in range(P):
            grow[j] += db * A_prev[b, j]
    for j in range(P):
        _adam(w_row, m_row, v_row, j, grow[j], c1, c2)


@njit(cache=True, inline="always", fastmath=_FM)
def _adam(p, m, v, j, g, c1, c2):
    """One Adam update of ``p[j]`` with gradient ``g`` (PyTorch's formula, in float32)."""
    m[j] = np.float32(0.9) * m[j] + np.float32(0.1) * g
    v[j] = np.float32(0.999) * v[j] + np.float32(0.001) * g * g
    p[j] -= c1 * m[j] / (np.sqrt(v[j]) * c2 + np.float32(1e-8))


@njit(cache=True, fastmath=_FM)
def _dense_epochs(X, Y, W0, b0, Wh, bh, WL, bL, kind, skip, p_drop, seed, opt, lr, epochs, div_factor, stop_loss,
                  loss_rec, out_rec, d2_rec):
    """Full-batch training of the dense nets (MLP, ResNet skips, dropout) with SGD or Adam.

    Returns ``(status, e)``: status 0 finished, 1 diverged at record ``e`` (records [0, e) valid), 2 loss
    below ``stop_loss`` at record ``e`` (records [0, e] valid). With dropout (``p_drop > 0``) each epoch records
    without it (as PyTorch's eval mode) and steps with fresh masks drawn from numba's generator seeded with
    ``seed``: per epoch the input's mask (points × inputs), then each hidden layer's (points × units), in
    row-major order, each entry kept with probability ``1 − p_drop`` and scaled by ``1/(1 − p_drop)``."""
    B, n_in = X.shape
    P = W0.shape[0]
    L = Wh.shape[0] + 1
    K = WL.shape[0]
    drop = p_drop > 0.0
    Z = np.zeros((L, B, P), dtype=np.float32)
    A = np.zeros((L, B, P), dtype=np.float32)
    AD = np.zeros((L, B, P), dtype=np.float32)
    MX = np.ones((B, n_in), dtype=np.float32)
    MA = np.ones((L, B, P), dtype=np.float32)
    XD = np.zeros((B, n_in), dtype=np.float32)
    G = np.zeros((L, B, P), dtype=np.float32)
    out = np.zeros((B, K), dtype=np.float32)
    g = np.zeros((B, K), dtype=np.float32)
    d = np.zeros((B, P), dtype=np.float32)
    dprev = np.zeros((B, P), dtype=np.float32)
    grow = np.zeros(max(P, n_in), dtype=np.float32)
    mW0, vW0 = np.zeros((P, n_in), np.float32), np.zeros((P, n_in), np.float32)
    mb0, vb0 = np.zeros(P, np.float32), np.zeros(P, np.float32)
    mWh = np.zeros(Wh.shape if opt == 1 else (0, P, P), np.float32)
    vWh = np.zeros(Wh.shape if opt == 1 else (0, P, P), np.float32)
    mbh = np.zeros(bh.shape, np.float32)
    vbh = np.zeros(bh.shape, np.float32)
    mWL, vWL = np.zeros(WL.shape, np.float32), np.zeros(WL.shape, np.float32)
    mbL, vbL = np.zeros(K, np.float32), np.zeros(K, np.float32)
    dummy = np.zeros(P, np.float32)
    lr32 = np.float32(lr)
    keep = np.float32(1.0 / (1.0 - p_drop)) if drop else np.float32(1.0)
    if drop:
        np.random.seed(seed)
    for e in range(epochs + 1):
        _forward(X, W0, b0, Wh, bh, WL, bL, kind, skip, Z, A, out)
        _record(e, A, out, Y, loss_rec, out_rec, d2_rec)
        if not np.isfinite(loss_rec[e]) or loss_rec[e] > div_factor * max(loss_rec[0], 1e-30):
            return 1, e
        if loss_rec[e] < stop_loss:
            return 2, e
        if e == epochs:
            break
        if drop:
            for b in range(B):
                for j in range(n_in):
                    MX[b, j] = keep if np.random.random() >= p_drop else np.float32(0.0)
                    XD[b, j] = X[b, j] * MX[b, j]
            for l in range(L):
                for b in range(B):
                    for j in range(P):
                        MA[l, b, j] = keep if np.random.random() >= p_drop else np.float32(0.0)
            _forward_dropout(X, W0, b0, Wh, bh, WL, bL, kind, MX, MA, Z, A, AD, out)
        else:
            AD[:, :, :] = A
            XD[:, :] = X
        t = e + 1
        c1 = np.float32(lr / (1.0 - 0.9 ** t))
        c2 = np.float32(1.0 / np.sqrt(1.0 - 0.999 ** t))
        # dL/dout for L = ½ mean over B·K entries
        for b in range(B):
            for k in range(K):
                g[b, k] = (out[b, k] - Y[b, k]) / np.float32(B * K)
        G[:, :, :] = 0.0
        # output layer: back-propagate with the old weights and update in the same pass
        dprev[:, :] = 0.0
        for k in range(K):
            if opt == 0:
                _row_backward_update(WL[k], g[:, k], AD[L - 1], dprev, lr32, 0, dummy, dummy, c1, c2, grow)
            else:
                _row_backward_update(WL[k], g[:, k], AD[L - 1], dprev, lr32, 1, mWL[k], vWL[k], c1, c2, grow)
            gb = np.float32(0.0)
            for b in range(B):
                gb += g[b, k]
            if opt == 0:
                bL[k] -= lr32 * gb
            else:
                _adam(bL, mbL, vbL, k, gb, c1, c2)
        for b in range(B):
            for j in range(P):
                G[L - 1, b, j] += dprev[b, j] * MA[L - 1, b, j]
        # hidden layers L-1 … 1 (weights Wh[l-1] map the input AD[l-1] to Z[l])
        for l in range(L - 1, 0, -1):
            for b in range(B):
                for j in range(P):
                    d[b, j] = G[l, b, j] * _dact(Z[l, b, j], kind)
            if skip and l >= 2:                   # the skip passes G[l] on to A[l-2] unchanged
                for b in range(B):
                    for j in range(P):
                        G[l - 2, b, j] += G[l, b, j]
            W = Wh[l - 1]
            dprev[:, :] = 0.0
            for i in range(P):
                if opt == 0:
                    _row_backward_update(W[i], d[:, i], AD[l - 1], dprev, lr32, 0, dummy, dummy, c1, c2, grow)
                else:
                    _row_backward_update(W[i], d[:, i], AD[l - 1], dprev, lr32, 1, mWh[l - 1, i], vWh[l - 1, i],
                                         c1, c2, grow)
                db = np.float32(0.0)
                for b in range(B):
                    db += d[b, i]
                if opt == 0:
                    bh[l - 1, i] -= lr32 * db
                else:
                    _adam(bh[l - 1], mbh[l - 1], vbh[l - 1], i, db, c1, c2)
            for b in range(B):
                for j in range(P):
                    G[l - 1, b, j] += dprev[b, j] * MA[l - 1, b, j]
        # first layer
        for b in range(B):
            for j in range(P):
                d[b, j] = G[0, b, j] * _dact(Z[0, b, j], kind)
        for i in range(P):
            db = np.float32(0.0)
            for b in range(B):
                db += d[b, i]
            if opt == 0:
                b0[i] -= lr32 * db
            else:
                _adam(b0, mb0, vb0, i, db, c1, c2)
            for j in range(n_in):
                upd = np.float32(0.0)
                for b in range(B):
                    upd += d[b, i] * XD[b, j]
                if opt == 0:
                    W0[i, j] -= lr32 * upd
                else:
                    _adam(W0[i], mW0[i], vW0[i], j, upd, c1, c2)
    return 0, epochs


#: the dense architectures the numba kernel trains, and their skip / dropout switches
_NUMBA_ARCHS = {"mlp": (False, 0.0), "resnet": (True, 0.0), "dropout": (False, 0.1)}


def _train_numba(model, s: Setting, X, Y, seed: int = 0):
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
    stop_loss = -1.0 if s.stop_loss is None else float(s.stop_loss)
    skip, p_drop = _NUMBA_ARCHS[s.arch]
    status, e = _dense_epochs(X, Y, W0, b0, Wh, bh, WL, bL, _ACT_CODE[s.nonlinearity], skip, p_drop, seed,
                              0 if s.optimizer == "sgd" else 1, s.lr, s.epochs, DIVERGENCE_FACTOR, stop_loss,
                              loss_rec, out_rec, d2_rec)
    n = e if status == 1 else e + 1
    return loss_rec[:n], out_rec[:n], d2_rec[:n], status == 1


# ----------------------------------------------------------------------------------------------------------
# batched torch engine: independent trials of one architecture in one vectorised model (torch.func)

def train_batch(setting: Setting, datasets, seeds, done=None) -> list[Run]:
    """Train one network per ``(X, Y)`` in ``datasets`` (seed ``seeds[k]`` for the ``k``-th), full-batch SGD,
    all at once: the parameters of the trials are stacked and ``torch.func.vmap`` runs forward and gradient
    over the stack, so that the small per-trial matrix products of the 2-point runs become batched ones
    (2–3× fewer seconds per trial step for the ResNet, dropout and CNN nets here). Each trial stops,
    diverges and is recorded exactly as with :func:`train` (a stopped or diverged trial's parameters are
    frozen); results agree with the single-trial torch engine to float32 rounding.

    ``done(k, run)``, if given, is called with each trial's :class:`Run` as soon as the trial has ended (checked
    every ``poll`` epochs), so that a caller can store it before the batch finishes: an interrupted batch keeps
    its finished trials. A trial's ``seconds`` is the batch's wall time until the trial ended, shared over the
    batch's trials."""
    from torch.func import functional_call, grad, vmap

    if not isinstance(setting, Setting):
        raise TypeError(f"setting must be a reptheory.configs.Setting, got {type(setting).__name__}")
    if setting.optimizer != "sgd" or setting.batch_size is not None:
        raise ValueError("train_batch covers full-batch SGD only, not "
                         f"optimizer={setting.optimizer!r}, batch_size={setting.batch_size!r}")
    datasets, seeds = list(datasets), list(seeds)
    if not datasets or len(datasets) != len(seeds):
        raise ValueError(f"need one seed per dataset, got {len(datasets)} datasets and {len(seeds)} seeds")
    arrays = [(_finite_data(f"datasets[{k}] X", X), _finite_data(f"datasets[{k}] Y", Y))
              for k, (X, Y) in enumerate(datasets)]
    if len({(X.shape, Y.shape) for X, Y in arrays}) != 1 or arrays[0][0].ndim != 2 or arrays[0][0].shape[0] < 2:
        raise ValueError("every dataset must be 2-D (X, Y) of one common shape with >= 2 points")
    torch.set_num_threads(1)
    R, (n, d_in), k_out = len(arrays), arrays[0][0].shape, arrays[0][1].shape[1]
    nets = [_models.build(setting, d_in, k_out, sd) for sd in seeds]
    tmpl = nets[0]
    dev = device()
    params = {name: torch.stack([dict(m.named_parameters())[name].detach() for m in nets]).to(dev)
              for name, _ in tmpl.named_parameters()}
    tmpl.to(dev)                          # buffers; its parameters are replaced by ``params`` in each call
    Xs = torch.stack([torch.from_numpy(X) for X, _ in arrays]).to(dev)
    Ys = torch.stack([torch.from_numpy(Y) for _, Y in arrays]).to(dev)

    def forward(p, x):
        return functional_call(tmpl, p, (x,))

    def loss_aux(p, x, y):
        out, hidden = forward(p, x)
        return 0.5 * torch.mean((out - y) ** 2), (out, hidden)

    grad_aux = vmap(grad(loss_aux, has_aux=True), randomness="different")
    forward_all = vmap(forward)
    E, L = setting.epochs, setting.n_tracked
    # Records, the stop rule and the frozen/live state stay on the device: no transfer waits on the device
    # inside the loop, except the check every ``poll`` epochs of whether any trial is still training.
    # The records are allocated, not zeroed (at the paper profile's 40,000 epochs they are hundreds of MB):
    # every row up to the last record is written before it is read, and the rows after it are cut off.
    f64 = dict(dtype=torch.float64, device=dev)
    loss_rec = torch.empty((E + 1, R), **f64)
    out_rec = torch.empty((E + 1, R, n, k_out), **f64)
    d2_rec = torch.empty((E + 1, R, L, n, n), **f64)
    Yd = Ys.double()
    live = torch.ones(R, dtype=torch.bool, device=dev)
    end = torch.full((R,), E + 1, dtype=torch.long, device=dev)      # number of valid records of each trial
    div = torch.zeros(R, dtype=torch.bool, device=dev)
    stop = -np.inf if setting.stop_loss is None else setting.stop_loss
    poll = BATCH_POLL or (1 if torch.device(dev).type == "cpu" else 100)
    stochastic = setting.arch == "dropout"
    t0 = time.perf_counter()

    def d2(h):                                    # (..., points, units) -> (..., points, points)
        sq = (h ** 2).sum(-1)
        return (sq[..., :, None] + sq[..., None, :] - 2.0 * h @ h.transpose(-1, -2)).clamp_min(0)

    def record(e, out, hidden):
        hs = [h.detach().double().reshape(R, n, -1) for h in hidden]      # (trials, points, units) each
        if len({h.shape for h in hs}) == 1:       # layers of one width: one batched product for all of them
            d2_rec[e] = d2(torch.stack(hs, 1))
        else:
            for l, h in enumerate(hs):
                d2_rec[e, :, l] = d2(h)
        out_rec[e] = out.double()
        loss_rec[e] = 0.5 * ((out.double() - Yd) ** 2).mean(dim=(1, 2))

    runs: list = [None] * R
    emitted = torch.zeros(R, dtype=torch.bool, device=dev)

    def emit(which):
        """Copy the records of the trials in ``which`` (ended, not yet copied) to :class:`Run` objects."""
        idx = torch.nonzero(which).flatten().cpu().tolist()
        if not idx:
            return
        seconds = (time.perf_counter() - t0) / R
        n_end, dv = end.cpu().numpy(), div.cpu().numpy()
        for r in idx:
            k = int(n_end[r])
            runs[r] = Run(setting, seeds[r], "torch-batch", arrays[r][0], arrays[r][1],
                          loss_rec[:k, r].cpu().numpy().copy(), out_rec[:k, r].cpu().numpy().copy(),
                          d2_rec[:k, r].cpu().numpy().copy(), bool(dv[r]), seconds)
            emitted[r] = True
            if done is not None:
                done(r, runs[r])

    for e in range(E + 1):
        grads = None
        if stochastic or e == E:              # dropout: record without it; the last record: no step follows
            tmpl.eval()
            with torch.no_grad():
                record(e, *forward_all(params, Xs))
            tmpl.train()
        else:                                 # the gradient's forward pass is the record (before the step)
            grads, (out, hidden) = grad_aux(params, Xs, Ys)
            record(e, out.detach(), hidden)
        # the rule of _stop, for every live trial at once: diverged ends before this record, converged after it
        loss = loss_rec[e]
        diverged = ~torch.isfinite(loss) | (loss > DIVERGENCE_FACTOR * loss_rec[0].clamp_min(1e-30))
        ended = live & (diverged | (loss < stop))
        end = torch.where(ended, torch.where(diverged, e, e + 1), end)
        div = div | (ended & diverged)
        live = live & ~ended
        if e == E or (e + 1) % poll == 0:
            if done is not None:
                emit(~live & ~emitted)
            if e == E or not bool(live.any()):
                break
        if grads is None:
            grads, _ = grad_aux(params, Xs, Ys)
        with torch.no_grad():
            for name in params:
                mask = live.reshape((R,) + (1,) * (params[name].ndim - 1))
                params[name] = torch.where(mask, params[name] - setting.lr * grads[name], params[name])
    emit(~emitted)                        # the trials still training at the last epoch
    return runs
