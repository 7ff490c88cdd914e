"""A probed run and its theory: what :func:`reptheory.lab.probe` and :func:`reptheory.lab.probe_many` return, a
:class:`~reptheory.experiments.result.TwoPointResult` (the one two-point result type, of the paper's runs and the
lab's), made by :func:`from_arrays` from a run's recorded arrays.

From the recorded curves (``h2``, ``y2``, ``w`` of the pair at every epoch, the pair's loss), :func:`from_arrays`
fits and judges the run as the paper's runs are (:func:`reptheory.experiments.result.fitted`): Eq. 7's rates
(Eq. 49), Eq. 9's mean rate to the pair's loss and Eq. 10 from the run's own initial ``h2``, ``y2``; the result
says whether the theory holds at the default network's bars (:data:`BARS`). A rate on the search boundary is a
failed fit here, with the fitter's message as its reason.
"""
from __future__ import annotations

import numpy as np

from reptheory.experiments import result as _result
from reptheory.experiments.result import BARS, CONVERGED_LOSS, TwoPointResult
from reptheory.networks.measure import Measured
from reptheory.theory import ode as _th

__all__ = ["BARS", "CONVERGED_LOSS", "ProbeResult", "from_arrays"]

#: the probed run's result under its earlier name: the class :class:`reptheory.experiments.result.TwoPointResult`
#: itself (the bars :data:`BARS` and :data:`CONVERGED_LOSS` are that module's)
ProbeResult = TwoPointResult


def from_arrays(arrays: dict, layer: str, pair: tuple, fitted: bool = True) -> TwoPointResult:
    """A :class:`~reptheory.experiments.result.TwoPointResult` from a run's recorded arrays (``h2``, ``y2``, ``w``,
    ``pair_loss``, ``loss`` per epoch; ``dx2``, ``dy2``, ``m0``, ``diverged``, ``seconds``), as the training
    engines of :mod:`reptheory.lab.engines` return them and the cache stores them: Eq. 7's rates fitted
    (Eq. 49), Eq. 9's mean rate and Eq. 10 from the run's initial values. A diverged run, one of fewer than
    three records, or ``fitted=False`` is returned unfitted."""
    t = np.arange(arrays["h2"].size, dtype=float)
    traj = _th.Trajectory(t, arrays["h2"], arrays["y2"], arrays["w"])
    measured = Measured(traj, arrays["pair_loss"], float(arrays["dx2"]), float(arrays["dy2"]), float(arrays["m0"]),
                        layer)
    diverged, seconds = bool(arrays["diverged"]), float(arrays["seconds"])
    where = {"loss": arrays["loss"], "seconds": seconds, "layer": layer, "pair": pair}
    if diverged or t.size < 3 or not fitted:    # a diverged run is reported, never fitted
        return TwoPointResult(measured, None, None, float("nan"), diverged, **where)
    return _result.fitted(measured, _result.fit_record(measured), boundary_fails=True, **where)
