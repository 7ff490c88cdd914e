"""A probed run and its theory: :class:`ProbeResult`, what :func:`reptheory.lab.probe` and
:func:`reptheory.lab.probe_many` return, and the fits that make one from a run's recorded arrays.

From the recorded curves (``h2``, ``y2``, ``w`` of the pair at every epoch, the pair's loss), :func:`from_arrays`
fits Eq. 7's rates (Eq. 49, :func:`reptheory.theory.fit.fit_rates`), Eq. 9's mean rate to the pair's loss
(:func:`reptheory.theory.fit.fit_mean_rate`) and evaluates Eq. 10 from the run's own initial ``h2``, ``y2``; the
result says whether the theory holds at the default network's bars (:data:`BARS`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reptheory import configs as _configs
from reptheory.networks.measure import Measured
from reptheory.theory import fit as _fit
from reptheory.theory import ode as _th

__all__ = ["BARS", "CONVERGED_LOSS", "ProbeResult", "from_arrays"]

#: the default network's bars (Fig. 2's checks, :mod:`reptheory.configs.bars`): largest deviation of each curve
#: from the fitted Eq. 7, relative to the curve's largest value, and ``|Eq. 10 / final ||Δh||² − 1|``
BARS = {**_configs.bars.FIT, "h_inf": _configs.bars.EQ10}
#: the curves as a verdict names them
_CURVE_NAMES = {"h2": "‖Δh‖²", "y2": "‖Δŷ‖²", "w": "w"}
#: a run whose pair loss ends above this has not converged: its final distance is not yet Eq. 10's fixed point
#: (the bar for the runs Fig. 5 fits, :data:`reptheory.configs.FIG5_FIT_MAX_LOSS`)
CONVERGED_LOSS = _configs.FIG5_FIT_MAX_LOSS


@dataclass(frozen=True)
class ProbeResult:
    """A probed run with its theory.

    ``measured`` holds the curves (``measured.traj``: epochs, ``h2``, ``y2``, ``w``; ``measured.loss``: the
    pair's loss, Eq. 9's quantity); ``loss`` is the training criterion over all of ``X``. ``fit`` is the
    :class:`~reptheory.theory.fit.RateFit` of :func:`~reptheory.theory.fit.fit_rates`, ``None`` when there is
    none: the run diverged (reported, never fitted), or the fit failed (``failure`` holds the reason of the
    :class:`~reptheory.theory.fit.FitError`); ``h_inf`` is Eq. 10 (NaN without rates). Example:
    :func:`~reptheory.lab.probing.probe`."""

    layer: str
    pair: tuple
    measured: Measured
    loss: np.ndarray
    fit: _fit.RateFit | None
    mean_fit: _fit.MeanRateFit | None
    h_inf: float
    diverged: bool
    seconds: float
    failure: str = ""                   # why the fit failed ("": it did not, or was not tried)

    @property
    def h2_final(self) -> float:
        """The measured ``||Δh||²`` at the last record (NaN for a run that diverged before its first record)."""
        h2 = self.measured.traj.h2
        return float(h2[-1]) if h2.size else float("nan")

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
                return "the run diverged: not fitted"
            return ("fewer than three records: not fitted" if self.measured.traj.t.size < 3 else
                    "not fitted (fit=False)")
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
            n = self.measured.traj.t.size
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
        return f"ProbeResult(layer={self.layer!r}, pair={self.pair}, {self.verdict})"


def from_arrays(arrays: dict, layer: str, pair: tuple, fitted: bool = True) -> ProbeResult:
    """A :class:`ProbeResult` from a run's recorded arrays (``h2``, ``y2``, ``w``, ``pair_loss``, ``loss`` per
    epoch; ``dx2``, ``dy2``, ``m0``, ``diverged``, ``seconds``), as the training engines of
    :mod:`reptheory.lab.engines` return them and the cache stores them: Eq. 7's rates fitted (Eq. 49), Eq. 9's
    mean rate and Eq. 10 from the run's initial values. A diverged run, one of fewer than three records, or
    ``fitted=False`` is returned unfitted."""
    t = np.arange(arrays["h2"].size, dtype=float)
    traj = _th.Trajectory(t, arrays["h2"], arrays["y2"], arrays["w"])
    measured = Measured(traj, arrays["pair_loss"], float(arrays["dx2"]), float(arrays["dy2"]), float(arrays["m0"]),
                        layer)
    diverged, seconds = bool(arrays["diverged"]), float(arrays["seconds"])
    if diverged or t.size < 3 or not fitted:    # a diverged run is reported, never fitted
        return ProbeResult(layer, pair, measured, arrays["loss"], None, None, float("nan"), diverged, seconds)
    try:
        fit = _fit.fit_rates(t, traj.h2, traj.y2, traj.w, measured.dx2, measured.dy2)
    except _fit.FitError as exc:
        return ProbeResult(layer, pair, measured, arrays["loss"], None, None, float("nan"), diverged, seconds,
                           exc.reason)
    except ValueError as exc:           # curves the fitter refuses (h2 = 0: the layer does not see the pair)
        return ProbeResult(layer, pair, measured, arrays["loss"], None, None, float("nan"), diverged, seconds,
                           f"the curves cannot be fitted: {exc}")
    h_inf = _th.h_inf(traj.h2[0], traj.y2[0], fit.eta_h, fit.eta_y, measured.dx2, measured.dy2)
    mean_fit = None
    if measured.m0 > 0:
        try:
            mean_fit = _fit.fit_mean_rate(t, measured.loss, fit.theory.y2, fit.theory.w, measured.dy2, measured.m0)
        except _fit.FitError:           # Eq. 9's curve is then left out; the rates stand
            mean_fit = None
    return ProbeResult(layer, pair, measured, arrays["loss"], fit, mean_fit, float(h_inf), diverged, seconds)
