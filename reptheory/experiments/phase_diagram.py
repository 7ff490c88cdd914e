"""The rich/lazy phase diagram: Eq. 10 over (initial gain, ||Δy||), per tracked layer, against trained nets."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reptheory import configs as _configs
from reptheory import parallel as _par
from reptheory.experiments.runs import _setting, two_point
from reptheory.networks import measure as _measure
from reptheory.theory import ode as _th


# ----------------------------------------------------------------------------------------------------------
# The rich/lazy phase diagram: Eq. 10 over (initial gain, ||Δy||), per tracked layer, against trained nets

@dataclass(frozen=True)
class PhaseResult:
    """:func:`phase`'s output. Axes: ``layers`` × ``gains`` × ``dy`` (``||Δy||``, a fine grid).

    ``h_inf[l, g, k]`` is Eq. 10 with the rates fitted at ``||Δy||² = 0.5`` (layer ``layers[l]``, gain
    ``gains[g]``) and the network's initial ``h2``, ``y2`` at that layer (the initialisation does not depend
    on the targets, and Eq. 10 does not depend on ``w_0``);
    ``a_low``/``a_high`` the rich and lazy terms (Eq. 11) on the same grid. ``points`` has one row per trained
    network and layer: ``row``, ``gain``, ``dy``, ``layer``, ``h2_final`` (measured at the last epoch),
    ``h2_pred`` (Eq. 10 at that point: a prediction for ``||Δy||² ≠ 0.5``, where nothing was fitted),
    ``h2_0``, ``loss_final``, ``diverged``, ``fitted`` (whether this run gave the rates)."""

    rows: tuple
    gains: np.ndarray
    layers: tuple
    dy: np.ndarray
    eta_h: np.ndarray          # (layers, gains)
    eta_y: np.ndarray
    fit_ok: np.ndarray         # (layers, gains) bool: the fit converged inside the search box
    h_inf: np.ndarray          # (layers, gains, dy)
    a_low: np.ndarray
    a_high: np.ndarray
    points: list

    def held_out(self, layer: int) -> list:
        """Points at ``layer`` whose ``||Δy||²`` was not used for the rates, trained and not diverged."""
        return [p for p in self.points if p["layer"] == layer and not p["fitted"] and not p["diverged"]
                and np.isfinite(p["h2_pred"])]

    def at(self, layer: int, row: str) -> list:
        """The points of ``row`` at ``layer``, in increasing ``||Δy||``."""
        return sorted((p for p in self.points if p["layer"] == layer and p["row"] == row), key=lambda p: p["dy"])

    def checks(self, rich_rows=("gain_0.9", "default"), lazy_row: str = "gain_1.3", rich_layer: int = 10,
               lazy_layer: int = 2) -> "PhaseChecks":
        """The numbers the phase diagram's claims rest on (:class:`PhaseChecks`): the runs converged; in the
        rich regime (``rich_rows`` at ``rich_layer``) the final distance grows far beyond its initial value
        and increases with ``||Δy||``; in the lazy regime (``lazy_row`` at ``lazy_layer``) it stays put and
        Eq. 10 predicts it; Eq. 10 predicts the held-out networks (``||Δy||² ≠ 0.5``) of the rows whose fit
        converged; and the exponent of the final distance in ``||Δy||`` per such row."""
        rich = {r: self.at(rich_layer, r) for r in rich_rows}
        lazy = self.at(lazy_layer, lazy_row)
        l = self.layers.index(rich_layer)
        ok_rows = {r for g, r in enumerate(self.rows) if self.fit_ok[l, g]}
        held = [p for p in self.held_out(rich_layer) if p["row"] in ok_rows]
        slope = {}
        for row in ok_rows:
            pts = self.at(rich_layer, row)
            slope[row] = float(np.polyfit(np.log([p["dy"] for p in pts]), np.log([p["h2_final"] for p in pts]), 1)[0])
        return PhaseChecks(
            any_diverged=any(p["diverged"] for p in self.points),
            worst_loss=max(p["loss_final"] for p in self.points),
            rich_growth={r: min(p["h2_final"] / p["h2_0"] for p in pts) for r, pts in rich.items()},
            rich_finals={r: [p["h2_final"] for p in pts] for r, pts in rich.items()},
            lazy_change=max(abs(p["h2_final"] / p["h2_0"] - 1) for p in lazy),
            lazy_error=max(abs(p["h2_pred"] / p["h2_final"] - 1) for p in lazy),
            held_out_gains=sorted({p["gain"] for p in held}),
            held_out_errors=[abs(p["h2_pred"] / p["h2_final"] - 1) for p in held],
            exponents=slope)


@dataclass(frozen=True)
class PhaseChecks:
    """What :meth:`PhaseResult.checks` measured."""

    any_diverged: bool
    worst_loss: float             # largest final loss over every network
    rich_growth: dict             # rich row -> smallest final / initial ||Δh||² over ||Δy||
    rich_finals: dict             # rich row -> final ||Δh||² in increasing ||Δy||
    lazy_change: float            # largest |final / initial − 1| of the lazy row
    lazy_error: float             # largest |Eq. 10 / final − 1| of the lazy row
    held_out_gains: list          # gains of the held-out networks whose row's fit converged
    held_out_errors: list         # their |Eq. 10 / final − 1|
    exponents: dict               # row -> least-squares exponent of the final distance in ||Δy|| (rich limit: 1)

    @property
    def rich_increasing(self) -> bool:
        """Whether every rich row's final distance increases with ``||Δy||``."""
        return all(a < b for f in self.rich_finals.values() for a, b in zip(f, f[1:]))


def phase(profile: str | None = None, n_jobs: int | None = None, progress: bool | None = None, n_dy: int = 61) -> PhaseResult:
    """Train (or load) :data:`~reptheory.configs.PHASE_ROWS` × :data:`~reptheory.configs.PHASE_DY2`, fit Eq. 7
    at every layer of :data:`~reptheory.configs.PHASE_LAYERS` on the ``||Δy||² = 0.5`` run of each gain, and
    evaluate Eq. 10 on a ``||Δy||`` grid from 0.25 to 2 (``n_dy`` points, log-spaced)."""
    rows, layers = _configs.PHASE_ROWS, _configs.PHASE_LAYERS
    grid = {(r, d): _setting(_configs.phase_name(r, d), profile) for r in rows for d in _configs.PHASE_DY2}
    runs = dict(zip(grid, _par.run(two_point, [(s, s.seeds[0]) for s in grid.values()], n_jobs, progress,
                                   "phase runs")))
    ref = {r: grid[(r, _configs.TABLE1[r].dy2)] for r in rows}
    fits = dict(zip([(r, layer) for r in rows for layer in layers],
                    _par.run(two_point, [(ref[r], ref[r].seeds[0], None, layer) for r in rows for layer in layers],
                             n_jobs, progress, "phase fits")))
    dy = np.geomspace(0.25, 2.0, n_dy)
    shape = (len(layers), len(rows))
    eh, ey, ok = np.full(shape, np.nan), np.full(shape, np.nan), np.zeros(shape, bool)
    hinf, alow, ahigh = (np.full(shape + (n_dy,), np.nan) for _ in range(3))
    for g, r in enumerate(rows):
        for l, layer in enumerate(layers):
            res = fits[r, layer]
            m = res.measured
            if res.fit is None:
                continue
            ok[l, g] = not res.fit.at_boundary
            eh[l, g], ey[l, g] = res.fit.eta_h, res.fit.eta_y
            h0, y0 = m.traj.h2[0], m.traj.y2[0]
            hinf[l, g] = _th.h_inf(h0, y0, eh[l, g], ey[l, g], m.dx2, dy**2)
            alow[l, g] = _th.a_low(eh[l, g], ey[l, g], m.dx2, dy**2)
            ahigh[l, g] = _th.a_high(h0, y0, eh[l, g], ey[l, g], m.dx2)
    points = []
    for (r, d), s in grid.items():
        g = rows.index(r)
        run = runs[r, d].run
        for l, layer in enumerate(layers):
            m = _measure.two_point_variables(run, layer)
            pred = np.nan
            if np.isfinite(eh[l, g]) and not run.diverged:
                pred = float(_th.h_inf(m.traj.h2[0], m.traj.y2[0], eh[l, g], ey[l, g], m.dx2, m.dy2))
            points.append({"row": r, "gain": s.gain, "dy": float(np.sqrt(d)), "layer": layer,
                           "h2_final": float(m.traj.h2[-1]), "h2_pred": pred, "h2_0": float(m.traj.h2[0]),
                           "loss_final": float(run.loss[-1]), "diverged": run.diverged,
                           "fitted": d == _configs.TABLE1[r].dy2})
    gains = np.array([_configs.TABLE1[r].gain for r in rows])
    return PhaseResult(rows, gains, layers, dy, eh, ey, ok, hinf, alow, ahigh, points)
