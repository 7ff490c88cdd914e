"""Cached entry points for the experiments: train, measure, fit.

A figure asks for a setting (by name and profile, or a :class:`~reptheory.configs.Setting`) and gets the
trained run, the measured curves and the fitted theory; a figure that needs another figure's runs calls
the same function and gets them from :mod:`reptheory.cache`. Sec. 3: :func:`two_point`. Sec. 4:
:func:`mean_rates` and :func:`final_distance` (Fig. 5), :func:`xor` (Fig. 6), :func:`blobs` (Figs. 8, 12),
:func:`mnist` (Figs. 4, 9). Sec. 5: :func:`depth` (Fig. 10). The rich/lazy phase diagram: :func:`phase`.
Independent runs go to worker processes through joblib (:mod:`reptheory.parallel`: ``n_jobs`` workers, by
default ``$REPTHEORY_N_JOBS`` or 2, on the configured backend), each result cached on its own, so an
interrupted sweep resumes where it stopped.
"""
from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass

import numpy as np

from . import cache as _cache
from . import configs as _configs
from . import data as _data
from . import fit as _fit
from . import measure as _measure
from . import parallel as _par
from . import structure as _structure
from . import theory as _th
from . import train as _train

__all__ = ["TwoPointResult", "two_point", "run_many", "summary", "RateEstimate", "mean_rates", "GridPoint",
           "FinalDistanceResult", "final_distance", "XorResult", "xor", "BlobsResult", "blobs", "depth",
           "MnistResult", "mnist", "PhaseResult", "phase"]


@dataclass(frozen=True)
class TwoPointResult:
    """One two-point run with its theory. ``fit``/``mean_fit``/``h_inf`` are ``None`` if it diverged or the
    fit failed (``fit_message`` says which); ``measured`` is ``None`` for a run that diverged at its first
    record (no finite value to measure)."""

    setting: _configs.Setting
    seed: int
    run: _train.Run
    measured: _measure.Measured | None
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


def _desc(setting: _configs.Setting) -> dict:
    """A setting as a cache description: every field that decides a run (the seed is passed on its own)."""
    d = dataclasses.asdict(setting)
    del d["note"], d["seeds"], d["name"]
    return d


def _setting(setting, profile) -> _configs.Setting:
    if isinstance(setting, _configs.Setting):
        if profile is not None:             # a Setting carries its values: a profile would be ignored
            raise ValueError(f"profile={profile!r} applies to setting names, not to a Setting object "
                             f"({setting.name!r}); pass the name, or leave profile unset")
        return setting
    if not isinstance(setting, str):
        raise TypeError(f"setting must be a name or a reptheory.configs.Setting, got {setting!r}")
    return _configs.get(setting, profile)


def _batched(setting: _configs.Setting) -> bool:
    """Two-point runs of ``setting`` train batched over seeds (:func:`train.train_batch`) for full-batch SGD:
    on a GPU (or any device other than the CPU) every architecture, where one run alone leaves the device
    idle; on the CPU the architectures without a numba kernel (the CNN), whose PyTorch steps cost about half
    as much per trial in a batch (``python -m reptheory.bench``)."""
    full_sgd = setting.optimizer == "sgd" and setting.batch_size is None
    return full_sgd and (_train.device() != "cpu" or _train.engine_for(setting) == "torch")


def _batches(items, n_jobs: int | None) -> list[list]:
    """``items`` as one batch on a GPU, or as one interleaved batch per worker on the CPU."""
    items = list(items)
    if _train.device() != "cpu":
        return [items]
    n = min(n_jobs or _par.default_jobs(), len(items))
    return [items[k::n] for k in range(n)]


def _run_desc(setting: _configs.Setting, seed: int) -> dict:
    engine = "torch-batch" if _batched(setting) else _train.engine_for(setting)
    return {"setting": _desc(setting), "seed": seed, "engine": engine}


def _run_arrays(r: _train.Run) -> dict:
    return {"loss": r.loss, "outputs": r.outputs, "dist2": r.dist2, "diverged": r.diverged, "seconds": r.seconds}


def _run(setting: _configs.Setting, seed: int) -> _train.Run:
    X, Y = _data.two_points(setting.dx2, setting.dy2)
    desc = _run_desc(setting, seed)

    def compute():
        if desc["engine"] == "torch-batch":
            return _run_arrays(_train.train_batch(setting, [(X, Y)], [seed])[0])
        return _run_arrays(_train.train(setting, X, Y, seed))

    a = _cache.cached("two_point_run", desc, compute)
    return _train.Run(setting, seed, desc["engine"], X, Y, a["loss"], a["outputs"], a["dist2"],
                      bool(a["diverged"]), float(a["seconds"]))


def _train_runs_batched(setting: _configs.Setting, seeds) -> None:
    """Train the two-point runs of ``seeds`` that the cache lacks in one :func:`train.train_batch` call and
    store each under the key :func:`_run` reads as soon as it has ended (used where :func:`_batched` holds)."""
    X, Y = _data.two_points(setting.dx2, setting.dy2)
    todo = [sd for sd in seeds if not _cache.exists("two_point_run", _run_desc(setting, sd))]
    if todo:
        _train.train_batch(setting, [(X, Y)] * len(todo), todo, done=lambda k, r: _cache.cached(
            "two_point_run", _run_desc(setting, todo[k]), lambda: _run_arrays(r)))


def two_point(setting, seed: int | None = None, profile: str | None = None, layer: int | None = None) -> TwoPointResult:
    """Train (or load) the two-point run of ``setting`` and fit Eq. 7 (Eq. 49) and Eq. 9 to it.

    ``setting`` is a name (looked up in ``profile``) or a :class:`Setting`; ``seed`` defaults to the
    setting's first seed; ``layer`` defaults to its tracked layer."""
    s = _setting(setting, profile)
    seed = s.seeds[0] if seed is None else seed
    return _fit_run(s, seed, _run(s, seed), layer)


def _fit_run(s: _configs.Setting, seed: int, run: _train.Run, layer: int | None) -> TwoPointResult:
    """Measure the pair (0, 1) of ``run`` at ``layer`` and fit Eq. 7 and Eq. 9 to it (cached)."""
    if run.diverged and run.loss.size == 0:
        return TwoPointResult(s, seed, run, None, None, None, None, "diverged at the first record")
    m = _measure.two_point_variables(run, layer)
    if run.diverged:
        return TwoPointResult(s, seed, run, m, None, None, None, "diverged")
    t = m.traj.t
    # the fit entry names the measured curves it was fitted to (their digest): it is never reused for others
    curves = hashlib.sha256(np.ascontiguousarray([t, m.traj.h2, m.traj.y2, m.traj.w]).tobytes()).hexdigest()[:16]
    desc = {"setting": _desc(s), "seed": seed, "layer": m.layer, "curves": curves}

    def compute():
        f = _fit.fit_rates(t, m.traj.h2, m.traj.y2, m.traj.w, m.dx2, m.dy2, raise_on_failure=False,
                           allow_boundary=True)
        if not f.success:
            return {"ok": False, "message": f.message}
        mf = _fit.fit_mean_rate(t, m.loss, f.theory.y2, f.theory.w, m.dy2, m.m0, raise_on_failure=False)
        return {"ok": True, "message": f.message, "eta_h": f.eta_h, "eta_y": f.eta_y, "at_boundary": ",".join(f.at_boundary),
                "eta_ybar": mf.eta_ybar if mf.success else np.nan, "flags": "\n".join(f.flags),
                "unexplained": f.unexplained, "sensitivity": f.sensitivity}

    a = _cache.cached("two_point_fit", desc, compute)
    if not bool(a["ok"]):
        return TwoPointResult(s, seed, run, m, None, None, None, str(a["message"]))
    eh, ey = float(a["eta_h"]), float(a["eta_y"])
    try:                            # the curves the fit reported, integrated as fit_rates integrates them
        tr = _fit.theory_curves(t, (m.traj.h2[0], m.traj.y2[0], m.traj.w[0]), eh, ey, m.dx2, m.dy2)
    except _th.SolveError as exc:
        return TwoPointResult(s, seed, run, m, None, None, None, f"the fitted rates do not integrate: {exc}")
    cost = float(np.sum((m.traj.h2 - tr.h2) ** 2 + (m.traj.y2 - tr.y2) ** 2 + (m.traj.w - tr.w) ** 2))
    dev = {n: _fit.max_relative_deviation(getattr(m.traj, n), getattr(tr, n)) for n in ("h2", "y2", "w")}
    edge = tuple(x for x in str(a["at_boundary"]).split(",") if x)
    flags = tuple(x for x in str(a["flags"]).split("\n") if x)
    f = _fit.RateFit(True, eh, ey, cost, dev, tr, str(a["message"]), at_boundary=edge,
                     unexplained=float(a["unexplained"]), sensitivity=float(a["sensitivity"]), flags=flags)
    mean_fit = None
    if np.isfinite(a["eta_ybar"]):
        curve = _th.loss(t, tr.y2, tr.w, m.dy2, float(a["eta_ybar"]), m.m0)
        mean_fit = _fit.MeanRateFit(True, float(a["eta_ybar"]), float(np.sum((m.loss - curve) ** 2)),
                                    _fit.max_relative_deviation(m.loss, curve), curve, "converged")
    hinf = float(_th.h_inf(m.traj.h2[0], m.traj.y2[0], eh, ey, m.dx2, m.dy2))
    return TwoPointResult(s, seed, run, m, f, mean_fit, hinf, f.message)


def run_many(names, profile: str | None = None, n_jobs: int | None = None, progress: bool | None = None) -> dict[str, TwoPointResult]:
    """:func:`two_point` for several settings (their first seeds) in ``n_jobs`` processes."""
    settings = [_setting(n, profile) for n in names]
    _par.run(_two_point_job, [(s, s.seeds[0]) for s in settings], n_jobs, progress, "two-point runs")
    return {s.name: two_point(s) for s in settings}


def _flag_label(flag: str) -> str:
    """A flag of :func:`fit.fit_rates` without its numbers (a table's note must not hinge on rounding)."""
    return "most of the variation unexplained" if "unexplained" in flag else "rates ill-determined"


def summary(result: TwoPointResult) -> dict:
    """One row of a figure's results table: deviations, rates, final distance against Eq. 10."""
    row = {"setting": result.setting.name, "diverged": result.diverged}
    if result.fit is None:
        row.update({"dev h2": np.nan, "dev y2": np.nan, "dev w": np.nan, "dev loss": np.nan,
                    "eta_h": np.nan, "eta_y": np.nan,
                    "final h2": np.nan if result.measured is None else float(result.measured.traj.h2[-1]),
                    "h_inf (Eq. 10)": np.nan, "note": result.fit_message})
        return row
    d = result.fit.max_rel_dev
    row.update({"dev h2": d["h2"], "dev y2": d["y2"], "dev w": d["w"],
                "dev loss": np.nan if result.mean_fit is None else result.mean_fit.max_rel_dev,
                "eta_h": result.fit.eta_h, "eta_y": result.fit.eta_y,
                "final h2": float(result.measured.traj.h2[-1]), "h_inf (Eq. 10)": result.h_inf,
                "note": "eta_h at the search boundary (frozen encoder)" if "eta_h" in result.fit.at_boundary
                else ("rate at the search boundary" if result.fit.at_boundary
                      else ("not identifiable: " + ", ".join(_flag_label(f) for f in result.fit.flags)
                            if result.fit.flags else ""))})
    return row


# ----------------------------------------------------------------------------------------------------------
# Fig. 5: averaged rates and the final-distance grid (Sec. 4.3, App. B.2)

@dataclass(frozen=True)
class RateEstimate:
    """Rates averaged (arithmetic mean, as the paper) over the usable fits of ``setting``'s seeds.

    A fit is discarded (and listed in ``discarded`` as ``(seed, reason)``) if its run diverged, its final loss
    is above ``configs.FIG5_FIT_MAX_LOSS``, the fit failed, or a rate sits on the search boundary."""

    setting: _configs.Setting
    eta_h: float
    eta_y: float
    used: tuple          # ((seed, eta_h, eta_y), ...)
    discarded: tuple     # ((seed, reason), ...)

    @property
    def spread(self) -> tuple[float, float]:
        """Relative standard deviation of the used fits' ``eta_h`` and ``eta_y`` (0 for one fit)."""
        a = np.array([u[1:] for u in self.used])
        if len(a) < 2:
            return (np.nan, np.nan) if len(a) == 0 else (0.0, 0.0)
        return tuple(float(x) for x in a.std(axis=0) / a.mean(axis=0))


def _two_point_job(setting: _configs.Setting, seed: int) -> None:
    two_point(setting, seed)


def _estimate(s: _configs.Setting) -> RateEstimate:
    used, discarded = [], []
    for seed in s.seeds:
        r = two_point(s, seed)
        if r.diverged:
            discarded.append((seed, "diverged"))
        elif r.run.loss[-1] > _configs.FIG5_FIT_MAX_LOSS:
            discarded.append((seed, f"final loss {r.run.loss[-1]:.2g} > {_configs.FIG5_FIT_MAX_LOSS:g}"))
        elif r.fit is None:
            discarded.append((seed, f"fit failed: {r.fit_message}"))
        elif r.fit.at_boundary:
            discarded.append((seed, f"{', '.join(r.fit.at_boundary)} at the search boundary"))
        elif r.fit.flags:
            discarded.append((seed, f"not identifiable: {'; '.join(r.fit.flags)}"))
        else:
            used.append((seed, r.fit.eta_h, r.fit.eta_y))
    if not used:            # no rates: predictions are NaN and the figure reports why
        return RateEstimate(s, np.nan, np.nan, (), tuple(discarded))
    eh, ey = np.mean([u[1] for u in used]), np.mean([u[2] for u in used])
    return RateEstimate(s, float(eh), float(ey), tuple(used), tuple(discarded))


def mean_rates(setting, profile: str | None = None, n_jobs: int | None = None, progress: bool | None = None) -> RateEstimate:
    """Fit Eq. 7 (Eq. 49) to the two-point run of every seed of ``setting`` (for example
    ``"fig5_fit/default"``) and average the rates; runs and fits come from the cache when present."""
    s = _setting(setting, profile)
    if _batched(s):
        _par.run(_train_runs_batched, [(s, b) for b in _batches(s.seeds, n_jobs)], n_jobs, progress,
                 f"runs {s.name}")
    _par.run(_two_point_job, [(s, seed) for seed in s.seeds], n_jobs, progress, f"fits {s.name}")
    return _estimate(s)


@dataclass(frozen=True)
class GridPoint:
    """One grid run of Fig. 5: ``dx = ||Δx||``, ``dy = ||Δy||``; squared distances at the tracked layer."""

    dx: float
    dy: float
    seed: int
    h2_0: float                 # initial ||Δh||²
    y2_0: float                 # initial ||Δŷ||²
    h2_final: float             # ||Δh||² at the last record
    loss_final: float
    epochs: int                 # updates made (the run stops once the loss is below stop_loss)
    diverged: bool
    seconds: float
    predicted: float = np.nan   # Eq. 10 with the architecture's mean rates and this run's h2_0, y2_0

    @property
    def converged(self) -> bool:
        return not self.diverged and self.loss_final <= _configs.FIG5_MAX_LOSS


def _grid_points(s: _configs.Setting):
    """The 25 (dx, dy, seed) of ``s``'s grid, ``||Δx||`` major."""
    pts = [(dx, dy) for dx in _configs.FIG5_DX for dy in _configs.FIG5_DY]
    if len(s.seeds) < len(pts):
        raise ValueError(f"{s.name}: the grid needs {len(pts)} seeds, the setting has {len(s.seeds)}")
    return [(dx, dy, seed) for (dx, dy), seed in zip(pts, s.seeds)]


def _grid_chunk(s: _configs.Setting, points: list) -> list[dict]:
    """Train (or load) the grid runs ``points``; the torch architectures train together (train_batch)."""
    engine = "numba" if _train.engine_for(s) == "numba" else "torch-batch"
    descs = [{"setting": _desc(s), "dx": dx, "dy": dy, "seed": seed, "engine": engine} for dx, dy, seed in points]

    def summarise(run: _train.Run) -> dict:
        if run.loss.size == 0:      # diverged at the first record: counted as diverged, nothing to measure
            return {"h2_0": np.nan, "y2_0": np.nan, "h2_final": np.nan, "loss_final": np.inf, "epochs": 0,
                    "diverged": True, "seconds": run.seconds}
        m = _measure.two_point_variables(run)
        n = run.loss.size
        return {"h2_0": m.traj.h2[0], "y2_0": m.traj.y2[0], "h2_final": m.traj.h2[-1], "loss_final": run.loss[-1],
                "epochs": n - 1 if not run.diverged else n, "diverged": run.diverged, "seconds": run.seconds}

    def single(dx, dy, seed):
        point = dataclasses.replace(s, dx2=dx**2, dy2=dy**2)
        return summarise(_train.train(point, *_data.two_points(dx**2, dy**2), seed))

    if engine == "numba":
        return [_cache.cached("fig5_grid_run", d, lambda p=p: single(*p)) for d, p in zip(descs, points)]
    missing = [k for k, d in enumerate(descs) if not _cache.exists("fig5_grid_run", d)]
    if missing:                 # each run is stored as soon as it has ended: an interrupted batch keeps them
        _train.train_batch(s, [_data.two_points(points[k][0] ** 2, points[k][1] ** 2) for k in missing],
                           [points[k][2] for k in missing],
                           done=lambda j, run: _cache.cached("fig5_grid_run", descs[missing[j]],
                                                             lambda: summarise(run)))
    return [_cache.cached("fig5_grid_run", d, _missing) for d in descs]


def _missing() -> dict:
    raise RuntimeError("a cache entry written in this call could not be read back")


@dataclass(frozen=True)
class FinalDistanceResult:
    """Fig. 5 for one architecture: its mean rates and its grid runs with predictions."""

    name: str
    rates: RateEstimate
    grid_setting: _configs.Setting
    points: tuple

    def stats(self) -> dict:
        """Pearson r (with its 95 % bootstrap interval, :meth:`r_interval`) and the median |relative error|
        over the converged ``dy > 0`` points, the sum ratio, the ``dy = 0`` points relative to the largest
        ``dy = 1`` value, and the counts."""
        ok = [p for p in self.points if p.converged]
        pos = [p for p in ok if p.dy > 0]
        meas = np.array([p.h2_final for p in pos])
        pred = np.array([p.predicted for p in pos])
        top = max([p.h2_final for p in ok if p.dy == max(_configs.FIG5_DY)], default=np.nan)
        zero = [p for p in ok if p.dy == 0]
        lo, hi = self.r_interval()
        return {
            "setting": self.name,
            "pearson r": float(np.corrcoef(pred, meas)[0, 1]) if len(pos) > 2 else np.nan,
            "r 95% low": lo,
            "r 95% high": hi,
            "median |rel err|": float(np.median(np.abs(pred - meas) / meas)) if pos else np.nan,
            "sum pred / sum meas": float(pred.sum() / meas.sum()) if pos else np.nan,
            "dy=0 max meas / top": float(max(p.h2_final for p in zero) / top) if zero else np.nan,
            "dy=0 max pred / top": float(max(p.predicted for p in zero) / top) if zero else np.nan,
            "unconverged": sum(not p.converged for p in self.points),
            "diverged": sum(p.diverged for p in self.points),
            "fits used": len(self.rates.used),
            "fits discarded": len(self.rates.discarded),
        }

    def r_interval(self, level: float = 0.95, n_boot: int = 4000, seed: int = 0) -> tuple[float, float]:
        """Percentile bootstrap interval of Pearson r over the converged ``dy > 0`` grid points.

        Each grid point is its own network (its own seed), so resampling the points with replacement
        resamples seeds: the interval says how far r could move on another draw of the grid's seeds (or on
        another CPU, whose rounding changes the chaotic runs). ``(nan, nan)`` with fewer than 4 points."""
        pos = [p for p in self.points if p.converged and p.dy > 0]
        if len(pos) < 4:
            return (np.nan, np.nan)
        meas = np.array([p.h2_final for p in pos])
        pred = np.array([p.predicted for p in pos])
        idx = np.random.default_rng(seed).integers(0, len(pos), (n_boot, len(pos)))
        m, q = meas[idx], pred[idx]
        m, q = m - m.mean(1, keepdims=True), q - q.mean(1, keepdims=True)
        den = np.sqrt((m**2).sum(1) * (q**2).sum(1))
        r = (m * q).sum(1)[den > 0] / den[den > 0]
        a = 100 * (1 - level) / 2
        return tuple(float(v) for v in np.percentile(r, [a, 100 - a]))

    def scaling(self) -> dict:
        """Least-squares exponents of ``h2_final ≈ c ||Δx||^a ||Δy||^b`` over the converged ``dy > 0``
        points (the rich limit of Eq. 10, ``A_low``, has ``a = b = 1``), with the fit's rms log-residual."""
        pos = [p for p in self.points if p.converged and p.dy > 0]
        if len(pos) < 4:
            return {"a (dx)": np.nan, "b (dy)": np.nan, "rms log residual": np.nan}
        A = np.array([[1.0, np.log(p.dx), np.log(p.dy)] for p in pos])
        z = np.log([p.h2_final for p in pos])
        coef, *_ = np.linalg.lstsq(A, z, rcond=None)
        return {"a (dx)": float(coef[1]), "b (dy)": float(coef[2]),
                "rms log residual": float(np.sqrt(np.mean((A @ coef - z) ** 2)))}


def final_distance(names, profile: str | None = None, n_jobs: int | None = None, progress: bool | None = None,
                   ) -> dict[str, FinalDistanceResult]:
    """Fig. 5 for every row in ``names`` (``"default"``, ``"skip"``, …, or ``"default_w100"``): the fits of
    ``fig5_fit/<row>``, the grid of ``fig5_grid/<row>``, and Eq. 10's prediction for each grid run from the
    row's mean rates and the run's own initial ``h2``, ``y2``. All runs go to ``n_jobs`` processes at once."""
    names = [names] if isinstance(names, str) else list(names)
    fits = {n: _configs.get(f"fig5_fit/{n}", profile) for n in names}
    grids = {n: _configs.get(f"fig5_grid/{n}", profile) for n in names}
    jobs = []
    for n in names:
        pts = _grid_points(grids[n])
        if _batched(fits[n]):       # a row's fit runs and its grid train in batches (one per CPU worker)
            jobs += [("train fits", fits[n], b) for b in _batches(fits[n].seeds, n_jobs)]
            jobs += [("grid", grids[n], b) for b in _batches(pts, n_jobs)]
            continue
        jobs += [("fit", fits[n], seed) for seed in fits[n].seeds]
        if _train.engine_for(grids[n]) == "numba":
            jobs += [("grid", grids[n], [p]) for p in pts]
        else:           # two batches, one per worker
            half = (len(pts) + 1) // 2
            jobs += [("grid", grids[n], pts[:half]), ("grid", grids[n], pts[half:])]
    # longest first: torch batches, then the widest nets
    jobs.sort(key=lambda j: -(j[1].width * j[1].hidden_layers * (50 if j[0] == "grid" and len(j[2]) > 1 else 1)))
    _par.run(_fig5_job, jobs, n_jobs, progress, "Fig. 5 runs")
    fit_jobs = [("fit", fits[n], seed) for n in names if _batched(fits[n]) for seed in fits[n].seeds]
    if fit_jobs:                    # the batched runs are in the cache: fit them in parallel on the CPU
        _par.run(_fig5_job, fit_jobs, n_jobs, progress, "Fig. 5 fits")
    out = {}
    for n in names:
        rates = _estimate(fits[n])
        pts = []
        for (dx, dy, seed), a in zip(_grid_points(grids[n]), _grid_chunk(grids[n], _grid_points(grids[n]))):
            pred = (float(_th.h_inf(float(a["h2_0"]), float(a["y2_0"]), rates.eta_h, rates.eta_y, dx**2, dy**2))
                    if rates.used and np.isfinite(a["h2_0"]) else np.nan)
            pts.append(GridPoint(dx, dy, seed, float(a["h2_0"]), float(a["y2_0"]), float(a["h2_final"]),
                                 float(a["loss_final"]), int(a["epochs"]), bool(a["diverged"]), float(a["seconds"]),
                                 pred))
        out[n] = FinalDistanceResult(n, rates, grids[n], tuple(pts))
    return out


def _fig5_job(kind, s, arg):
    if kind == "fit":
        two_point(s, arg)
    elif kind == "train fits":
        _train_runs_batched(s, arg)
    else:
        _grid_chunk(s, arg)


# ----------------------------------------------------------------------------------------------------------
# Fig. 6: XOR (Sec. 4.4)

@dataclass(frozen=True)
class XorResult:
    """One XOR run: hidden distance matrices (Euclidean) at the tracked layer before and after training,
    and the theory's matrix from ``rates`` and the run's own initial distances (Eq. 10-11 per pair)."""

    setting: _configs.Setting
    seed: int
    run: _train.Run
    D0: np.ndarray
    D_end: np.ndarray
    D_theory: np.ndarray
    rates: RateEstimate

    @property
    def ratios(self) -> dict:
        """Same-output distance over the mean different-output distance, at the end, per same-output pair."""
        return _structure.pair_ratios(self.D_end, self.run.Y)

    @property
    def ratios_0(self) -> dict:
        return _structure.pair_ratios(self.D0, self.run.Y)

    @property
    def theory_ratios(self) -> dict:
        return _structure.pair_ratios(self.D_theory, self.run.Y)

    @property
    def separation(self) -> float:
        """Smallest different-output distance over the largest same-output distance, after training."""
        same = [self.D_end[i, j] for i, j in _structure.pair_ratios(self.D_end, self.run.Y)]
        n = len(self.D_end)
        diff = [self.D_end[i, j] for i in range(n) for j in range(i + 1, n)
                if not np.allclose(self.run.Y[i], self.run.Y[j])]
        return float(min(diff) / max(same))

    @property
    def change(self) -> tuple[float, float]:
        """Relative change of the trained matrix against the initial one: (Frobenius, largest entry)."""
        return _structure.relative_change(self.D_end, self.D0)


def _xor_job(s: _configs.Setting, seed: int) -> None:
    _xor_run(s, seed)


def _xor_run(s: _configs.Setting, seed: int) -> _train.Run:
    X, Y = _data.xor()
    desc = {"setting": _desc(s), "seed": seed, "engine": _train.engine_for(s)}

    def compute():
        r = _train.train(s, X, Y, seed)
        return {"loss": r.loss, "outputs": r.outputs, "dist2": r.dist2[:, s.layer], "diverged": r.diverged,
                "seconds": r.seconds}

    a = _cache.cached("xor_run", desc, compute)
    return _train.Run(s, seed, _train.engine_for(s), X, Y, a["loss"], a["outputs"], a["dist2"][:, None],
                      bool(a["diverged"]), float(a["seconds"]))


def xor(setting, rates: RateEstimate, profile: str | None = None, n_jobs: int | None = None,
        progress: bool | None = None) -> list[XorResult]:
    """Train (or load) the XOR runs of ``setting`` (one per seed) and the theory's final distance matrix
    from ``rates`` (for the paper: :func:`mean_rates` of ``"fig5_fit/default"``). The recorded layer of
    the returned runs is the setting's tracked layer only (``run.dist2[:, 0]``)."""
    s = _setting(setting, profile)
    if s.dataset != "xor":
        raise ValueError(f"setting {s.name!r} has dataset {s.dataset!r}, not 'xor'")
    _par.run(_xor_job, [(s, seed) for seed in s.seeds], n_jobs, progress, f"XOR {s.name}")
    out = []
    X, Y = _data.xor()
    dx2 = np.sum((X[:, None] - X[None]) ** 2, axis=-1).astype(float)
    dy2 = np.sum((Y[:, None] - Y[None]) ** 2, axis=-1).astype(float)
    for seed in s.seeds:
        run = _xor_run(s, seed)
        d2 = run.dist2[:, 0]
        o = run.outputs[0]
        y2_0 = np.sum((o[:, None] - o[None]) ** 2, axis=-1)
        th = _structure.predicted_distances(d2[0], y2_0, dx2, dy2, rates.eta_h, rates.eta_y)
        out.append(XorResult(s, seed, run, np.sqrt(d2[0]), np.sqrt(d2[-1]), th, rates))
    return out


# ----------------------------------------------------------------------------------------------------------
# Figs. 7, 8, 12: blobs (Sec. 4.5, App. C.2)

@dataclass(frozen=True)
class BlobsResult:
    """One blob run: the loss every epoch and the tracked layer's activations before and after training."""

    setting: _configs.Setting
    seed: int
    data: _data.Blobs
    loss: np.ndarray
    H0: np.ndarray
    H_end: np.ndarray
    diverged: bool
    seconds: float

    def measures(self, which: str = "end") -> dict:
        """Within-context ratio and η² per context, merge ratio, participation ratio per context."""
        H = self.H_end if which == "end" else self.H0
        d = self.data
        ratio = _structure.within_context_ratio(H, d.context, d.relevant)
        eta2 = _structure.eta_squared(H, d.context, d.relevant)
        pr = {c: _structure.participation_ratio(H[d.context == c]) for c in (0, 1)}
        return {"ratio": ratio, "eta2": eta2, "merge": _structure.merge_ratio(H, d.context, d.relevant), "pr": pr}


def _blobs_run(s: _configs.Setting, seed: int) -> dict:
    b = _data.blobs()
    desc = {"setting": _desc(s), "seed": seed}

    def compute():
        r = _train.train(s, b.X, b.Y, seed, record="ends")
        return {"loss": r.loss, "H0": r.hidden[0, s.layer], "H_end": r.hidden[1, s.layer], "diverged": r.diverged,
                "seconds": r.seconds}

    return _cache.cached("blobs_run", desc, compute)


def _blobs_job(s: _configs.Setting, seed: int) -> None:
    _blobs_run(s, seed)


def blobs(settings, profile: str | None = None, n_jobs: int | None = None, progress: bool | None = None) -> dict:
    """Train (or load) every seed of each blob setting (names or Settings) in ``n_jobs`` processes;
    returns ``{name: [BlobsResult per seed]}``."""
    ss = [_setting(x, profile) for x in ([settings] if isinstance(settings, (str, _configs.Setting)) else settings)]
    for s in ss:
        if s.dataset != "blobs":
            raise ValueError(f"setting {s.name!r} has dataset {s.dataset!r}, not 'blobs'")
    jobs = [(s, seed) for s in ss for seed in s.seeds]
    jobs.sort(key=lambda j: -j[0].epochs)
    _par.run(_blobs_job, jobs, n_jobs, progress, "blob runs")
    b = _data.blobs()
    out = {}
    for s in ss:
        out[s.name] = []
        for seed in s.seeds:
            a = _blobs_run(s, seed)
            out[s.name].append(BlobsResult(s, seed, b, a["loss"], a["H0"].astype(float), a["H_end"].astype(float),
                                           bool(a["diverged"]), float(a["seconds"])))
    return out


# ----------------------------------------------------------------------------------------------------------
# Fig. 10: the fit at every depth (Sec. 5)

def _layer_job(s: _configs.Setting, seed: int, layer: int) -> None:
    two_point(s, seed, layer=layer)


def depth(setting, profile: str | None = None, n_jobs: int | None = None, progress: bool | None = None) -> list[TwoPointResult]:
    """The two-point run of ``setting`` (its first seed) fitted separately at every hidden layer
    ``0 … n_tracked − 1`` (one training run, one Eq. 49 fit per layer, in ``n_jobs`` processes)."""
    s = _setting(setting, profile)
    seed = s.seeds[0]
    two_point(s, seed)                                   # train once before the fits fan out
    layers = list(range(s.n_tracked))
    _par.run(_layer_job, [(s, seed, l) for l in layers], n_jobs, progress, f"fits per layer {s.name}")
    return [two_point(s, seed, layer=l) for l in layers]


# ----------------------------------------------------------------------------------------------------------
# Figs. 4 and 9: MNIST (Sec. 3.4, 4.6)

#: the images whose hidden distances Fig. 9 compares (the first 100 of the data order)
MNIST_FIRST = 100


@dataclass(frozen=True)
class MnistResult:
    """One MNIST network: the loss every epoch, the fitted two-point theory of the first "0" and the first
    "1" (Fig. 4), and the tracked layer's activations of the first :data:`MNIST_FIRST` images after training
    (Fig. 9)."""

    setting: _configs.Setting
    seed: int
    source: str
    loss: np.ndarray
    pair: tuple
    two_point: TwoPointResult
    H_first: np.ndarray
    labels_first: np.ndarray
    seconds: float


def _mnist_run(s: _configs.Setting, seed: int) -> dict:
    m = _data.load_mnist()
    pair = (m.first(0), m.first(1))
    desc = {"setting": _desc(s), "seed": seed, "data": m.source, "pair": pair}

    def compute():
        r = _train.train(s, m.normalised(), m.one_hot(), seed, record="ends", track=pair)
        return {"loss": r.loss, "outputs": r.outputs, "dist2": r.dist2, "diverged": r.diverged,
                "H_first": r.hidden[1, s.layer, :MNIST_FIRST], "seconds": r.seconds}

    return _cache.cached("mnist_run", desc, compute)


def _mnist_job(s: _configs.Setting, seed: int) -> None:
    _mnist_run(s, seed)


def mnist(setting, profile: str | None = None, n_jobs: int | None = None, progress: bool | None = None) -> list[MnistResult]:
    """Train (or load) the MNIST networks of ``setting`` (one per seed) on :func:`reptheory.data.load_mnist`,
    tracking the first "0" and the first "1" every epoch, and fit Eq. 7 to that pair (Fig. 4)."""
    s = _setting(setting, profile)
    if s.dataset != "mnist":
        raise ValueError(f"setting {s.name!r} has dataset {s.dataset!r}, not 'mnist'")
    _par.run(_mnist_job, [(s, seed) for seed in s.seeds], n_jobs, progress, f"MNIST {s.name}")
    m = _data.load_mnist()
    pair = (m.first(0), m.first(1))
    X, Y = m.normalised()[list(pair)], m.one_hot()[list(pair)]
    out = []
    for seed in s.seeds:
        a = _mnist_run(s, seed)
        run = _train.Run(s, seed, "torch", X, Y, a["loss"], a["outputs"], a["dist2"], bool(a["diverged"]),
                         float(a["seconds"]))
        out.append(MnistResult(s, seed, m.source, a["loss"], pair, _fit_run(s, seed, run, None),
                               a["H_first"].astype(float), np.asarray(m.labels[:MNIST_FIRST]), float(a["seconds"])))
    return out


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


def _phase_fit_job(s: _configs.Setting, seed: int, layer: int) -> None:
    two_point(s, seed, layer=layer)


def phase(profile: str | None = None, n_jobs: int | None = None, progress: bool | None = None, n_dy: int = 61) -> PhaseResult:
    """Train (or load) :data:`~reptheory.configs.PHASE_ROWS` × :data:`~reptheory.configs.PHASE_DY2`, fit Eq. 7
    at every layer of :data:`~reptheory.configs.PHASE_LAYERS` on the ``||Δy||² = 0.5`` run of each gain, and
    evaluate Eq. 10 on a ``||Δy||`` grid from 0.25 to 2 (``n_dy`` points, log-spaced)."""
    rows, layers = _configs.PHASE_ROWS, _configs.PHASE_LAYERS
    grid = {(r, d): _setting(_configs.phase_name(r, d), profile) for r in rows for d in _configs.PHASE_DY2}
    _par.run(_two_point_job, [(s, s.seeds[0]) for s in grid.values()], n_jobs, progress, "phase runs")
    ref = {r: grid[(r, _configs.TABLE1[r].dy2)] for r in rows}
    _par.run(_phase_fit_job, [(ref[r], ref[r].seeds[0], l) for r in rows for l in layers], n_jobs, progress,
              "phase fits")
    dy = np.geomspace(0.25, 2.0, n_dy)
    shape = (len(layers), len(rows))
    eh, ey, ok = np.full(shape, np.nan), np.full(shape, np.nan), np.zeros(shape, bool)
    hinf, alow, ahigh = (np.full(shape + (n_dy,), np.nan) for _ in range(3))
    for g, r in enumerate(rows):
        for l, layer in enumerate(layers):
            res = two_point(ref[r], layer=layer)
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
        run = _run(s, s.seeds[0])
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
