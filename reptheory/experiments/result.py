"""One two-point run with its theory, for the paper's networks and for any model alike: :class:`TwoPointResult`
(:func:`reptheory.experiments.two_point`, :func:`reptheory.lab.probe`), and the bars of its verdict.

The result holds the pair's measured curves, the fit of Eq. 7's rates (Eq. 49), Eq. 9's mean rate and Eq. 10,
and says whether the theory holds at the default network's bars (:data:`BARS`, from
:mod:`reptheory.configs.bars`): every curve within its deviation bar, Eq. 10 within its bar of the final
``||Δh||²``, the run converged (its pair loss at most :data:`CONVERGED_LOSS`) and the rates identifiable.
A run that diverged is reported, never fitted: its ``h_inf`` is NaN and ``fit`` is ``None``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reptheory import configs as _configs
from reptheory.networks.measure import Measured
from reptheory.theory import fit as _fit
from reptheory.theory import ode as _th

__all__ = ["BARS", "CONVERGED_LOSS", "TwoPointResult", "fit_record", "fitted"]

#: the default network's bars (Fig. 2's checks, :mod:`reptheory.configs.bars`): largest deviation of each curve
#: from the fitted Eq. 7, relative to the curve's largest value, and ``|Eq. 10 / final ||Δh||² − 1|``
BARS = {**_configs.bars.FIT, "h_inf": _configs.bars.EQ10}
#: the curves as a verdict names them
_CURVE_NAMES = {"h2": "‖Δh‖²", "y2": "‖Δŷ‖²", "w": "w"}
#: a run whose pair loss ends above this has not converged: its final distance is not yet Eq. 10's fixed point
#: (the bar for the runs Fig. 5 fits, ``configs.FIG5_PROTOCOL.fit_max_loss``)
CONVERGED_LOSS = _configs.FIG5_PROTOCOL.fit_max_loss


@dataclass(frozen=True)
class TwoPointResult:
    """One two-point run with its theory: what :func:`reptheory.experiments.two_point` returns for a setting of
    the paper and :func:`reptheory.lab.probe` for any PyTorch model (there named ``ProbeResult``, the same
    class).

    ``measured`` holds the curves of the pair (``measured.traj``: epochs, ``h2``, ``y2``, ``w``;
    ``measured.loss``: the pair's loss, Eq. 9's quantity), ``None`` for a run that diverged at its first record;
    ``loss`` is the training criterion over all of ``X``. ``fit`` is the :class:`~reptheory.theory.fit.RateFit`
    of :func:`~reptheory.theory.fit.fit_rates` (Eq. 49), ``None`` when there is none: the run diverged
    (reported, never fitted), or the fit failed (``failure`` holds the reason); ``mean_fit`` is Eq. 9's rate;
    ``h_inf`` is Eq. 10 (NaN without rates). Where the run came from: ``layer`` and ``pair`` (the tracked layer
    and the two points), ``seconds`` of training; for a setting of the paper also ``setting``, ``seed`` and the
    trained :class:`~reptheory.networks.train.Run` (``run``). Examples: :func:`~reptheory.lab.probing.probe`,
    :func:`~reptheory.experiments.two_point`."""

    measured: Measured | None
    fit: _fit.RateFit | None
    mean_fit: _fit.MeanRateFit | None
    h_inf: float
    diverged: bool
    failure: str = ""                   # why there is no fit ("": there is one, or none was tried)
    loss: np.ndarray | None = None      # the training criterion over all of X, per record
    seconds: float = float("nan")       # seconds of training
    layer: str | int | None = None      # the tracked layer (a module's name, or a paper network's index)
    pair: tuple = (0, 1)                # the two points, as indices of the points the run recorded
    setting: _configs.Setting | None = None     # the paper's setting (experiments.two_point), else None
    seed: int | None = None
    run: object = None                  # the trained reptheory.networks.train.Run of a paper setting

    @property
    def _records(self) -> int:
        return 0 if self.measured is None else self.measured.traj.t.size

    @property
    def h2_final(self) -> float:
        """The measured ``||Δh||²`` at the last record (NaN for a run that diverged before its first record)."""
        return float(self.measured.traj.h2[-1]) if self._records else float("nan")

    @property
    def converged(self) -> bool:
        """The run did not diverge and its pair loss ended below :data:`CONVERGED_LOSS`."""
        return not self.diverged and float(self.measured.loss[-1]) <= CONVERGED_LOSS

    @property
    def loss_theory(self) -> np.ndarray | None:
        """Eq. 9 with the fitted rates at the recorded epochs (``None`` without a fit)."""
        return None if self.mean_fit is None else self.mean_fit.theory

    @property
    def fit_message(self) -> str:
        """The fit's message, or why there is no fit."""
        if self.failure:
            return self.failure
        if self.fit is None:
            if self.diverged:
                return ("the run diverged: not fitted" if self._records else
                        "the run diverged at its first record: not fitted")
            return "fewer than three records: not fitted" if self._records < 3 else "not fitted (fit=False)"
        return self.fit.message

    @property
    def deviations(self) -> dict:
        """Per-curve deviations of the fit (``h2``, ``y2``, ``w``) and ``h_inf``: ``|Eq. 10 / final − 1|``
        (empty without a fit)."""
        if self.fit is None:
            return {}
        return {**self.fit.max_rel_dev, "h_inf": abs(self.h_inf / self.h2_final - 1.0)}

    @property
    def holds(self) -> bool:
        """The fit is identifiable, the run converged, and every deviation is within :data:`BARS`."""
        dev = self.deviations
        return (bool(dev) and self.fit.identifiable and self.converged
                and all(dev.get(k, 0.0) <= bar for k, bar in BARS.items()))

    @property
    def verdict(self) -> str:
        """One line: whether Eq. 7 and Eq. 10 describe this run at the default network's bars, with the
        numbers."""
        if self.failure:
            return f"Eq. 7 could not be fitted: {self.failure}"
        if self.fit is None:
            n = self._records
            return ((f"the run diverged after {n} records: not fitted" if n else
                     "the run diverged at its first record (the initial loss or ‖Δh‖² is not finite, or the "
                     "loss grew past the divergence bar at once): not fitted") if self.diverged
                    else f"no verdict: {self.fit_message}")
        dev = self.deviations
        shown = [k for k in ("h2", "y2", "w") if k in dev]
        curves = ", ".join(f"{_CURVE_NAMES[k]} {100 * dev[k]:.0f} %" for k in shown)
        head = "Eq. 7 and Eq. 10 hold" if self.holds else "the theory does not hold"
        text = (f"{head}: deviation from Eq. 7 {curves} (bars {', '.join(f'{100 * BARS[k]:.0f}' for k in shown)} %);"
                f" Eq. 10 {100 * dev['h_inf']:.0f} % from the final ‖Δh‖² (bar {100 * BARS['h_inf']:.0f} %)")
        if not self.converged:
            text += f"; the run has not converged (pair loss {self.measured.loss[-1]:.2g} at the end)"
        if not self.fit.identifiable:
            text += "; " + self.fit.message
        return text

    def __repr__(self) -> str:
        where = (f"setting={self.setting.name!r}, seed={self.seed}, " if self.setting is not None else "")
        return f"TwoPointResult({where}layer={self.layer!r}, pair={self.pair}, {self.verdict})"


def fit_record(measured: Measured) -> dict:
    """Eq. 7's and Eq. 9's fit to ``measured`` as a record (:func:`reptheory.theory.fit.fit_pair`, what the cache
    stores of a paper run's fit); curves the fitter refuses (``ValueError``: ``h2 = 0``, the layer does not see
    the pair) give a failure record."""
    m = measured
    try:
        return _fit.fit_pair(m.traj.t, m.traj.h2, m.traj.y2, m.traj.w, m.dx2, m.dy2, m.loss, m.m0)
    except ValueError as exc:
        return {"failure": f"the curves cannot be fitted: {exc}"}


def fitted(measured: Measured, record: dict, boundary_fails: bool = False, **where) -> TwoPointResult:
    """The one way a two-point run is fitted and judged, for the paper's runs and the lab's probes alike: the
    :class:`TwoPointResult` of the measured curves of a run that did not diverge and their fit ``record``
    (:func:`fit_record`). Eq. 7's curves are integrated at the recorded rates as
    :func:`~reptheory.theory.fit.fit_rates` reports them (its cost, and each moving curve's deviation), Eq. 9's at
    the recorded mean rate, Eq. 10 from the run's initial ``h2``, ``y2``. A rate on the search boundary stays a
    fit (``fit.at_boundary``; Fig. 5's rule discards it) or, with ``boundary_fails``, is a failure (the lab's
    probes). ``where``: the result's other fields (``loss``, ``seconds``, ``layer``, ``pair``, ``setting``,
    ``seed``, ``run``)."""
    m, a, nan = measured, record, float("nan")
    edge = tuple(x for x in str(a.get("at_boundary", "")).split(",") if x)
    if str(a["failure"]) or (edge and boundary_fails):
        return TwoPointResult(m, None, None, nan, False, str(a["failure"]) or str(a["message"]), **where)
    t, eh, ey = m.traj.t, float(a["eta_h"]), float(a["eta_y"])
    try:
        tr = _fit.theory_curves(t, (m.traj.h2[0], m.traj.y2[0], m.traj.w[0]), eh, ey, m.dx2, m.dy2)
    except _th.SolveError as exc:
        return TwoPointResult(m, None, None, nan, False, f"the fitted rates do not integrate: {exc}", **where)
    cost = float(np.sum((m.traj.h2 - tr.h2) ** 2 + (m.traj.y2 - tr.y2) ** 2 + (m.traj.w - tr.w) ** 2))
    dev = {n: _fit.max_relative_deviation(getattr(m.traj, n), getattr(tr, n)) for n in ("h2", "y2", "w")
           if np.any(getattr(m.traj, n) != 0)}
    flags = tuple(x for x in str(a["flags"]).split("\n") if x)
    f = _fit.RateFit(eh, ey, cost, dev, tr, str(a["message"]), at_boundary=edge,
                     unexplained=float(a["unexplained"]), sensitivity=float(a["sensitivity"]), flags=flags)
    mean_fit = None
    if np.isfinite(a["eta_ybar"]):
        curve = _th.loss(t, tr.y2, tr.w, m.dy2, float(a["eta_ybar"]), m.m0)
        mean_fit = _fit.MeanRateFit(float(a["eta_ybar"]), float(np.sum((m.loss - curve) ** 2)),
                                    _fit.max_relative_deviation(m.loss, curve), curve, "converged")
    h_inf = float(_th.h_inf(m.traj.h2[0], m.traj.y2[0], eh, ey, m.dx2, m.dy2))
    return TwoPointResult(m, f, mean_fit, h_inf, False, **where)
