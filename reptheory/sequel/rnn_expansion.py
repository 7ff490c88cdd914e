"""The sequel's fixed-expansion model (arXiv:2507.09897, App. B.4, its Eq. 42 and Fig. 10 left), derived in sympy.

Two prefixes of lengths ``len_1``, ``len_2`` have hidden states ``h_1``, ``h_2`` (scalars: their component along
the difference of the two states). ``N`` continuations are shared by both; a shared affine read-out is expanded
around a **fixed** point (not re-centred on the pair's mean, unlike Eq. 7), ``ŷ_i = b + h_i D`` with vectors
``b``, ``D`` and target vectors ``y_1``, ``y_2``. The loss and the gradient flow are::

    L = ¼ Σ_i |b + h_i D − y_i|²,
    dh_i/dt = −eta_hi ∂L/∂h_i,   db/dt = −(eta_b/N) ∇_b L,   dD/dt = −(eta_a/N) ∇_D L,

with the rates of the sequel's notebook: ``eta_hi = lr · len_i`` (the recurrent map acts once per symbol, so
the state of a longer prefix moves faster), ``eta_a = lr``, ``eta_b = lr/4``. The read-out enters only through
inner products, so the flow closes in nine variables::

    h1, h2, bD = b·D, by1 = b·y_1, by2 = b·y_2, b2 = |b|², D2 = |D|², Dy1 = D·y_1, Dy2 = D·y_2,

with the target products ``y11 = y_1·y_1``, ``y12 = y_1·y_2``, ``y22 = y_2·y_2`` as constants.
:func:`derivation` differentiates the loss in components (vectors of dimension ``dim``), pushes the flow
through every inner product by the chain rule, and compares the result with the nine equations as the authors
state them (``reptheory.theory.symbolic.Step``: ``holds`` when the difference expands to zero); it does the same for
the loss written in the inner products. :func:`fixed_expansion` integrates the nine equations.

Example (the authors' case: lengths 1 and 10, agreeing targets, ``N = 1``)::

    >>> import numpy as np
    >>> from reptheory.sequel.rnn_expansion import derivation, fixed_expansion
    >>> derivation().holds
    True
    >>> r = fixed_expansion((1, 10), (1.0, 1.0), scale=0.05, t=np.geomspace(1e-2, 1e6, 400))
    >>> bool(r.distance.max() > 10 * r.distance[0]) and bool(r.distance[-1] < 1e-6 * r.distance.max())
    True
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from reptheory import validate as _v

__all__ = ["LR_T_MAX", "MAGNITUDE_MAX", "LR_MAX", "VARIABLES", "derivation", "FixedExpansion", "fixed_expansion",
           "initial_values"]

#: the longest integration :func:`fixed_expansion` takes, as ``lr · t[-1] · max(1, |y|, scale)²`` (the
#: read-out's time, scaled by the targets' and the initial state's size; the cost grows with it: about a second
#: at this value)
LR_T_MAX = 1e8
#: the largest initial scale and target entry: the flow's speed grows with their squares (at 1e6 a run of
#: lr · t = 10 did not end in 20 s), and :data:`LR_T_MAX` counts them too
MAGNITUDE_MAX = 1e3
#: the largest learning rate (the flow's rates are lr times the lengths: 1e3 × 1e6 at most)
LR_MAX = 1e3

#: the nine state variables, in the order of the derived system
VARIABLES = ("h1", "h2", "bD", "by1", "by2", "b2", "D2", "Dy1", "Dy2")


def _stated(sp, v, eh1, eh2, ea, eb, N, y11, y12, y22):
    """The nine equations and the loss as the authors write them, in the inner-product symbols ``v``."""
    h1, h2, bD, by1, by2, b2, D2, Dy1, Dy2 = v
    hbar, hsq = (h1 + h2) / 2, (h1**2 + h2**2) / 2
    Dy, by = (Dy1 + Dy2) / 2, (by1 + by2) / 2
    hb, hDy = (h1 * by1 + h2 * by2) / 2, (h1 * Dy1 + h2 * Dy2) / 2
    m1, m2 = (h1 * y11 + h2 * y12) / 2, (h1 * y12 + h2 * y22) / 2
    rhs = [-(eh1 / 2) * (bD + h1 * D2 - Dy1),
           -(eh2 / 2) * (bD + h2 * D2 - Dy2),
           -(eb / N) * (bD + hbar * D2 - Dy) - (ea / N) * (hsq * bD + hbar * b2 - hb),
           -(eb / N) * (by1 + hbar * Dy1 - (y11 + y12) / 2),
           -(eb / N) * (by2 + hbar * Dy2 - (y22 + y12) / 2),
           -(2 * eb / N) * (b2 + hbar * bD - by),
           -(2 * ea / N) * (hsq * D2 + hbar * bD - hDy),
           -(ea / N) * (hsq * Dy1 + hbar * by1 - m1),
           -(ea / N) * (hsq * Dy2 + hbar * by2 - m2)]
    loss = sp.Rational(1, 2) * (b2 + D2 * hsq + (y11 + y22) / 2 + 2 * bD * hbar - 2 * hDy - 2 * by)
    return rhs, loss


def _symbols(sp):
    v = sp.symbols(" ".join(VARIABLES), real=True)
    rates = sp.symbols("eta_h1 eta_h2 eta_a eta_b", positive=True)
    N = sp.Symbol("N", positive=True)
    ys = sp.symbols("y11 y12 y22", real=True)
    return v, rates, N, ys


@lru_cache(maxsize=None)
def derivation(dim: int = 3):
    """Derive the fixed-expansion flow in components and compare it with the nine stated equations.

    The vectors ``b``, ``D``, ``y_1``, ``y_2`` get ``dim`` symbolic components each; the loss
    ``¼ Σ_i |b + h_i D − y_i|²`` is differentiated, and ``d/dt`` of each variable of :data:`VARIABLES` is its
    gradient dotted with the flow. Returns a :class:`reptheory.theory.symbolic.Step` whose ``derived`` and ``stated``
    are 9-vectors in the components; ``extra["loss"]`` is the same comparison for the loss, ``extra["rhs"]`` the
    stated system in the inner-product symbols (``extra["symbols"]``), used by :func:`fixed_expansion`.

    >>> derivation(2).holds and derivation(2).extra["loss"].holds
    True
    """
    import sympy as sp

    from reptheory.theory.symbolic import Step
    dim = _v.integer("dim", dim, 1, 6)
    v, (eh1, eh2, ea, eb), N, (y11, y12, y22) = _symbols(sp)
    h1, h2 = v[0], v[1]
    b, D, y1, y2 = (sp.Matrix(sp.symbols(f"{n}_0:{dim}", real=True)) for n in ("b", "D", "yv1", "yv2"))
    dot = lambda p, q: (p.T * q)[0, 0]                                                # noqa: E731
    r1, r2 = b + h1 * D - y1, b + h2 * D - y2
    L = sp.Rational(1, 4) * (dot(r1, r1) + dot(r2, r2))
    grad = lambda f, vec: sp.Matrix([sp.diff(f, c) for c in vec])                     # noqa: E731
    flow_h = {h1: -eh1 * sp.diff(L, h1), h2: -eh2 * sp.diff(L, h2)}
    flow_b, flow_D = -(eb / N) * grad(L, b), -(ea / N) * grad(L, D)
    inner = {v[2]: dot(b, D), v[3]: dot(b, y1), v[4]: dot(b, y2), v[5]: dot(b, b), v[6]: dot(D, D),
             v[7]: dot(D, y1), v[8]: dot(D, y2)}

    def ddt(f):
        out = sum(sp.diff(f, s) * r for s, r in flow_h.items())
        return sp.expand(out + dot(grad(f, b), flow_b) + dot(grad(f, D), flow_D))

    derived = sp.Matrix([ddt(h1), ddt(h2)] + [ddt(inner[s]) for s in v[2:]])
    rhs, loss = _stated(sp, v, eh1, eh2, ea, eb, N, y11, y12, y22)
    comp = {**inner, y11: dot(y1, y1), y12: dot(y1, y2), y22: dot(y2, y2)}
    stated = sp.Matrix([sp.expand(e.subs(comp)) for e in rhs])
    loss_step = Step("fixed-expansion loss in the inner products", sp.expand(L), sp.expand(loss.subs(comp)))
    return Step(f"fixed-expansion flow (dim {dim}) = the nine stated equations", derived, stated,
                {"loss": loss_step, "rhs": sp.Matrix(rhs), "loss_expr": loss,
                 "symbols": (v, (eh1, eh2, ea, eb), N, (y11, y12, y22))})


@lru_cache(maxsize=None)
def _compiled():
    import sympy as sp
    step = derivation()
    if not (step.holds and step.extra["loss"].holds):                 # never integrate an unchecked system
        raise RuntimeError("the fixed-expansion system did not match its derivation")
    v, rates, N, ys = step.extra["symbols"]
    args = (v, (*rates, N, *ys))
    return (sp.lambdify(args, list(step.extra["rhs"]), "numpy"),
            sp.lambdify(args, step.extra["loss_expr"], "numpy"))


def initial_values(scale: float, seed: int = 0) -> np.ndarray:
    """The authors' initial state (in :data:`VARIABLES` order): ``h1, h2 ~ N(0, scale²)``, ``D2 = d²`` and
    ``b2 = β²`` with ``d, β ~ N(0, scale²)``, every cross term (``bD``, ``by_i``, ``Dy_i``) zero (``b``, ``D`` and
    the targets start orthogonal). Drawn from ``numpy.random.default_rng(seed)`` in the order h1, h2, d, β.

    >>> initial_values(0.1, seed=0).round(4).tolist()
    [0.0126, -0.0132, 0.0, 0.0, 0.0, 0.0001, 0.0041, 0.0, 0.0]
    """
    scale = float(_v.positive("scale", scale))
    if scale > MAGNITUDE_MAX:
        raise ValueError(f"scale must lie in (0, {MAGNITUDE_MAX:g}], got {scale!r}")
    seed = _v.integer("seed", seed, 0)
    h1, h2, d, beta = np.random.default_rng(int(seed)).normal(0.0, scale, 4)
    return np.array([h1, h2, 0.0, 0.0, 0.0, beta**2, d**2, 0.0, 0.0])


@dataclass(frozen=True)
class FixedExpansion:
    """An integrated fixed-expansion run: the times ``t`` and the nine variables by name (arrays over ``t``),
    with the settings it was run from. ``distance`` is ``(h2 − h1)²``; ``loss`` the stated loss.

    >>> import numpy as np
    >>> fe = fixed_expansion((3, 5), (1.0, 0.0), scale=0.0078, t=np.geomspace(1, 1e6, 200))
    >>> bool(fe.expansion() > 1e5), fe.merge_time()   # different targets: the pair expands, never merges
    (True, inf)
    """

    t: np.ndarray
    h1: np.ndarray
    h2: np.ndarray
    bD: np.ndarray
    by1: np.ndarray
    by2: np.ndarray
    b2: np.ndarray
    D2: np.ndarray
    Dy1: np.ndarray
    Dy2: np.ndarray
    loss: np.ndarray
    lengths: tuple
    targets: tuple
    n: int
    lr: float
    scale: float
    seed: int

    @property
    def distance(self) -> np.ndarray:
        """``(h2 − h1)²`` at each time."""
        return (self.h2 - self.h1) ** 2

    def expansion(self) -> float:
        """The largest distance over the starting one, ``max_t d(t) / d(0)``."""
        d = self.distance
        return float(d.max() / d[0])

    def peak_time(self) -> float:
        """The time of the largest distance."""
        return float(self.t[int(np.argmax(self.distance))])

    def merge_time(self, fraction: float = 1e-3) -> float:
        """The first time after the peak at which the distance is below ``fraction`` × its peak (``inf`` if
        never within ``t``)."""
        d = self.distance
        k = int(np.argmax(d))
        below = np.flatnonzero(d[k:] < fraction * d[k])
        return float(self.t[k + below[0]]) if len(below) else float("inf")


def _pair(name: str, value, kind) -> tuple:
    try:
        a, b = value
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair, got {value!r}") from None
    return kind(f"{name}[0]", a), kind(f"{name}[1]", b)


def _length(name: str, v) -> int:
    return _v.integer(name, v, 1, 10**6)


def _target(name: str, v) -> np.ndarray:
    if isinstance(v, (str, bool, np.bool_)):
        raise TypeError(f"{name} must be a real number or a 1-D array of real numbers, got {v!r}")
    arr = np.atleast_1d(_v.finite(name, v))
    if arr.ndim != 1 or arr.size < 1:
        raise ValueError(f"{name} must be a number or a non-empty 1-D array, got shape {arr.shape}")
    if np.any(np.abs(arr) > MAGNITUDE_MAX):
        raise ValueError(f"{name} must have entries in [-{MAGNITUDE_MAX:g}, {MAGNITUDE_MAX:g}], got {v!r}")
    return arr


def fixed_expansion(lengths, targets, *, n: int = 1, lr: float = 0.02, scale: float, t, seed: int = 0,
                    rtol: float = 1e-10) -> FixedExpansion:
    """Integrate the fixed-expansion model (the nine equations of :func:`derivation`) for two prefixes.

    ``lengths = (len_1, len_2)``: the prefixes' lengths, giving ``eta_hi = lr · len_i``; ``targets = (y_1, y_2)``:
    their targets, numbers or equal-length vectors (``y_1 = y_2``: the prefixes agree); ``n``: the number ``N`` of
    shared continuations; ``lr``: the learning rate (``eta_a = lr``, ``eta_b = lr/4``); ``scale``: the standard
    deviation of the initial values (the authors use the untrained network's hidden-state std,
    :func:`reptheory.sequel.parity.initial_scale`); ``t``: increasing times (epochs) at which to report, with
    ``lr · t[-1] · max(1, |y|, scale)² <=`` :data:`LR_T_MAX`; ``seed`` draws the initial values
    (:func:`initial_values`). Solved with LSODA at relative tolerance ``rtol`` (below 0.01), ``lr`` up to
    :data:`LR_MAX`, targets and ``scale`` up to :data:`MAGNITUDE_MAX`.

    >>> import numpy as np
    >>> r = fixed_expansion((5, 5), (1.0, 1.0), scale=0.05, t=np.linspace(0, 1e4, 50))
    >>> bool(np.all(np.diff(r.distance) <= 1e-15 * r.distance[0]))      # equal lengths never expand
    True
    """
    from scipy.integrate import solve_ivp

    from reptheory.theory.trajectory import SolveError
    len1, len2 = _pair("lengths", lengths, _length)
    y1, y2 = _pair("targets", targets, _target)
    if y1.shape != y2.shape:
        raise ValueError(f"targets must have the same shape, got {y1.shape} and {y2.shape}")
    n = _v.integer("n", n, 1, 10**6)
    lr = float(_v.positive("lr", lr))
    if lr > LR_MAX:
        raise ValueError(f"lr must lie in (0, {LR_MAX:g}], got {lr!r}")
    scale = float(_v.positive("scale", scale))
    z0 = initial_values(scale, seed)            # checks scale (up to MAGNITUDE_MAX) and seed
    t = _v.time_grid("t", t)
    rtol = float(_v.positive("rtol", rtol))
    if rtol >= 1e-2:
        raise ValueError(f"rtol must lie in (0, 0.01), got {rtol!r}")
    big = max(1.0, float(np.max(np.abs(y1))), float(np.max(np.abs(y2))), scale) ** 2
    if lr * float(t[-1]) * big > LR_T_MAX:
        raise ValueError(f"t must end by lr · t · max(1, |y|, scale)² = {LR_T_MAX:g} (t[-1] <= "
                         f"{LR_T_MAX / (lr * big):g} epochs at lr = {lr:g} with these targets and scale): the "
                         f"integration's cost grows with it (about a second at {LR_T_MAX:g}), got t[-1] = "
                         f"{float(t[-1]):g}")
    params = (lr * len1, lr * len2, lr, lr / 4, float(n), float(y1 @ y1), float(y1 @ y2), float(y2 @ y2))
    f, loss = _compiled()
    t0 = min(0.0, float(t[0]))
    span = float(t[-1]) - t0
    if lr * max(len1, len2) * span < 1e-290:    # no motion to float precision (the flow's terms are bounded by
        z = np.repeat(z0[:, None], t.size, axis=1)      # LR_MAX, the lengths and MAGNITUDE_MAX): the initial state
        return FixedExpansion(t, *z, np.asarray(loss(z, params), dtype=float) * np.ones_like(t), (len1, len2),
                              (y1, y2), int(n), lr, scale, int(seed))
    # LSODA's own first step underflows on a span near the float minimum (1e-300): give it the span there
    first = {"first_step": span} if lr * max(len1, len2) * span < 1e-6 else {}
    sol = solve_ivp(lambda _, z: f(z, params), (t0, float(t[-1])), z0, t_eval=t, method="LSODA", rtol=rtol,
                    atol=1e-14 * max(1.0, scale**2), **first)
    if not sol.success or not np.all(np.isfinite(sol.y)):
        raise SolveError(f"fixed-expansion model, lengths {lengths}: {sol.message}")
    z = sol.y
    return FixedExpansion(t, *z, np.asarray(loss(z, params), dtype=float) * np.ones_like(t), (len1, len2),
                          (y1, y2), int(n), lr, scale, int(seed))
