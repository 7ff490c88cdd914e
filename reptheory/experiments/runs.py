"""Sec. 3 and Fig. 10: one two-point run with its fitted theory (Eq. 7, Eq. 49, Eq. 9), every tracked layer's
fit (:func:`depth`), and the cached run path the other experiments build on."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from reptheory import cache as _cache
from reptheory import configs as _configs
from reptheory import parallel as _par
from reptheory import validate as _v
from reptheory.experiments.result import TwoPointResult, fit_record, fitted
from reptheory.networks import data as _data
from reptheory.networks import measure as _measure
from reptheory.networks import models as _models
from reptheory.networks import train as _train


_NAN = float("nan")


def _setting(setting, profile) -> _configs.Setting:
    if isinstance(setting, _configs.Setting):
        if profile is not None:             # a Setting carries its values: a profile would be ignored
            raise ValueError(f"profile={profile!r} applies to setting names, not to a Setting object "
                             f"({setting.name!r}); pass the name, or leave profile unset")
        return setting
    if not isinstance(setting, str):
        raise TypeError(f"setting must be a name or a reptheory.configs.Setting, got {setting!r}")
    s = _configs.get(setting, profile)
    if not isinstance(s, _configs.Setting):      # a sequel setting: trained by reptheory.sequel.parity_runs
        raise ValueError(f"setting {setting!r} is a {type(s).__name__} of the sequel, not a feedforward "
                         "Setting; train it with reptheory.sequel.parity_runs")
    return s


def _batches(items, n_jobs: int | None) -> list[list]:
    """``items`` as one batch on a GPU, or as one interleaved batch per worker on the CPU
    (:func:`reptheory.parallel.batches`)."""
    return _par.batches(items, n_jobs, whole=_train.device() != "cpu")


def _stacks(groups: dict, n_jobs: int | None) -> list[tuple]:
    """``(key, items)`` stacks of the batched engine for ``groups``: one per group on a GPU, else as
    :func:`reptheory.parallel.stacks` splits them over the CPU workers."""
    return _par.stacks(groups, n_jobs, whole=_train.device() != "cpu")


def _run_desc(setting: _configs.Setting, seed: int) -> dict:
    return {"setting": _models.key_fields(setting), "seed": seed, "engine": _train.run_engine(setting)}


def _run(setting: _configs.Setting, seed: int) -> _train.Run:
    X, Y = _data.two_points(setting.dx2, setting.dy2)
    desc = _run_desc(setting, seed)

    def compute():
        if desc["engine"] == "torch-batch":
            return _train.train_batch(setting, [(X, Y)], [seed])[0].to_arrays()
        return _train.train(setting, X, Y, seed).to_arrays()

    a = _cache.cached("two_point_run", desc, compute)
    return _train.Run.from_arrays(a, setting, seed, desc["engine"], X, Y)


def _train_runs_batched(setting: _configs.Setting, seeds) -> None:
    """Train the two-point runs of ``seeds`` that the cache lacks in one :func:`train.train_batch` call and
    store each under the key :func:`_run` reads as soon as it has ended (:func:`reptheory.cache.fill`; used where
    :func:`reptheory.networks.train.batched` holds)."""
    X, Y = _data.two_points(setting.dx2, setting.dy2)
    seeds = list(seeds)
    _cache.fill("two_point_run", [_run_desc(setting, sd) for sd in seeds],
                lambda todo, done: _train.train_batch(setting, [(X, Y)] * len(todo), [seeds[k] for k in todo],
                                                      done=done),
                lambda run: run.to_arrays())


def two_point(setting, seed: int | None = None, profile: str | None = None, layer: int | None = None) -> TwoPointResult:
    """Train (or load) the two-point run of ``setting`` and fit Eq. 7 (Eq. 49) and Eq. 9 to it.

    ``setting`` is a name (looked up in ``profile``) or a :class:`Setting`; ``seed`` defaults to the
    setting's first seed; ``layer`` defaults to its tracked layer."""
    s = _setting(setting, profile)
    seed = s.seeds[0] if seed is None else seed
    return _fit_run(s, seed, _run(s, seed), layer)


def _fit_run(s: _configs.Setting, seed: int, run: _train.Run, layer: int | None) -> TwoPointResult:
    """Measure the pair (0, 1) of ``run`` at ``layer`` and fit Eq. 7 and Eq. 9 to it (cached)."""
    where = {"setting": s, "seed": seed, "run": run, "loss": run.loss, "seconds": run.seconds}
    if run.diverged and run.loss.size == 0:
        return TwoPointResult(None, None, None, _NAN, True, layer=layer, **where)
    m = _measure.two_point_variables(run, layer)
    where["layer"] = m.layer
    if run.diverged:
        return TwoPointResult(m, None, None, _NAN, True, **where)
    t = m.traj.t
    # the fit entry names the measured curves it was fitted to (their digest): it is never reused for others
    curves = hashlib.sha256(np.ascontiguousarray([t, m.traj.h2, m.traj.y2, m.traj.w]).tobytes()).hexdigest()[:16]
    desc = {"setting": _models.key_fields(s), "seed": seed, "layer": m.layer, "curves": curves}

    return fitted(m, _cache.cached("two_point_fit", desc, lambda: fit_record(m)), **where)


def run_many(names, profile: str | None = None, n_jobs: int | None = None, progress: bool | None = None) -> dict[str, TwoPointResult]:
    """:func:`two_point` for several settings (their first seeds) in ``n_jobs`` processes."""
    settings = [_setting(n, profile) for n in names]
    results = _par.run(two_point, [(s, s.seeds[0]) for s in settings], n_jobs, progress, "two-point runs")
    return {s.name: r for s, r in zip(settings, results)}


def two_point_seeds(setting, seeds=None, profile: str | None = None, n_jobs: int | None = None,
                    progress: bool | None = None) -> list[TwoPointResult]:
    """:func:`two_point` of ``setting`` for every seed of ``seeds`` (default: the setting's own), trained and
    fitted in ``n_jobs`` processes through the cache, in the order of ``seeds``.

    >>> [r.seed for r in two_point_seeds("shallow", seeds=(0, 1), n_jobs=1)]
    [0, 1]
    """
    s = _setting(setting, profile)
    seeds = s.seeds if seeds is None else _v.seeds("seeds", seeds)
    return _par.run(two_point, [(s, x) for x in seeds], n_jobs, progress, f"two-point runs {s.name}")


def plateau_ratio(result: TwoPointResult) -> float:
    """Fig. 3's plateau statistic of one run: ``t10/t90`` (:func:`reptheory.theory.regimes.plateau_ratio`) of the
    difference part of the loss, ``w/4 + (||Δy||² − ||Δŷ||²)/8`` (Eq. 9 without its mean term, which decays on
    its own within the first epochs). About 0.046 for a pure exponential decay, 0.5 or more for a plateau
    followed by a sharp drop."""
    from reptheory.theory import regimes as _regimes
    m = result.measured
    if m is None:
        raise ValueError(f"{result.setting.name}, seed {result.seed}: the run has no measured curves (diverged)")
    return _regimes.plateau_ratio(m.traj.t, 0.25 * m.traj.w + 0.125 * (m.dy2 - m.traj.y2))


def plateau_ratios(names, seeds, profile: str | None = None, n_jobs: int | None = None,
                   progress: bool | None = None) -> dict[str, tuple[float, ...]]:
    """:func:`plateau_ratio` of each setting in ``names`` for every seed in ``seeds`` (the runs train in
    ``n_jobs`` processes, through the cache), as ``{name: (ratio per seed)}``."""
    settings = [_setting(n, profile) for n in names]
    seeds = _v.seeds("seeds", seeds)
    results = iter(_par.run(two_point, [(s, x) for s in settings for x in seeds], n_jobs, progress, "two-point runs"))
    return {s.name: tuple(plateau_ratio(next(results)) for _ in seeds) for s in settings}


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


@dataclass(frozen=True)
class ArchitectureStatistics:
    """How well Eq. 7 and Eq. 10 describe a set of architectures (Fig. 2's claims), from
    :func:`architecture_statistics`: the reference's deviations, ``|Eq. 10 / final ||Δh||² − 1|`` of every
    run, the median deviation of each curve over the other architectures, each other architecture's curves
    above ``bar``, and every architecture's ``w`` deviation with its initial ``||Δh||²`` (largest first)."""

    reference: dict               # curve -> largest relative deviation of the reference run
    final_errors: dict            # name -> |Eq. 10 / final ||Δh||² − 1|
    median_others: dict           # curve -> median over the other architectures
    above: dict                   # name -> {curve: deviation} for the curves above ``bar``
    by_w: list                    # (name, deviation of w, initial ||Δh||²), largest deviation first
    bar: float


def architecture_statistics(results: dict, reference: str = "default",
                            bar: float = _configs.bars.FIT_OTHERS) -> ArchitectureStatistics:
    """:class:`ArchitectureStatistics` of ``results`` (name -> :class:`TwoPointResult`, every one with a fit)."""
    missing = [n for n, r in results.items() if r.fit is None]
    if missing:
        raise ValueError(f"results without a fit: {missing} ({[results[n].fit_message for n in missing]})")
    others = [r for n, r in results.items() if n != reference]
    curves = ("h2", "y2", "w")
    ranking = sorted(results.values(), key=lambda r: -r.fit.max_rel_dev["w"])
    return ArchitectureStatistics(
        reference=dict(results[reference].fit.max_rel_dev),
        final_errors={n: abs(r.h_inf / r.measured.traj.h2[-1] - 1) for n, r in results.items()},
        median_others={c: float(np.median([r.fit.max_rel_dev[c] for r in others])) for c in curves},
        above={r.setting.name: {c: v for c, v in r.fit.max_rel_dev.items() if v > bar} for r in others
               if max(r.fit.max_rel_dev.values()) > bar},
        by_w=[(r.setting.name, r.fit.max_rel_dev["w"], float(r.measured.traj.h2[0])) for r in ranking],
        bar=bar)


# ----------------------------------------------------------------------------------------------------------
# Fig. 10: the fit at every depth (Sec. 5)

def depth(setting, profile: str | None = None, n_jobs: int | None = None, progress: bool | None = None) -> list[TwoPointResult]:
    """The two-point run of ``setting`` (its first seed) fitted separately at every hidden layer
    ``0 … n_tracked − 1`` (one training run, one Eq. 49 fit per layer, in ``n_jobs`` processes)."""
    s = _setting(setting, profile)
    seed = s.seeds[0]
    two_point(s, seed)                                   # train once before the fits fan out
    layers = list(range(s.n_tracked))
    return _par.run(two_point, [(s, seed, None, l) for l in layers], n_jobs, progress, f"fits per layer {s.name}")
