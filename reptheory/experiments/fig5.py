"""Fig. 5 (Sec. 4.3, App. B.2): the rates averaged over fits, and the final-distance grid against Eq. 10."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from reptheory import cache as _cache
from reptheory import configs as _configs
from reptheory import parallel as _par
from reptheory.experiments.runs import _batches, _setting, _train_runs_batched, two_point
from reptheory.networks import data as _data
from reptheory.networks import models as _models
from reptheory.networks import train as _train
from reptheory.theory import ode as _th


# ----------------------------------------------------------------------------------------------------------
# Fig. 5: averaged rates and the final-distance grid (Sec. 4.3, App. B.2)

@dataclass(frozen=True)
class RateEstimate:
    """Rates averaged (arithmetic mean, as the paper) over the usable fits of ``setting``'s seeds.

    A fit is discarded (and listed in ``discarded`` as ``(seed, reason)``) by the rule of
    :func:`estimate_rates`."""

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


def estimate_rates(setting: _configs.Setting | None, fits) -> RateEstimate:
    """Fig. 5's rates from the fits of Eq. 7 to the reference pair, one
    :class:`~reptheory.experiments.result.TwoPointResult` per seed (``fits``: ``(seed, result)`` pairs): the
    arithmetic mean of the rates of the usable fits. A fit is discarded, with its reason, if its run diverged,
    did not converge (its final loss above ``configs.FIG5_PROTOCOL.fit_max_loss``), the fit failed, a
    rate sits on the search boundary, or the data do not decide the rates (the fit's flags). The one rule of
    the paper's figures (:func:`mean_rates`) and of the lab's protocol
    (:func:`reptheory.lab.protocol.probe_grid`); ``setting`` is the paper's setting, ``None`` for a model of the
    lab. Without a usable fit the rates are NaN."""
    used, discarded = [], []
    for seed, r in fits:
        if r.diverged:
            discarded.append((seed, "diverged"))
        elif not r.converged:
            discarded.append((seed, f"final loss {r.measured.loss[-1]:.2g} > {_configs.FIG5_PROTOCOL.fit_max_loss:g}"))
        elif r.fit is None:
            discarded.append((seed, f"fit failed: {r.fit_message}"))
        elif r.fit.at_boundary:
            discarded.append((seed, f"{', '.join(r.fit.at_boundary)} at the search boundary"))
        elif r.fit.flags:
            discarded.append((seed, f"not identifiable: {'; '.join(r.fit.flags)}"))
        else:
            used.append((seed, r.fit.eta_h, r.fit.eta_y))
    if not used:            # no rates: predictions are NaN and the figure reports why
        return RateEstimate(setting, np.nan, np.nan, (), tuple(discarded))
    eh, ey = np.mean([u[1] for u in used]), np.mean([u[2] for u in used])
    return RateEstimate(setting, float(eh), float(ey), tuple(used), tuple(discarded))


def mean_rates(setting, profile: str | None = None, n_jobs: int | None = None, progress: bool | None = None) -> RateEstimate:
    """Fit Eq. 7 (Eq. 49) to the two-point run of every seed of ``setting`` (for example
    ``"fig5_fit/default"``) and average the rates; runs and fits come from the cache when present."""
    s = _setting(setting, profile)
    if _train.batched(s):           # the runs train in batches and are stored; the fits below load them
        _par.run(_train_runs_batched, [(s, b) for b in _batches(s.seeds, n_jobs)], n_jobs, progress,
                 f"runs {s.name}", keep=False)
    fits = _par.run(two_point, [(s, seed) for seed in s.seeds], n_jobs, progress, f"fits {s.name}")
    return estimate_rates(s, list(zip(s.seeds, fits)))


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
        return not self.diverged and self.loss_final <= _configs.FIG5_PROTOCOL.max_loss


def _grid_points(s: _configs.Setting):
    """The 25 (dx, dy, seed) of ``s``'s grid, ``||Δx||`` major."""
    pts = _configs.FIG5_PROTOCOL.points()
    if len(s.seeds) < len(pts):
        raise ValueError(f"{s.name}: the grid needs {len(pts)} seeds, the setting has {len(s.seeds)}")
    return [(dx, dy, seed) for (dx, dy), seed in zip(pts, s.seeds)]


def _grid_chunk(s: _configs.Setting, points: list) -> list[dict]:
    """Train (or load) the grid runs ``points``; the torch architectures train together (train_batch)."""
    engine = "numba" if _train.engine_for(s) == "numba" else "torch-batch"
    descs = [{"setting": _models.key_fields(s), "dx": dx, "dy": dy, "seed": seed, "engine": engine}
             for dx, dy, seed in points]

    def single(dx, dy, seed):
        point = dataclasses.replace(s, dx2=dx**2, dy2=dy**2)
        return _train.train(point, *_data.two_points(dx**2, dy**2), seed).final_distance_arrays()

    if engine == "numba":
        return [_cache.cached("fig5_grid_run", d, lambda p=p: single(*p)) for d, p in zip(descs, points)]
    # each run is stored as soon as it has ended: an interrupted batch keeps them
    _cache.fill("fig5_grid_run", descs, lambda todo, done: _train.train_batch(
        s, [_data.two_points(points[k][0] ** 2, points[k][1] ** 2) for k in todo], [points[k][2] for k in todo],
        done=done), lambda run: run.final_distance_arrays())
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
        """Pearson r (with its 95 % bootstrap interval, :meth:`r_interval`) and the median ``|relative error|``
        over the converged ``dy > 0`` points, the sum ratio, the ``dy = 0`` points relative to the largest
        ``dy = 1`` value, and the counts."""
        ok = [p for p in self.points if p.converged]
        pos = [p for p in ok if p.dy > 0]
        meas = np.array([p.h2_final for p in pos])
        pred = np.array([p.predicted for p in pos])
        top = max([p.h2_final for p in ok if p.dy == max(_configs.FIG5_PROTOCOL.dy)], default=np.nan)
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

        It resamples the grid points with replacement: each point's ``(||Δx||, ||Δy||)`` together with its
        network (its own seed). So it says how much r depends on which points the grid holds, not how far r
        would move on a new draw of seeds over the same grid (that takes runs over several seed sets).
        ``(nan, nan)`` with fewer than 4 points."""
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
    pairs = {n: _configs.fig5_settings(n, profile) for n in names}
    return _final_distance(pairs, n_jobs, progress)


def seed_set(s: _configs.Setting, k: int) -> _configs.Setting:
    """``s`` with the seeds of independent seed set ``k`` (set 0 is ``s`` itself): a fit setting's seeds move
    by ``100 k`` and a grid's by ``1000 k``, so no two sets share a network (the fit seeds run from 0 up, the
    grid seeds from 1000 up; at most 100 fits and 1000 grid runs a set).

    >>> from reptheory import configs
    >>> seed_set(configs.get("fig5_grid/default"), 2).seeds[:2], seed_set(configs.get("fig5_fit/default"), 2).seeds
    ((3000, 3001), (200, 201, 202, 203))
    """
    from reptheory import validate as _v
    _v.integer("k", k, 0, 1000)
    step = 1000 if min(s.seeds) >= 1000 else 100
    if max(s.seeds) - min(s.seeds) >= step:
        raise ValueError(f"{s.name}: its seeds span {min(s.seeds)}…{max(s.seeds)}, more than one seed set ({step})")
    return dataclasses.replace(s, seeds=tuple(seed + step * k for seed in s.seeds))


def seed_sets(row: str = "default", n: int | None = None, profile: str | None = None, n_jobs: int | None = None,
              progress: bool | None = None) -> list[FinalDistanceResult]:
    """Fig. 5 for ``row`` over ``n`` independent seed sets (default ``configs.FIG5_PROTOCOL.seed_sets``): set ``k``
    fits the rates on its own fit runs and trains its own grid (:func:`seed_set`), so the sets differ in every
    network and agree in every setting. The spread of a statistic over the sets is how far it moves on a new
    draw of seeds, which a bootstrap over one grid's points does not measure."""
    from reptheory import validate as _v
    n = _configs.FIG5_PROTOCOL.seed_sets if n is None else n
    _v.integer("n", n, 1, 20)
    fit, grid = _configs.fig5_settings(row, profile)
    pairs = {f"{row} set {k}": (seed_set(fit, k), seed_set(grid, k)) for k in range(n)}
    return list(_final_distance(pairs, n_jobs, progress).values())


def _final_distance(pairs: dict, n_jobs, progress) -> dict[str, FinalDistanceResult]:
    """:func:`final_distance` for ``{label: (fit setting, grid setting)}``."""
    fits, grids = {n: f for n, (f, _) in pairs.items()}, {n: g for n, (_, g) in pairs.items()}
    names = list(pairs)
    jobs = []                       # (size, label, call): the longest first, torch batches, then the widest nets
    for n in names:
        pts, size = _grid_points(grids[n]), fits[n].width * fits[n].hidden_layers
        if _train.batched(fits[n]):  # a row's fit runs and its grid train in batches (one per CPU worker)
            jobs += [(50 * size, None, _par.call(_train_runs_batched, fits[n], b))
                     for b in _batches(fits[n].seeds, n_jobs)]
            jobs += [(50 * size, ("grid", n, b), _par.call(_grid_chunk, grids[n], b)) for b in _batches(pts, n_jobs)]
            continue
        jobs += [(size, ("fit", n, seed), _par.call(two_point, fits[n], seed)) for seed in fits[n].seeds]
        jobs += [(size, ("grid", n, [p]), _par.call(_grid_chunk, grids[n], [p])) for p in pts]   # the numba engine
    jobs.sort(key=lambda j: -j[0])
    results = _par.run_calls([c for _, _, c in jobs], n_jobs, progress, "Fig. 5 runs")
    fitted, grid = {}, {}           # (row, seed) -> TwoPointResult; (row, point) -> the grid run's arrays
    for (_, label, _), r in zip(jobs, results):
        if label is not None and label[0] == "fit":
            fitted[label[1:]] = r
        elif label is not None:
            grid |= {(label[1], p): a for p, a in zip(label[2], r)}
    late = [(n, seed) for n in names if _train.batched(fits[n]) for seed in fits[n].seeds]
    if late:                        # the batched runs are in the cache: fit them in parallel on the CPU
        fitted |= dict(zip(late, _par.run(two_point, [(fits[n], seed) for n, seed in late], n_jobs, progress,
                                          "Fig. 5 fits")))
    out = {}
    for n in names:
        rates = estimate_rates(fits[n], [(seed, fitted[n, seed]) for seed in fits[n].seeds])
        pts = []
        for dx, dy, seed in _grid_points(grids[n]):
            a = grid[n, (dx, dy, seed)]
            pred = (float(_th.h_inf(float(a["h2_0"]), float(a["y2_0"]), rates.eta_h, rates.eta_y, dx**2, dy**2))
                    if rates.used and np.isfinite(a["h2_0"]) else np.nan)
            pts.append(GridPoint(dx, dy, seed, float(a["h2_0"]), float(a["y2_0"]), float(a["h2_final"]),
                                 float(a["loss_final"]), int(a["epochs"]), bool(a["diverged"]), float(a["seconds"]),
                                 pred))
        out[n] = FinalDistanceResult(n, rates, grids[n], tuple(pts))
    return out

