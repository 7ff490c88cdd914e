"""Fitting the effective rates to measured trajectories (paper App. B, Eq. 49).

:func:`fit_rates` finds ``eta_h``, ``eta_y`` (1/epoch) that minimise Eq. 49,

.. math::
    \\mathcal L_{fit} = \\sum_t (h_2 - h_2^{th})^2 + (y_2 - y_2^{th})^2 + (w - w^{th})^2,

where the theory curves solve Eq. 7 from the measured state at the first epoch. :func:`fit_mean_rate`
finds ``eta_ybar`` from a loss curve (Eq. 9). Both search in log-parameters: a coarse grid, then
Nelder-Mead from the best grid points (scipy). A fit that does not converge raises :class:`FitError`, whose
``reason`` says why: a failed fit is never returned as a number. (The package's one failure style: a function
that cannot produce its result raises an exception of its kind, :class:`FitError`,
:class:`reptheory.theory.SolveError`, :class:`reptheory.cache.CacheError`, ``ValueError`` for bad input; a sweep
that goes on past one run's failure catches it and records its reason with that run.)

This module knows nothing about networks; the measured arrays may come from any source.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize

from reptheory import validate as _v
from reptheory.theory import ode as _th

__all__ = ["LOG10_BOUNDS", "FLAT_TOL", "FitError", "RateFit", "MeanRateFit", "fit_rates", "fit_mean_rate",
           "fit_pair", "theory_curves", "max_relative_deviation"]

#: search box for log10 of every rate (1/epoch); a fit that ends on its edge is reported as failed
LOG10_BOUNDS = (-9.0, 3.0)
#: curves whose total variation is below (FLAT_TOL · their largest value)² per sample do not move
FLAT_TOL = 1e-9
#: a fit that leaves more than this fraction of the curves' variation (Σ (x − mean x)², summed over h2, y2, w)
#: unexplained is flagged: noise scores about 1 or more, the book's two-point fits 0.001 to 0.03 (gain 1.4,
#: where the theory fails, 6.4)
MAX_UNEXPLAINED = 0.5
#: a fit whose cost rises by less than this fraction of the variation when the rates move by 2× in some
#: direction is flagged as ill-determined: the book's two-point fits score 0.05 to 0.4, a fit to noise 1e-7
MIN_SENSITIVITY = 1e-3


class FitError(RuntimeError):
    """The fit did not converge. ``reason`` says why; the message is ``"<where> failed: <reason>"``.

    >>> str(FitError("fit_rates", "the curves do not move"))
    'fit_rates failed: the curves do not move'
    """

    def __init__(self, where: str, reason: str):
        super().__init__(where, reason)          # both in args: the error pickles (worker processes)
        self.where, self.reason = where, reason

    def __str__(self) -> str:
        return f"{self.where} failed: {self.reason}"


def max_relative_deviation(measured, predicted) -> float:
    """``max_t |measured − predicted| / max_t |measured|``: the per-curve deviation used by every figure check.

    >>> round(max_relative_deviation([1.0, 2.0, 4.0], [1.0, 2.2, 3.9]), 6)      # 0.2 / 4
    0.05
    """
    measured, predicted = _v.finite("measured", measured), _v.finite("predicted", predicted)
    if measured.shape != predicted.shape:
        raise ValueError(f"measured and predicted must have the same shape, got {measured.shape} and {predicted.shape}")
    scale = np.max(np.abs(measured))
    if scale == 0:
        raise ValueError("measured is identically zero: a relative deviation is undefined")
    return float(np.max(np.abs(measured - predicted)) / scale)


@dataclass(frozen=True)
class RateFit:
    """Result of :func:`fit_rates`: a converged fit (a failed one raises :class:`FitError`). ``eta_h``,
    ``eta_y`` in 1/epoch; ``theory`` the fitted curves (a :class:`~reptheory.theory.trajectory.Trajectory` at
    the measured epochs); ``flags`` why the data do not decide the rates (empty: they do).

    >>> import numpy as np
    >>> from reptheory import theory
    >>> t = np.linspace(0, 3000, 301)
    >>> net = theory.solve(t, 0.1, 0.01, 0.0, 2e-3, 4e-3, 1.0, 0.5)
    >>> f = fit_rates(t, net.h2, net.y2, net.w, 1.0, 0.5)
    >>> round(f.ratio, 3), f.theory.h2.shape, max(f.max_rel_dev.values()) < 1e-3
    (0.5, (301,), True)
    """

    eta_h: float
    eta_y: float
    cost: float                      # Eq. 49 at the optimum (sum over epochs, squared units of h2/y2)
    max_rel_dev: dict = field(default_factory=dict)   # per curve: max|net − theory| / max|net|
    theory: _th.Trajectory | None = None
    message: str = ""
    n_solves: int = 0
    at_boundary: tuple = ()          # names of rates whose optimum lies on the search boundary
    unexplained: float = float("nan")   # cost / total variation of the three curves (0: exact, >= 1: no trend)
    sensitivity: float = float("nan")   # least relative rise of the cost when the rates move by a factor 2
    flags: tuple = ()                # why the data do not decide the rates (empty: they do); see fit_rates

    @property
    def ratio(self) -> float | None:
        """``eta_h/eta_y = τ_y/τ_h``, the only combination the fixed point (Eq. 10-11) depends on."""
        return self.eta_h / self.eta_y

    @property
    def identifiable(self) -> bool:
        """The data decide the rates (no ``flags``)."""
        return not self.flags

    def __repr__(self) -> str:                  # the trajectory stays out of the printed form
        rates = (f"eta_h={self.eta_h:.4g}, eta_y={self.eta_y:.4g}, cost={self.cost:.3g}, "
                 f"max_rel_dev={ {k: round(v, 3) for k, v in self.max_rel_dev.items()} }")
        flags = f", flags={self.flags}" if self.flags else ""
        return f"RateFit({rates}{flags}, message={self.message!r})"


@dataclass(frozen=True)
class MeanRateFit:
    """Result of :func:`fit_mean_rate`: a converged fit (a failed one raises :class:`FitError`). ``eta_ybar`` in
    1/epoch; ``theory`` the fitted loss curve (Eq. 9) at the measured epochs. Example: :func:`fit_mean_rate`."""

    eta_ybar: float
    cost: float
    max_rel_dev: float | None = None
    theory: np.ndarray | None = None
    message: str = ""


def _check_curves(t, curves: dict):
    t = _v.time_grid("t", t)
    arrays = tuple(_v.finite(n, c) for n, c in curves.items())
    _v.same_length(tuple(curves), arrays, t.size, "t")
    if t.size < 3:
        raise ValueError(f"t must hold at least 3 epochs to fit rates, got {t.size}")
    return t, arrays


def fit_rates(t, h2, y2, w, dx2, dy2, *, n_grid: int = 25, n_starts: int = 3, rtol: float = 1e-6,
              allow_boundary: bool = False, method: str = "rk4") -> RateFit:
    """Fit ``eta_h``, ``eta_y`` of Eq. 7 to measured ``h2``, ``y2``, ``w`` at epochs ``t`` (Eq. 49).

    1. Rich-limit guess of the ratio ``eta_h/eta_y ≈ h2(T)²/(dx2 dy2)`` (Eq. 13; ratio 1 if ``dy2 = 0``).
    2. Grid over the overall scale ``s`` (``n_grid`` points, 10⁻⁷ … 10¹) with the guessed ratio, and
       over the ratio × 10⁻² … 10² at the best scale.
    3. Nelder-Mead in ``(log10 eta_h, log10 eta_y)`` from the ``n_starts`` best grid points; the best
       converged optimum wins. The theory is then solved once more for the reported curves, cost and
       deviations: with the compiled RK4 (its error is below 1e-11 relative on the book's runs, smaller than
       Radau's at ``rtol=1e-8``), or with Radau at ``rtol=1e-8`` where RK4 declines (too stiff) or
       ``method="radau"``.

    ``method`` is the integrator of the search (:func:`reptheory.theory.solve`): ``"rk4"`` (default; the
    compiled fixed-step scheme, about 0.5 ms per 6000-epoch solve) or ``"radau"`` (the adaptive reference at
    ``rtol``, about 30 ms per solve). Both find the same optimum (tested on stored network trajectories).

    An optimum on the edge of the search box (10⁻⁹ … 10³ per epoch) means the data ask for a rate
    of 0 or infinity (for example a frozen encoder, ``eta_h → 0``, in the lazy regime). It is a failure
    unless ``allow_boundary``; then the result is returned with ``at_boundary`` naming the rate(s). A failure
    raises :class:`FitError`.

    Whether the data decide the rates: curves that do not move (:data:`FLAT_TOL`) are a failure. A fit
    that explains too little of the curves' variation (``unexplained > MAX_UNEXPLAINED``) or whose cost
    hardly changes when the rates move by a factor 2 in some direction (``sensitivity < MIN_SENSITIVITY``)
    succeeds with ``flags`` saying why; :attr:`RateFit.identifiable` is then False and the
    message starts with "not identifiable".

    >>> import numpy as np
    >>> from reptheory import theory
    >>> t = np.linspace(0, 3000, 301)
    >>> net = theory.solve(t, 0.1, 0.01, 0.0, 2e-3, 4e-3, 1.0, 0.5)
    >>> f = fit_rates(t, net.h2, net.y2, net.w, 1.0, 0.5)
    >>> f.identifiable, round(f.eta_h / 2e-3, 4), round(f.eta_y / 4e-3, 4)
    (True, 1.0, 1.0)
    """
    t, (h2, y2, w) = _check_curves(t, {"h2": h2, "y2": y2, "w": w})
    _v.positive("h2", h2)
    _v.nonnegative("y2", y2)
    dx2, dy2 = float(_v.positive("dx2", dx2)), float(_v.nonnegative("dy2", dy2))
    if method not in ("rk4", "radau"):
        raise ValueError(f"method must be 'rk4' or 'radau', got {method!r}")
    n_grid, n_starts = _v.integer("n_grid", n_grid, 1), _v.integer("n_starts", n_starts, 1)
    _th._check_initial(h2[0], y2[0], w[0], dy2)
    z0 = (h2[0], y2[0], w[0])
    n_solves = 0
    variation = float(sum(np.sum((c - c.mean()) ** 2) for c in (h2, y2, w)))
    scale = max(float(np.max(h2)), float(np.max(y2)), float(np.max(np.abs(w))))
    if variation <= (FLAT_TOL * scale) ** 2 * t.size:
        raise FitError("fit_rates", f"the curves do not move (total variation {variation:.3g}): the data hold no "
                                    "information on the rates")
    lo, hi = LOG10_BOUNDS

    z0a = np.array(z0, dtype=float)

    def cost(logp):                     # the inputs are checked above: the integrators are called directly
        nonlocal n_solves
        if not np.all((logp >= lo) & (logp <= hi)):
            return np.inf
        n_solves += 1
        eh, ey = 10.0 ** logp[0], 10.0 ** logp[1]
        try:
            y = (_th._solve_one_rk4(t, z0a, eh, ey, dx2, dy2) if method == "rk4"
                 else _th._solve_one(t, z0a, eh, ey, dx2, dy2, rtol, None))
        except _th.SolveError:
            return np.inf
        return float(np.sum((h2 - y[0]) ** 2 + (y2 - y[1]) ** 2 + (w - y[2]) ** 2))

    ratio = h2[-1] ** 2 / (dx2 * dy2) if dy2 > 0 else 1.0
    lr = np.log10(ratio)
    candidates = [np.array([s + lr, s]) for s in np.linspace(-7.0, 1.0, n_grid)]
    scores = [cost(p) for p in candidates]
    best = candidates[int(np.argmin(scores))]
    for d in np.linspace(-2.0, 2.0, 9):
        p = best + np.array([d, 0.0])
        candidates.append(p)
        scores.append(cost(p))
    order = np.argsort(scores)
    if not np.isfinite(scores[order[0]]):
        raise FitError("fit_rates", "every grid point failed to integrate")

    results = []
    for i in order[:n_starts]:
        if not np.isfinite(scores[i]):
            continue
        res = minimize(cost, candidates[i], method="Nelder-Mead",
                       options={"xatol": 1e-5, "fatol": 1e-12 * max(scores[i], 1e-300), "maxiter": 600,
                                "initial_simplex": candidates[i] + np.array([[0, 0], [0.3, 0], [0, 0.3]])})
        results.append(res)
    converged = [r for r in results if r.success and np.isfinite(r.fun)]
    if not converged:
        msgs = "; ".join(r.message for r in results)
        raise FitError("fit_rates", f"Nelder-Mead did not converge ({msgs})")
    res = min(converged, key=lambda r: r.fun)
    edge = tuple(n for n, v in zip(("eta_h", "eta_y"), res.x) if np.isclose(v, lo, atol=0.05) or np.isclose(v, hi, atol=0.05))
    message = "converged"
    if edge:
        searched = " to ".join(f"{10.0 ** b:.0e}" for b in LOG10_BOUNDS)
        at = ", ".join(f"{n} = {10.0 ** v:.3g}" for n, v in zip(("eta_h", "eta_y"), res.x))
        message = f"the optimum lies on the search boundary ({searched}) for {', '.join(edge)}: {at}"
        if not allow_boundary:
            raise FitError("fit_rates", message)
    eh, ey = (float(10.0 ** v) for v in res.x)
    try:
        tr = theory_curves(t, z0, eh, ey, dx2, dy2, first=method)
    except _th.SolveError as exc:
        raise FitError("fit_rates", f"the optimum does not integrate: {exc}") from exc
    final_cost = float(np.sum((h2 - tr.h2) ** 2 + (y2 - tr.y2) ** 2 + (w - tr.w) ** 2))
    dev = {name: max_relative_deviation(m, p) for name, m, p in
           (("h2", h2, tr.h2), ("y2", y2, tr.y2), ("w", w, tr.w)) if np.any(m != 0)}
    unexplained = final_cost / variation
    sensitivity = _sensitivity(cost, res.x, res.fun, variation)
    flags = []
    if unexplained > MAX_UNEXPLAINED:
        flags.append(f"the fit leaves {unexplained:.2g} of the curves' variation unexplained (> {MAX_UNEXPLAINED:g})")
    if not edge and sensitivity < MIN_SENSITIVITY:
        flags.append(f"the cost changes by {sensitivity:.2g} of the variation when a rate doubles "
                     f"(< {MIN_SENSITIVITY:g}): the rates are ill-determined")
    if flags:
        message = "not identifiable: " + "; ".join(flags)
    return RateFit(eh, ey, final_cost, dev, tr, message, n_solves + 1, edge, unexplained, sensitivity,
                   tuple(flags))


def theory_curves(t, z0, eta_h, eta_y, dx2, dy2, first: str = "rk4") -> _th.Trajectory:
    """Eq. 7 from ``z0 = (h2, y2, w)`` at fitted rates, for reporting a fit: the compiled RK4 (its error is
    below 1e-11 relative on the book's runs), or Radau at ``rtol=1e-8`` where RK4 declines (too stiff) or
    ``first="radau"``. Raises :class:`reptheory.theory.SolveError` if neither integrates."""
    if first == "rk4":
        try:
            return _th.solve(t, *z0, eta_h, eta_y, dx2, dy2, method="rk4")
        except _th.SolveError:
            pass
    return _th.solve(t, *z0, eta_h, eta_y, dx2, dy2, rtol=1e-8)


def _sensitivity(cost, x, c0, variation) -> float:
    """The least rise of ``cost`` above its optimum ``c0``, over ``variation``, when the rates at ``x``
    (log10) move by a factor 2 along either axis or either diagonal (8 solves). A rise near 0 means some
    direction leaves the curves almost unchanged: the data do not pin the rates down there."""
    d = np.log10(2.0)
    rises = [cost(x + d * np.array(v)) - c0 for v in
             ((1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, -1), (1, -1), (-1, 1))]
    return float(min(rises) / max(variation, 1e-300))


def fit_mean_rate(t, loss, y2, w, dy2, m0) -> MeanRateFit:
    """Fit ``eta_ybar`` of Eq. 9 to a measured loss curve, given the difference part (``y2``, ``w``).

    ``y2``, ``w`` are usually the theory curves of a :class:`RateFit` (the paper fits ``τ_ȳ`` after
    ``τ_h``, ``τ_y``); ``m0 = ||ŷ̄(0) − ȳ||²``. Minimises ``Σ_t (L(t) − L_th(t))²`` over
    ``log10 eta_ybar``: a grid over 10⁻⁷ … 10² then Nelder-Mead from the best point. Raises
    :class:`FitError` when ``m0 = 0`` (the loss does not depend on the rate) or no optimum converges.

    >>> import numpy as np
    >>> from reptheory import theory
    >>> t = np.linspace(0, 3000, 301)
    >>> tr = theory.solve(t, 0.1, 0.01, 0.0, 2e-3, 4e-3, 1.0, 0.5)
    >>> measured = theory.loss(t, tr.y2, tr.w, 0.5, 3e-3, 0.2)        # a loss curve with eta_ybar = 3e-3
    >>> round(fit_mean_rate(t, measured, tr.y2, tr.w, 0.5, 0.2).eta_ybar / 3e-3, 4)
    1.0
    """
    t, (loss, y2, w) = _check_curves(t, {"loss": loss, "y2": y2, "w": w})
    dy2, m0 = float(_v.nonnegative("dy2", dy2)), float(_v.nonnegative("m0", m0))
    if m0 == 0:
        raise FitError("fit_mean_rate", "m0 = 0: the loss does not depend on eta_ybar, which is then undetermined")
    diff_part = 0.25 * w + 0.125 * (dy2 - y2)

    def cost(logp):
        p = float(np.atleast_1d(logp)[0])
        if not LOG10_BOUNDS[0] <= p <= LOG10_BOUNDS[1]:
            return np.inf
        return float(np.sum((loss - 0.5 * m0 * np.exp(-2.0 * 10.0**p * t) - diff_part) ** 2))

    grid = np.linspace(-7.0, 2.0, 37)
    start = grid[int(np.argmin([cost(g) for g in grid]))]
    res = minimize(cost, np.array([start]), method="Nelder-Mead", options={"xatol": 1e-6, "fatol": 1e-16})
    if not res.success or np.isclose(res.x[0], LOG10_BOUNDS, atol=0.05).any():
        raise FitError("fit_mean_rate", f"no converged optimum inside 10^{LOG10_BOUNDS} ({res.message})")
    em = float(10.0 ** res.x[0])
    curve = 0.5 * m0 * np.exp(-2.0 * em * t) + diff_part
    return MeanRateFit(em, float(res.fun), max_relative_deviation(loss, curve), curve, "converged")


def fit_pair(t, h2, y2, w, dx2, dy2, loss, m0) -> dict:
    """One pair's fit as the result cache stores it (kind ``two_point_fit``): Eq. 7's rates by :func:`fit_rates`
    with ``allow_boundary=True``, then Eq. 9's mean rate by :func:`fit_mean_rate` on the fitted curves and the
    pair's ``loss`` (NaN where that fit fails: Eq. 9's curve is then left out). The record holds ``failure``
    (``""``, or why the rates could not be fitted, and nothing else then), ``message``, ``eta_h``, ``eta_y``,
    ``eta_ybar`` (1/epoch), ``at_boundary`` (the rates on the search boundary, joined by commas), ``flags``
    (joined by newlines), ``unexplained`` and ``sensitivity``. A failed fit is stored as its reason, so that it
    is not redone.

    >>> import numpy as np
    >>> from reptheory import theory
    >>> t = np.linspace(0, 3000, 301)
    >>> tr = theory.solve(t, 0.1, 0.01, 0.0, 2e-3, 4e-3, 1.0, 0.5)
    >>> rec = fit_pair(t, tr.h2, tr.y2, tr.w, 1.0, 0.5, theory.loss(t, tr.y2, tr.w, 0.5, 3e-3, 0.2), 0.2)
    >>> rec["failure"], round(rec["eta_h"] / rec["eta_y"], 3), round(rec["eta_ybar"] / 3e-3, 3)
    ('', 0.5, 1.0)
    """
    try:
        f = fit_rates(t, h2, y2, w, dx2, dy2, allow_boundary=True)
    except FitError as exc:
        return {"failure": exc.reason}
    try:
        eta_ybar = fit_mean_rate(t, loss, f.theory.y2, f.theory.w, dy2, m0).eta_ybar
    except FitError:
        eta_ybar = np.nan
    return {"failure": "", "message": f.message, "eta_h": f.eta_h, "eta_y": f.eta_y,
            "at_boundary": ",".join(f.at_boundary), "eta_ybar": eta_ybar, "flags": "\n".join(f.flags),
            "unexplained": f.unexplained, "sensitivity": f.sensitivity}
