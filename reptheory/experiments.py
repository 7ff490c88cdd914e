"""Cached entry points for the two-point experiments (paper Sec. 3): train, measure, fit.

A figure asks for a setting (by name and profile, or a :class:`~reptheory.configs.Setting`) and gets the
trained run, the measured curves and the fitted theory; a figure that needs another figure's runs calls
the same function and gets them from :mod:`reptheory.cache`.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from . import cache as _cache
from . import configs as _configs
from . import data as _data
from . import fit as _fit
from . import measure as _measure
from . import theory as _th
from . import train as _train

__all__ = ["TwoPointResult", "two_point", "run_many", "summary"]


@dataclass(frozen=True)
class TwoPointResult:
    """One two-point run with its theory. ``fit``/``mean_fit``/``h_inf`` are ``None`` if it diverged or the
    fit failed (``fit_message`` says which)."""

    setting: _configs.Setting
    seed: int
    run: _train.Run
    measured: _measure.Measured
    fit: _fit.RateFit | None
    mean_fit: _fit.MeanRateFit | None
    h_inf: float | None
    fit_message: str

    @property
    def diverged(self) -> bool:
        return self.run.diverged

    @property
    def loss_theory(self) -> np.ndarray | None:
        return None if self.mean_fit is None else self.mean_fit.theory


def _run(setting: _configs.Setting, seed: int) -> _train.Run:
    X, Y = _data.two_points(setting.dx2, setting.dy2)
    desc = {"setting": dataclasses.asdict(setting) | {"note": ""}, "seed": seed, "engine": _train.engine_for(setting)}

    def compute():
        r = _train.train(setting, X, Y, seed)
        return {"loss": r.loss, "outputs": r.outputs, "dist2": r.dist2, "diverged": r.diverged,
                "seconds": r.seconds}

    a = _cache.cached("two_point_run", desc, compute)
    return _train.Run(setting, seed, _train.engine_for(setting), X, Y, a["loss"], a["outputs"], a["dist2"],
                      bool(a["diverged"]), float(a["seconds"]))


def two_point(setting, seed: int | None = None, profile: str | None = None, layer: int | None = None) -> TwoPointResult:
    """Train (or load) the two-point run of ``setting`` and fit Eq. 7 (Eq. 49) and Eq. 9 to it.

    ``setting`` is a name (looked up in ``profile``) or a :class:`Setting`; ``seed`` defaults to the
    setting's first seed; ``layer`` defaults to its tracked layer."""
    s = _configs.get(setting, profile) if isinstance(setting, str) else setting
    seed = s.seeds[0] if seed is None else seed
    run = _run(s, seed)
    m = _measure.two_point_variables(run, layer)
    if run.diverged:
        return TwoPointResult(s, seed, run, m, None, None, None, "diverged")
    t = m.traj.t
    desc = {"setting": dataclasses.asdict(s) | {"note": ""}, "seed": seed, "layer": m.layer}

    def compute():
        f = _fit.fit_rates(t, m.traj.h2, m.traj.y2, m.traj.w, m.dx2, m.dy2, raise_on_failure=False,
                           allow_boundary=True)
        if not f.success:
            return {"ok": False, "message": f.message}
        mf = _fit.fit_mean_rate(t, m.loss, f.theory.y2, f.theory.w, m.dy2, m.m0, raise_on_failure=False)
        return {"ok": True, "message": f.message, "eta_h": f.eta_h, "eta_y": f.eta_y, "at_boundary": ",".join(f.at_boundary),
                "eta_ybar": mf.eta_ybar if mf.success else np.nan}

    a = _cache.cached("two_point_fit", desc, compute)
    if not bool(a["ok"]):
        return TwoPointResult(s, seed, run, m, None, None, None, str(a["message"]))
    eh, ey = float(a["eta_h"]), float(a["eta_y"])
    tr = _th.solve(t, m.traj.h2[0], m.traj.y2[0], m.traj.w[0], eh, ey, m.dx2, m.dy2)
    cost = float(np.sum((m.traj.h2 - tr.h2) ** 2 + (m.traj.y2 - tr.y2) ** 2 + (m.traj.w - tr.w) ** 2))
    dev = {n: _fit.max_relative_deviation(getattr(m.traj, n), getattr(tr, n)) for n in ("h2", "y2", "w")}
    edge = tuple(x for x in str(a["at_boundary"]).split(",") if x)
    f = _fit.RateFit(True, eh, ey, cost, dev, tr, str(a["message"]), at_boundary=edge)
    mean_fit = None
    if np.isfinite(a["eta_ybar"]):
        curve = _th.loss(t, tr.y2, tr.w, m.dy2, float(a["eta_ybar"]), m.m0)
        mean_fit = _fit.MeanRateFit(True, float(a["eta_ybar"]), float(np.sum((m.loss - curve) ** 2)),
                                    _fit.max_relative_deviation(m.loss, curve), curve, "converged")
    hinf = float(_th.h_inf(m.traj.h2[0], m.traj.y2[0], eh, ey, m.dx2, m.dy2))
    return TwoPointResult(s, seed, run, m, f, mean_fit, hinf, f.message)


def run_many(names, profile: str | None = None, progress: bool = False) -> dict[str, TwoPointResult]:
    """:func:`two_point` for several settings, with an optional tqdm progress bar."""
    from tqdm.auto import tqdm
    return {n: two_point(n, profile=profile) for n in tqdm(list(names), disable=not progress, desc="two-point runs")}


def summary(result: TwoPointResult) -> dict:
    """One row of a figure's results table: deviations, rates, final distance against Eq. 10."""
    row = {"setting": result.setting.name, "diverged": result.diverged}
    if result.fit is None:
        row.update({"dev h2": np.nan, "dev y2": np.nan, "dev w": np.nan, "dev loss": np.nan,
                    "eta_h": np.nan, "eta_y": np.nan, "final h2": float(result.measured.traj.h2[-1]),
                    "h_inf (Eq. 10)": np.nan, "note": result.fit_message})
        return row
    d = result.fit.max_rel_dev
    row.update({"dev h2": d["h2"], "dev y2": d["y2"], "dev w": d["w"],
                "dev loss": np.nan if result.mean_fit is None else result.mean_fit.max_rel_dev,
                "eta_h": result.fit.eta_h, "eta_y": result.fit.eta_y,
                "final h2": float(result.measured.traj.h2[-1]), "h_inf (Eq. 10)": result.h_inf,
                "note": "eta_h at the search boundary (frozen encoder)" if "eta_h" in result.fit.at_boundary
                else ("rate at the search boundary" if result.fit.at_boundary else "")})
    return row
