"""Eq. 7's closed forms: the loss (Eq. 9), the conserved quantity (Eq. 24), the final distance (Eq. 10-11) with
its rich and lazy limits (Eq. 12-13), and the solution for identical targets (Eq. 39-40). Notation and units as
in :mod:`reptheory.theory.ode` (which re-exports every name here): ``h2``, ``y2``, ``w`` the state, ``dx2``,
``dy2`` the data, rates ``eta_h``, ``eta_y``, ``eta_ybar`` in 1/epoch, time ``t`` in epochs.

>>> round(h_inf(1.0, 0.5, 1.0, 1.0, 1.0, 0.5), 6)
1.0
"""
from __future__ import annotations

import numpy as np

from reptheory import validate as _v

#: :func:`h_inf` computes in floats when every non-zero input lies in ``[10^-SAFE_EXPONENT, 10^SAFE_EXPONENT]``,
#: and exactly (mpmath, 113 bits) otherwise
SAFE_EXPONENT = 60

__all__ = ["SAFE_EXPONENT", "loss", "a_coefficient", "conserved", "a_high", "a_low", "h_inf", "rich_limit",
           "lazy_limit", "identical_output"]


def loss(t, y2, w, dy2, eta_ybar, m0):
    r"""Eq. 9: the training loss :math:`\tfrac12 e^{-2\eta_{\bar y}t} m_0 + \tfrac14 w + \tfrac18 (\|\Delta y\|^2 -
    \|\Delta\hat y\|^2)` (in code ``½ e^(−2 eta_ybar t) m0 + ¼ w + ⅛ (dy2 − y2)``).

    ``m0 = ||ŷ̄(0) − ȳ||²`` is the squared error of the mean prediction at ``t = 0``; ``y2``, ``w`` are the
    trajectory (shape of ``t``). Units: the same as the ½-MSE training criterion.

    >>> import numpy as np
    >>> loss(np.array([0.0, 10.0]), np.array([0.1, 0.4]), np.array([-0.1, 0.0]), 0.5, 0.1, 0.2).round(4)
    array([0.125, 0.026])
    """
    t = _v.time_grid("t", t)
    y2, w = _v.finite("y2", y2), _v.finite("w", w)
    if y2.shape[-1:] != t.shape or w.shape != y2.shape:
        raise ValueError(f"y2 and w must have the shape of t ({t.shape}) in the last axis, "
                         f"got {y2.shape} and {w.shape}")
    dy2 = _v.nonnegative("dy2", dy2)
    eta_ybar = _v.positive("eta_ybar", eta_ybar)
    m0 = _v.nonnegative("m0", m0)
    return 0.5 * np.exp(-2.0 * eta_ybar * t) * m0 + 0.25 * w + 0.125 * (dy2 - y2)


def a_coefficient(eta_h, eta_y, dx2):
    """``a = τ_h/(τ_y ||Δx||²) = eta_y/(eta_h dx2)`` (Eq. 24)."""
    eta_h, eta_y, dx2 = _v.positive("eta_h", eta_h), _v.positive("eta_y", eta_y), _v.positive("dx2", dx2)
    return eta_y / (eta_h * dx2)


def conserved(h2, y2, eta_h, eta_y, dx2):
    """Eq. 24: the conserved quantity ``C = y2/h2 − a h2`` (constant along every solution of Eq. 7).

    >>> float(conserved(1.0, 0.5, 1.0, 1.0, 1.0))       # a = 1: C = 0.5 − 1
    -0.5
    """
    h2, y2 = _v.positive("h2", h2), _v.nonnegative("y2", y2)
    return y2 / h2 - a_coefficient(eta_h, eta_y, dx2) * h2


def a_high(h2_0, y2_0, eta_h, eta_y, dx2):
    """Eq. 11: ``A_high = h2_0 − (eta_h/eta_y) dx2 y2_0/h2_0`` (the lazy, initial-condition term).

    >>> float(a_high(1.0, 0.5, 1.0, 1.0, 1.0))
    0.5
    """
    h2_0, y2_0 = _v.positive("h2_0", h2_0), _v.nonnegative("y2_0", y2_0)
    return h2_0 - y2_0 / (a_coefficient(eta_h, eta_y, dx2) * h2_0)


def a_low(eta_h, eta_y, dx2, dy2):
    """Eq. 11: ``A_low = sqrt(eta_h/eta_y) ||Δx|| ||Δy||`` (the rich, data-only term).

    >>> round(float(a_low(1.0, 4.0, 1.0, 0.5)), 6)       # sqrt(1/4) · 1 · sqrt(0.5)
    0.353553
    """
    dy2 = _v.nonnegative("dy2", dy2)
    return np.sqrt(dy2 / a_coefficient(eta_h, eta_y, dx2))


def h_inf(h2_0, y2_0, eta_h, eta_y, dx2, dy2):
    """Eq. 10: the stable fixed point ``||Δh(∞)||² = ½A_high + sqrt(¼A_high² + A_low²)``.

    Correct over the whole float range: the root is ``hypot(½A_high, A_low)``, and when ``A_high < 0`` the sum
    is written as ``A_low · A_low / (root − ½A_high)``, which stays accurate when the two terms nearly cancel
    (the lazy regime with ``A_high ≪ 0``); an entry with an input beyond ``10^±``:data:`SAFE_EXPONENT`, where
    an intermediate term could leave the normal floats, is computed in 113-bit arithmetic with an unbounded
    exponent. Returns a float for scalar input, else an array of the broadcast shape.

    >>> h_inf(1e200, 0.0, 1.0, 1.0, 1.0, 0.5)
    1e+200
    >>> round(h_inf(1.0, 0.5, 1.0, 1.0, 1.0, 0.5), 6)      # A_high = 0.5, A_low = sqrt(0.5)
    1.0
    """
    with np.errstate(over="ignore", divide="ignore", invalid="ignore", under="ignore"):
        ah = np.asarray(a_high(h2_0, y2_0, eta_h, eta_y, dx2), dtype=float)
        al = np.asarray(a_low(eta_h, eta_y, dx2, dy2), dtype=float)
        half = 0.5 * ah
        root = np.hypot(half, al)
        alt = al * (al / (root - half))
        out = np.where(ah >= 0, half + root, alt)
    # Eq. 10's terms multiply and divide up to five inputs: with every non-zero input in [1e-60, 1e60] they stay
    # normal floats; an entry with an input outside (or a result that is not finite) is computed exactly
    args = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (h2_0, y2_0, eta_h, eta_y, dx2, dy2)))
    with np.errstate(divide="ignore"):
        mag = [np.where(a == 0, 0.0, np.abs(np.log10(np.abs(a) + (a == 0)))) for a in args]
    extreme = np.logical_or.reduce([m > SAFE_EXPONENT for m in mag]) | ~np.isfinite(out)
    if np.any(extreme):
        out = np.array(np.broadcast_to(out, args[0].shape), dtype=float)
        for k in zip(*np.nonzero(extreme)) if out.ndim else [()]:
            out[k] = _h_inf_exact(*(float(a[k]) for a in args))
    return float(out) if out.ndim == 0 else out


def _h_inf_exact(h2_0, y2_0, eta_h, eta_y, dx2, dy2) -> float:
    """Eq. 10 for one entry: ``A_high`` and ``A_low²`` exactly (rational arithmetic on the floats given, so
    that ``h2_0 − y2_0 eta_h dx2/(eta_y h2_0)`` cancels without loss), the root in 113-bit floating point with
    an unbounded exponent (mpmath), rounded to the nearest float (``inf`` only when the final distance itself
    exceeds the float range)."""
    from fractions import Fraction

    import mpmath
    h0, y0, eh, ey, x2, d2 = (Fraction(v) for v in (h2_0, y2_0, eta_h, eta_y, dx2, dy2))
    ah, al2 = h0 - y0 * eh * x2 / (ey * h0), d2 * eh * x2 / ey
    with mpmath.workprec(113):
        ah, al2 = (mpmath.mpf(f.numerator) / mpmath.mpf(f.denominator) for f in (ah, al2))
        root = mpmath.sqrt(ah * ah / 4 + al2)
        return float(ah / 2 + root if ah >= 0 else al2 / (root - ah / 2))


def rich_limit(eta_h, eta_y, dx2, dy2):
    """Eq. 13: ``|A_high| ≪ A_low`` ⇒ ``h_inf → A_low``: the final distance depends only on the data.

    >>> h2_0, rates = 1e-6, (1e-3, 1e-2, 1.0, 0.5)          # a small initial distance: the rich regime
    >>> round(h_inf(h2_0, 0.0, *rates) / float(rich_limit(*rates)), 4)
    1.0
    """
    return a_low(eta_h, eta_y, dx2, dy2)


def lazy_limit(h2_0, y2_0, eta_h, eta_y, dx2):
    """Eq. 12: ``|A_high| ≫ A_low`` ⇒ ``h_inf → A_high`` when ``A_high > 0`` (else ``h_inf → 0``).

    >>> rates = (1e-3, 1e-2, 1.0)                           # a large initial distance: the lazy regime
    >>> round(h_inf(100.0, 0.0, *rates, 0.5) / float(lazy_limit(100.0, 0.0, *rates)), 4)
    1.0
    """
    return np.maximum(a_high(h2_0, y2_0, eta_h, eta_y, dx2), 0.0)


def identical_output(t, h2_0, y2_0, eta_h, eta_y, dx2):
    """Eq. 39-40: the closed-form solution for identical targets (``Δy = 0``, so ``w = y2``).

    ``h2(t) = C h2_0 e^{-k t} / (C + a h2_0 (1 − e^{-k t}))`` with ``k = eta_h dx2 C`` and ``C``, ``a`` of
    Eq. 24; ``y2(t) = w(t) = a h2² + C h2``. Returns a :class:`Trajectory`. Evaluated through
    ``(1 − e^{-kt})/k`` (``expm1``) so that ``C → 0`` gives ``h2_0/(1 + eta_y h2_0 t)`` without cancellation.

    >>> import numpy as np
    >>> tr = identical_output(np.array([0.0, 1e2, 1e4]), 1e-2, 1e-4, 1e-3, 1e-2, 1.0)
    >>> bool(np.all(np.diff(tr.h2) < 0)), bool(np.array_equal(tr.y2, tr.w))   # the points approach each other
    (True, True)
    """
    from reptheory.theory.trajectory import Trajectory
    t = _v.time_grid("t", t)
    h2_0, y2_0 = float(_v.positive("h2_0", h2_0)), float(_v.nonnegative("y2_0", y2_0))
    a = float(a_coefficient(eta_h, eta_y, dx2))
    c = y2_0 / h2_0 - a * h2_0
    k = float(eta_h) * float(dx2) * c
    # phi = (1 - e^{-kt})/k, -> t as k -> 0
    phi = np.where(abs(k) > 1e-300, -np.expm1(-k * t) / (k if k != 0 else 1.0), t)
    h = h2_0 * np.exp(-k * t) / (1.0 + float(eta_y) * h2_0 * phi)
    y = a * h**2 + c * h
    return Trajectory(t, h, y, y.copy())
