"""Rich, lazy and random regimes of the effective theory (paper Sec. 4.1, App. A.3-A.6).

Analyses built on :mod:`reptheory.theory`: the reduced 2-D vector field (Eq. 25), the plateau measure of a
loss curve, the sweep over the initial scale (Eq. 41-43), and the distribution of the final distance for
random initial states (Eq. 44-48).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reptheory import validate as _v
from reptheory.theory import linear as _lin
from reptheory.theory import ode as _th

__all__ = ["reduced_field", "h_plus", "plateau_ratio", "ScaleSweep", "scale_sweep", "RandomRegime", "random_regime",
           "final_distance_density"]


def reduced_field(h2, w, C, eta_h, eta_y, dx2, dy2):
    """Eq. 25: ``(ḣ2, ẇ)`` of the 2-D system on the level set ``y2 = a h2² + C h2`` (arrays broadcast)."""
    h2 = _v.positive("h2", h2)
    w, C = _v.finite("w", w), _v.finite("C", C)
    a = _th.a_coefficient(eta_h, eta_y, dx2)
    y2 = a * h2**2 + C * h2
    f = _th._rhs(np.array(np.broadcast_arrays(h2, y2, w)), float(eta_h), float(eta_y), float(dx2), float(dy2))
    return f[0], f[2]


def h_plus(C, eta_h, eta_y, dx2, dy2):
    """Eq. 28/36: ``h_+ = (−C + sqrt(C² + 4a dy2)) / (2a)``, the stable fixed point at a given ``C``."""
    C = _v.finite("C", C)
    a = _th.a_coefficient(eta_h, eta_y, dx2)
    dy2 = _v.nonnegative("dy2", dy2)
    return (-C + np.sqrt(C**2 + 4 * a * dy2)) / (2 * a)


def plateau_ratio(t, loss) -> float:
    """``t₁₀/t₉₀``: time to 10 % of the total loss drop over time to 90 % (theory.md §4.5).

    A pure exponential decay gives ``ln(10/9)/ln(10) ≈ 0.046``; a plateau followed by a sharp drop gives a
    ratio of order 0.5. Requires a loss that falls overall."""
    t = _v.time_grid("t", t)
    loss = _v.finite("loss", loss)
    _v.same_length(("loss",), (loss,), t.size, "t")
    drop = loss[0] - loss
    total = drop[-1]
    if total <= 0:
        raise ValueError("loss must fall overall (loss[-1] < loss[0]) for a plateau ratio")
    t10 = t[np.argmax(drop >= 0.1 * total)]
    t90 = t[np.argmax(drop >= 0.9 * total)]
    if t90 == 0:
        raise ValueError("the loss falls by 90 % within the first sample of t: refine t")
    return float(t10 / t90)


@dataclass(frozen=True)
class ScaleSweep:
    """Results of :func:`scale_sweep`, one entry per scale ``alpha``."""

    alpha: np.ndarray
    h2_0: np.ndarray
    h_inf: np.ndarray          # Eq. 10
    h_final: np.ndarray        # the ODE at the last time
    a_high: np.ndarray
    a_low: float
    plateau: np.ndarray        # t10/t90 of the difference part of the loss
    trajectories: _th.Trajectory


def scale_sweep(alphas, h2_0, y2_0, w_0, eta_h, eta_y, dx2, dy2, t) -> ScaleSweep:
    """Eq. 41: scale the initial weights so that ``h2_0 → α h2_0``, ``Δŷ_0 → α Δŷ_0`` and solve Eq. 7.

    Then ``y2_0 → α² y2_0`` and ``w_0 = y2_0 − Δy·Δŷ_0 → α² y2_0 − α (y2_0 − w_0)``, which Eq. 41 writes
    as ``α² w_0``, its large-``α`` form (``α² w_0`` alone would violate ``|w − y2| ≤ sqrt(dy2 y2)`` at small
    ``α``). Small ``α`` is the rich regime (small initial weights), large ``α`` the lazy one. Returns the final
    distances from the ODE and from Eq. 10, the lazy and rich terms, and the plateau ratio of the
    difference part of the loss ``¼w + ⅛(dy2 − y2)`` (Eq. 9 without the mean).
    """
    alphas = _v.positive("alphas", alphas)
    if alphas.ndim != 1:
        raise ValueError(f"alphas must be a 1-D array, got shape {alphas.shape}")
    h0, y0 = alphas * float(h2_0), alphas**2 * float(y2_0)
    w0 = y0 - alphas * (float(y2_0) - float(w_0))
    tr = _th.solve_batch(t, h0, y0, w0, eta_h, eta_y, dx2, dy2)
    diff_loss = 0.25 * tr.w + 0.125 * (float(dy2) - tr.y2)
    return ScaleSweep(alphas, h0, _th.h_inf(h0, y0, eta_h, eta_y, dx2, dy2), tr.h2[:, -1],
                      _th.a_high(h0, y0, eta_h, eta_y, dx2), float(_th.a_low(eta_h, eta_y, dx2, dy2)),
                      np.array([plateau_ratio(tr.t, l) for l in diff_loss]), tr)


def final_distance_density(h, mu_C, sigma_C, a, dy2):
    """Eq. 48: density of ``h_inf`` when ``C ~ N(mu_C, sigma_C²)``, through the change of variables Eq. 45,
    ``p(h) = p_C(dy2/h − a h) (dy2/h² + a)``."""
    h = _v.positive("h", h)
    mu_C, sigma_C = _v.finite("mu_C", mu_C), _v.positive("sigma_C", sigma_C)
    a, dy2 = _v.positive("a", a), _v.nonnegative("dy2", dy2)
    c = dy2 / h - a * h
    return np.exp(-0.5 * ((c - mu_C) / sigma_C) ** 2) / (np.sqrt(2 * np.pi) * sigma_C) * (dy2 / h**2 + a)


@dataclass(frozen=True)
class RandomRegime:
    """Results of :func:`random_regime` for one initial weight scale."""

    scale: float
    h_inf: np.ndarray          # Eq. 10 for every sampled initial state
    C: np.ndarray              # Eq. 24 for every sampled initial state
    flow_final: np.ndarray     # ||Δh||² at the end of the full matrix flow, for the first n_flow samples
    flow_predicted: np.ndarray  # Eq. 10 for those same samples
    flow_residual: np.ndarray  # ||E||² at the end of each flow (convergence check)

    @property
    def cv(self) -> float:
        """Coefficient of variation (std/mean) of the final distance."""
        return float(np.std(self.h_inf) / np.mean(self.h_inf))

    @property
    def flow_error(self) -> np.ndarray:
        """``|flow_final / flow_predicted − 1|`` per sample: how well Eq. 10 predicts the off-manifold flow."""
        return np.abs(self.flow_final / self.flow_predicted - 1.0)


def random_regime(rng: np.random.Generator, scale: float, n: int, n_flow: int, dx, dy, n_h: int,
                  eta_h: float, eta_y: float, t_end: float) -> RandomRegime:
    """Sample ``n`` Gaussian linearised models at weight ``scale`` (App. A.6) and collect ``h_inf`` and
    ``C``; integrate the full matrix flow of the first ``n_flow`` to ``t_end`` and compare its final
    distance with Eq. 10. Random states are off the no-rotation manifold, so this tests the approximation.
    """
    n_flow = _v.integer("n_flow", n_flow, 0, n)
    dx, dy = _v.finite("dx", dx), _v.finite("dy", dy)
    states = [_lin.random_state(rng, dx, dy, n_h, scale) for _ in range(n)]
    sc = np.array([_lin.scalars(s) for s in states])
    dx2, dy2 = float(dx @ dx), float(dy @ dy)
    h_inf = _th.h_inf(sc[:, 0], sc[:, 1], eta_h, eta_y, dx2, dy2)
    C = _th.conserved(sc[:, 0], sc[:, 1], eta_h, eta_y, dx2)
    t = np.array([0.0, float(_v.positive("t_end", t_end))])
    ends = [_lin.solve_flow(t, s, eta_h, eta_y, rtol=1e-9, atol=1e-12).final for s in states[:n_flow]]
    final = np.array([_lin.scalars(e)[0] for e in ends])
    residual = np.array([float(np.sum((e.dyhat - e.dy) ** 2)) for e in ends])
    return RandomRegime(float(scale), h_inf, C, final, h_inf[:n_flow], residual)
