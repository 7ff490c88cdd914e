"""The two-point theory carried over to RNN hidden states (arXiv:2507.09897, Sec. 4 and App. B), in sympy.

Two prefixes with hidden states ``h_1``, ``h_2`` (free vectors: the symbols are discrete, so there is no
encoder to linearise) are followed by ``N`` continuations that appear in the training data after both. Each
continuation ``i`` has an output map linearised around the mean state, ``y_i(h) = ȳ_i + D_i (h − h̄)``.
Gradient flow on the ½-MSE over the two prefixes, ``dθ/dt = −k ∂L/∂θ`` with rate ``k_h1``, ``k_h2`` for the
two states and ``k_y`` for ``ȳ_i``, ``D_i``, is derived here in sympy (states and output maps on one line,
the no-rotation manifold of :mod:`reptheory.theory.symbolic`).

:func:`two_point_reduction` shows that, once the mean outputs are fitted (``ȳ_i`` at the mean target, an
invariant set of the flow), the averages over the continuations obey **exactly Eq. 7 of the 2024 paper**,
with ``||Δx||² → N``, ``eta_h = (k_h1 + k_h2)/2`` and ``eta_y = k_y/2`` (the code normalisation). The
invariant (Eq. 24), the fixed point (Eq. 10-11) and the solver of :mod:`reptheory.theory` therefore apply
with ``dx2 = N``. In particular two prefixes that agree on every continuation (``A_low = 0``) merge
(``h2 → 0``) exactly when ``A_high < 0``, the sequel's merger condition.

The sequel's second model, the output map expanded around a **fixed** point with states that learn at
different rates, is in :mod:`reptheory.sequel.rnn_expansion`.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from reptheory import validate as _v
from reptheory.theory import symbolic as _S
from reptheory.theory import ode as _th

__all__ = ["two_point_reduction", "h_inf", "a_high", "merges"]


@lru_cache(maxsize=None)
def two_point_reduction(n_cont: int = 2) -> _S.Step:
    """Derive ``d/dt`` of ``||Δh||²``, ``⟨||Δŷ||²⟩``, ``⟨w⟩`` (averages over ``n_cont`` continuations) from the
    flow, on the fitted-mean set, and compare with Eq. 7 at ``dx2 = n_cont``. ``extra`` holds the rate map and
    the check that the fitted-mean set is invariant (``dȳ_i/dt = 0`` there)."""
    n_cont = _v.integer("n_cont", n_cont, 1, 6)
    N = n_cont
    h1, h2, c = sp.symbols("h_1 h_2 c", real=True)
    kh1, kh2, ky = sp.symbols("k_h1 k_h2 k_y", positive=True)
    yb = sp.symbols(f"ybar0:{N}", real=True)
    D = sp.symbols(f"D0:{N}", real=True)
    ys1 = sp.symbols(f"ystar1_0:{N}", real=True)
    ys2 = sp.symbols(f"ystar2_0:{N}", real=True)
    # ½-MSE averaged over the two prefixes, summed over continuations; c is the expansion point h̄
    L = sum(sp.Rational(1, 4) * ((yb[i] + D[i] * (h1 - c) - ys1[i]) ** 2 + (yb[i] + D[i] * (h2 - c) - ys2[i]) ** 2)
            for i in range(N))
    flow = {h1: -kh1 * sp.diff(L, h1), h2: -kh2 * sp.diff(L, h2)}
    for i in range(N):
        flow[yb[i]] = -ky * sp.diff(L, yb[i])
        flow[D[i]] = -ky * sp.diff(L, D[i])
    fitted = {c: (h1 + h2) / 2, **{yb[i]: (ys1[i] + ys2[i]) / 2 for i in range(N)}}
    invariant = [sp.simplify(flow[yb[i]].subs(fitted)) for i in range(N)]

    def ddt(e):
        return sp.expand(sum((sp.diff(e, v) * f).subs(fitted) for v, f in flow.items()))

    dh = h1 - h2
    dys = [ys1[i] - ys2[i] for i in range(N)]
    H = dh**2
    Y = sum((D[i] * dh) ** 2 for i in range(N)) / N
    W = sum((D[i] * dh) * (D[i] * dh - dys[i]) for i in range(N)) / N
    S = sum(d**2 for d in dys) / N
    rates = {_S.eta_h: (kh1 + kh2) / 2, _S.eta_y: ky / 2}
    sub = {_S.h2: H, _S.y2: Y, _S.w: W, _S.dy2: S, _S.dx2: N, **rates}
    stated = sp.Matrix([e.subs(sub) for e in _S.stated_eq7()])
    derived = sp.Matrix([ddt(H), ddt(Y), ddt(W)])
    return _S.Step(f"RNN two-point system (N = {N}) = Eq. 7 with dx2 = N", derived, stated,
                   {"rates": rates, "mean_invariant": invariant})


def a_high(h2_0, y2_0, eta_h, eta_y, n_cont):
    """``A_high = ||Δh_0||² − N (eta_h/eta_y) ⟨||Δŷ_0||²⟩/||Δh_0||²`` (Eq. 11 with ``dx2 = N``)."""
    return _th.a_high(h2_0, y2_0, eta_h, eta_y, _v.positive("n_cont", n_cont))


def h_inf(h2_0, y2_0, eta_h, eta_y, n_cont, dy2_mean):
    """The final squared distance of the two states (Eq. 10 with ``dx2 = N``); ``dy2_mean`` is
    ``⟨||y*_2 − y*_1||²⟩`` over the continuations (0 when the prefixes agree on all of them)."""
    return _th.h_inf(h2_0, y2_0, eta_h, eta_y, _v.positive("n_cont", n_cont), dy2_mean)


def merges(h2_0, y2_0, eta_h, eta_y, n_cont, dy2_mean) -> np.ndarray:
    """The merger condition: the prefixes agree on every continuation (``A_low = 0``) and ``A_high < 0``."""
    dy = np.asarray(dy2_mean, dtype=float)
    return (dy == 0) & (np.asarray(a_high(h2_0, y2_0, eta_h, eta_y, n_cont)) < 0)
