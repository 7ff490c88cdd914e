"""The fused numba engine of :func:`reptheory.networks.train.train`: the dense nets (the MLP, its skip-connection
and dropout variants) trained full batch with SGD or Adam on the CPU, as one kernel per epoch loop (forward
pass, then one backward pass that reads and writes each weight matrix once, no autograd). The kernel applies
the stop and divergence rule of :mod:`reptheory.networks.stop` to its own loss record."""
from __future__ import annotations

import numpy as np
from numba import njit

from reptheory.configs import Setting
from reptheory.networks.stop import DIVERGENCE_FACTOR

# no "nnan"/"ninf": NaN and inf must stay detectable (divergence). Every kernel compiles with numpy's error model:
# a division has no zero check, so that loops with one (Adam's update) vectorise; no denominator here is zero
_FM = {"reassoc", "contract", "arcp", "nsz"}
_ACT_CODE = {"linear": 0, "relu": 1, "leaky_relu": 2, "elu": 3, "tanh": 4, "silu": 5}


@njit(cache=True, inline="always", fastmath=_FM, error_model="numpy")
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


@njit(cache=True, inline="always", fastmath=_FM, error_model="numpy")
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


@njit(cache=True, fastmath=_FM, error_model="numpy")
def _forward(X, W0, b0, Wh, bh, WL, bL, kind, skip, drop, MA, Z, A, AD, out):
    """Forward pass: ``Z[l]`` the pre-activations, ``A[l]`` the activations (plus ``A[l-2]`` from layer 2 on
    with ``skip``, as the ResNet of :mod:`reptheory.networks.models`), ``out`` the outputs. Without ``drop``
    (every record, and the training step of the nets without dropout) each layer reads the activations
    ``A[l-1]``; with ``drop`` it reads ``AD[l-1] = A[l-1] * MA[l-1]``, kept for the backward pass, and ``X``
    is the masked input."""
    B, n_in = X.shape
    P = W0.shape[0]
    L = Z.shape[0]
    src = AD if drop else A
    for b in range(B):
        for i in range(P):
            s = b0[i]
            for j in range(n_in):
                s += W0[i, j] * X[b, j]
            Z[0, b, i] = s
            A[0, b, i] = _act(s, kind)
            if drop:
                AD[0, b, i] = A[0, b, i] * MA[0, b, i]
    for l in range(1, L):
        W = Wh[l - 1]
        for i in range(P):
            for b in range(B):
                s = np.float32(0.0)
                for j in range(P):
                    s += W[i, j] * src[l - 1, b, j]
                s += bh[l - 1, i]
                Z[l, b, i] = s
                A[l, b, i] = _act(s, kind)
                if drop:
                    AD[l, b, i] = A[l, b, i] * MA[l, b, i]
        if skip and l >= 2:                       # ResNet: the activation two layers back is added
            for b in range(B):
                for i in range(P):
                    A[l, b, i] += A[l - 2, b, i]
    for b in range(B):
        for k in range(WL.shape[0]):
            s = bL[k]
            for j in range(P):
                s += WL[k, j] * src[L - 1, b, j]
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


@njit(cache=True, inline="always", fastmath=_FM, error_model="numpy")
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


@njit(cache=True, inline="always", fastmath=_FM, error_model="numpy")
def _adam(p, m, v, j, g, c1, c2):
    """One Adam update of ``p[j]`` with gradient ``g`` (PyTorch's formula, in float32)."""
    m[j] = np.float32(0.9) * m[j] + np.float32(0.1) * g
    v[j] = np.float32(0.999) * v[j] + np.float32(0.001) * g * g
    p[j] -= c1 * m[j] / (np.sqrt(v[j]) * c2 + np.float32(1e-8))


@njit(cache=True, inline="always", fastmath=_FM, error_model="numpy")
def _step(p, m, v, j, g, opt, lr32, c1, c2):
    """One update of ``p[j]`` with gradient ``g``: SGD (``opt`` 0, step ``lr32``) or Adam (``opt`` 1)."""
    if opt == 0:
        p[j] -= lr32 * g
    else:
        _adam(p, m, v, j, g, c1, c2)


@njit(cache=True, fastmath=_FM, error_model="numpy")
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
        _forward(X, W0, b0, Wh, bh, WL, bL, kind, skip, False, MA, Z, A, AD, out)
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
            _forward(XD, W0, b0, Wh, bh, WL, bL, kind, skip, True, MA, Z, A, AD, out)
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
            _step(bL, mbL, vbL, k, gb, opt, lr32, c1, c2)
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
                _step(bh[l - 1], mbh[l - 1], vbh[l - 1], i, db, opt, lr32, c1, c2)
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
            _step(b0, mb0, vb0, i, db, opt, lr32, c1, c2)
            for j in range(n_in):
                upd = np.float32(0.0)
                for b in range(B):
                    upd += d[b, i] * XD[b, j]
                _step(W0[i], mW0[i], vW0[i], j, upd, opt, lr32, c1, c2)
    return 0, epochs


def train_numba(model, s: Setting, X, Y, seed: int = 0):
    """Train ``model`` (built for ``s``, a dense architecture: ``s.architecture.dense``) on ``(X, Y)`` with the
    kernel: the records ``(loss, outputs, dist2, diverged)`` as :func:`reptheory.networks.train.train` documents them."""
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
    skip, p_drop = s.architecture.skip, s.architecture.dropout
    status, e = _dense_epochs(X, Y, W0, b0, Wh, bh, WL, bL, _ACT_CODE[s.nonlinearity], skip, p_drop, seed,
                              0 if s.optimizer == "sgd" else 1, s.lr, s.epochs, DIVERGENCE_FACTOR, stop_loss,
                              loss_rec, out_rec, d2_rec)
    n = e if status == 1 else e + 1
    return loss_rec[:n], out_rec[:n], d2_rec[:n], status == 1
