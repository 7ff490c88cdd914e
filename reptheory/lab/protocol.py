"""The Fig. 5 protocol on any model (:func:`probe_grid`), the initial-scale rule (:func:`choose_scale`), and the
chapter "Beyond the paper's architectures": its survey of an architecture (:func:`survey`), the rows of its
tables (:func:`summary`) and the bars they are held to (:func:`meets`).

:func:`probe_grid` fits Eq. 7's rates on the reference pair (``||Δx||² = 1``, ``||Δy||² = 0.5``) over several
seeds and averages them, then trains one fresh network per point of a grid of two-point datasets
(``configs.FIG5_PROTOCOL.dx`` × ``configs.FIG5_PROTOCOL.dy``) and sets each run's final
``||Δh||²`` against Eq. 10 from that run's own initial values. Every network trains in one batch of
:func:`reptheory.lab.probe_many`.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable

import numpy as np

from reptheory import configs as _configs
from reptheory import parallel as _par
from reptheory import validate as _v
from reptheory.experiments import FinalDistanceResult, GridPoint, estimate_rates
from reptheory.lab.probing import pair_data, probe, probe_many
from reptheory.experiments.result import TwoPointResult
from reptheory.lab.result import BARS
from reptheory.theory import ode as _th

__all__ = ["COLUMNS", "SCALES", "ProbeGrid", "Survey", "probe_grid", "choose_scale", "survey", "summary", "meets"]

#: the columns of a :func:`summary` row that hold the medians compared with :data:`BARS`
COLUMNS = {"h2": "dev h2", "y2": "dev y2", "w": "dev w", "h_inf": "Eq. 10 vs final"}


@dataclass(frozen=True)
class ProbeGrid:
    """The Fig. 5 protocol on one model: the reference fits, and the grid as a
    :class:`reptheory.experiments.FinalDistanceResult` (``grid.stats()``: Pearson r with its bootstrap
    interval, median ``|relative error|``, counts). Example: the README's *Using the package*, and the
    chapter *Beyond the paper's architectures*, which runs it on every architecture of :data:`ZOO
    <reptheory.lab.zoo.ZOO>`."""

    name: str
    fits: tuple                      # TwoPointResult per reference seed
    grid: FinalDistanceResult


def probe_grid(make_model: Callable, layer, *, in_shape, lr, epochs, out_dim: int = 1, optimizer: str = "sgd",
               stop_loss=None, fit_seeds=(0, 1, 2, 3), grid_seed: int = 100, name: str = "",
               n_jobs: int | None = None, progress: bool | None = None) -> ProbeGrid:
    """Fig. 5's protocol for the networks ``make_model(seed)`` builds: fit Eq. 7 on the reference pair
    (``||Δx||² = 1``, ``||Δy||² = 0.5``, :func:`pair_data`) for every seed of ``fit_seeds`` and average the
    rates of the usable fits (the paper's rule, :func:`reptheory.experiments.estimate_rates`: runs that
    diverged, ended above :data:`~reptheory.lab.result.CONVERGED_LOSS`, failed, or whose rates the data do not
    decide are discarded and counted); then
    train one network per point of ``configs.FIG5_PROTOCOL.dx`` × ``configs.FIG5_PROTOCOL.dy``
    (seeds ``grid_seed``, ``grid_seed + 1``, …) until its loss is below
    ``configs.FIG5_PROTOCOL.stop_loss`` or ``epochs`` have passed, and predict its final ``||Δh||²``
    with Eq. 10 from its own initial ``h2``, ``y2`` and the averaged rates. ``stop_loss`` ends the reference
    runs once their loss falls below it (``None``: all ``epochs``). All runs train together in one batch of
    :func:`probe_many` (cached as one entry); networks that :func:`probe_many` trains one by one go to
    ``n_jobs`` worker processes, and ``make_model`` must then be picklable (a function or class). Example: the
    README's *Using the package* (a small tanh network, 53 runs in one batch, about 5 seconds on a CPU)."""
    if not callable(make_model):
        raise TypeError(f"make_model must be a callable seed -> torch.nn.Module, got {make_model!r}")
    seeds = _v.seeds("fit_seeds", fit_seeds)
    grid_seed = _v.integer("grid_seed", grid_seed, 0)
    kw = {"lr": lr, "epochs": epochs, "optimizer": optimizer}
    ref = (1.0, float(np.sqrt(0.5)))
    points = _configs.FIG5_PROTOCOL.points()
    runs = [(s, *ref, stop_loss) for s in seeds] + [(grid_seed + k, dx, dy, _configs.FIG5_PROTOCOL.stop_loss)
                                                   for k, (dx, dy) in enumerate(points)]
    data = [pair_data(dx, dy, in_shape, out_dim) for _, dx, dy, _ in runs]
    results = probe_many([make_model(r[0]) for r in runs], [d[0] for d in data], [d[1] for d in data], layer,
                         seed=[r[0] for r in runs], stop_loss=[r[3] for r in runs],
                         fit=[True] * len(seeds) + [False] * len(points), n_jobs=n_jobs, progress=progress, **kw)
    fits, grid = results[:len(seeds)], results[len(seeds):]
    rates = estimate_rates(None, zip(seeds, fits))
    used, eh, ey = rates.used, rates.eta_h, rates.eta_y
    pts = []
    for k, ((dx, dy), r) in enumerate(zip(points, grid)):
        m = r.measured.traj
        ok = m.h2.size > 0
        h2_0, y2_0 = (float(m.h2[0]), float(m.y2[0])) if ok else (float("nan"), float("nan"))
        pred = float(_th.h_inf(h2_0, y2_0, eh, ey, dx ** 2, dy ** 2)) if used and ok else float("nan")
        pts.append(GridPoint(dx, dy, grid_seed + k, h2_0, y2_0, float(m.h2[-1]) if ok else float("nan"),
                             float(r.loss[-1]) if ok else float("inf"), max(m.h2.size - 1, 0), r.diverged,
                             r.seconds, pred))
    return ProbeGrid(name, tuple(fits), FinalDistanceResult(name, rates, None, tuple(pts)))


#: the initial scales :func:`choose_scale` tries, smallest first (multipliers of PyTorch's default initialisation)
SCALES = (0.25, 0.5, 1.0, 2.0, 4.0)


def choose_scale(build: Callable, layer, *, in_shape, lr, epochs, out_dim: int = 1, optimizer: str = "sgd",
                 stop_loss=None, scales=SCALES, seed: int = 0) -> tuple:
    """The smallest initial scale of ``scales`` at which the network ``build(seed, scale)`` leaves the loss
    plateau on the reference pair within ``epochs``: its training loss ends below
    ``configs.FIG5_PROTOCOL.max_loss``. The rule reads the training loss only, never a fit, so a
    model's scale is set before the theory is compared with it. The networks of every scale train together
    (one batch of :func:`probe_many`). Returns ``(scale, tried)``: ``scale`` is ``None`` if none trained,
    ``tried`` lists ``(scale, final training loss)`` for every scale, smallest first (``inf`` for a run that
    diverged). Example: the chapter *Beyond the paper's architectures* chooses every architecture's scale so
    (:func:`survey`)."""
    X, Y = pair_data(1.0, float(np.sqrt(0.5)), in_shape, out_dim)
    scales = sorted(float(_v.scalar("scales", s)) for s in scales)
    runs = probe_many([build(seed, s) for s in scales], X, Y, layer, lr=lr, epochs=epochs, optimizer=optimizer,
                      seed=seed, stop_loss=stop_loss, fit=False)
    tried = tuple((s, float("inf") if r.diverged or not r.loss.size else float(r.loss[-1]))
                  for s, r in zip(scales, runs))
    for s, final in tried:
        if final <= _configs.FIG5_PROTOCOL.max_loss:
            return s, tried
    return None, tried


@dataclass(frozen=True)
class Survey:
    """One architecture through the chapter's protocol: the chosen initial scale (with the scales tried and
    their final losses), the Fig. 5 protocol at that scale, and the step-size control (the first seed's
    reference run at half the learning rate, twice the epochs)."""

    name: str
    scale: float | None
    tried: tuple
    grid: ProbeGrid | None
    half_step: TwoPointResult | None

    @property
    def reference(self) -> TwoPointResult | None:
        """The Fig. 5 protocol's reference run of the first seed."""
        return self.grid.fits[0] if self.grid is not None else None

    def step_error(self) -> float:
        """How far the reference run is from gradient flow: ``max_t |L_lr(t) − L_lr/2(t)| / L(0)``, the
        training losses compared at equal time ``t = epoch · lr`` (NaN without both runs)."""
        if self.reference is None or self.half_step is None:
            return float("nan")
        a, b = self.reference.loss, self.half_step.loss[::2]
        n = min(a.size, b.size)
        return float(np.max(np.abs(a[:n] - b[:n])) / a[0])


def _survey_one(name, spec, kw, fit_seeds) -> Survey:
    """The protocol of :func:`survey` for one architecture."""
    scale, tried = choose_scale(spec.build, spec.layer, in_shape=spec.in_shape, **kw)
    if scale is None:
        return Survey(name, None, tried, None, None)
    grid = probe_grid(functools.partial(spec.build, scale=scale), spec.layer, in_shape=spec.in_shape,
                      fit_seeds=fit_seeds, name=name, n_jobs=1, progress=False, **kw)
    X, Y = pair_data(1.0, float(np.sqrt(0.5)), spec.in_shape)
    half = probe(spec.build(fit_seeds[0], scale), X, Y, spec.layer, seed=fit_seeds[0],
                 **{**kw, "lr": kw["lr"] / 2, "epochs": 2 * kw["epochs"]})
    return Survey(name, scale, tried, grid, half)


def survey(specs: dict, *, lr, epochs, stop_loss=None, fit_seeds=(0, 1, 2, 3), n_jobs: int | None = None,
           progress: bool | None = None) -> dict:
    """The chapter's protocol for each architecture of ``specs`` (name → an object with ``build(seed,
    scale)``, ``layer`` and ``in_shape``, as :data:`reptheory.lab.zoo.ZOO`'s entries): :func:`choose_scale`,
    then :func:`probe_grid` at the chosen scale, then the reference run of the first seed at ``lr/2`` for
    ``2·epochs`` (:meth:`Survey.step_error`). The same ``lr``, ``epochs`` and ``stop_loss`` (the reference
    runs') for all. One architecture per job on ``n_jobs`` worker processes, in the order of ``specs``.
    Returns name → :class:`Survey`; an architecture that trains at no scale has ``grid=None``."""
    kw = {"lr": lr, "epochs": epochs, "stop_loss": stop_loss}
    fit_seeds = _v.seeds("fit_seeds", fit_seeds)
    names = list(specs)
    done = _par.run(_survey_one, [(n, specs[n], kw, fit_seeds) for n in names], n_jobs, progress, "architectures")
    return dict(zip(names, done))


def summary(sv: Survey) -> dict:
    """One row of the chapter's table: the chosen scale; over the usable reference fits (identifiable,
    converged), the median deviation of each curve from the fitted Eq. 7 and of ``|Eq. 10 / final − 1|``;
    how far the representation moved (final over initial ``||Δh||²`` of the seed-0 reference run; near 1:
    lazy); the step-size control; the Fig. 5 protocol's Pearson r with its 95 % bootstrap interval, median
    relative error and unconverged grid runs; and whether the median deviations meet :data:`BARS`."""
    row = {"model": sv.name, "scale": sv.scale}
    if sv.grid is None:
        return row | {"note": "trains at no scale tried"}
    usable = [r for r in sv.grid.fits if r.fit is not None and r.fit.identifiable and r.converged]
    dev = {k: float(np.median([r.deviations[k] for r in usable])) if usable else float("nan")
           for k in ("h2", "y2", "w", "h_inf")}
    st = sv.grid.grid.stats()
    ref = sv.reference.measured.traj
    return row | {
        "fits used": f"{len(usable)}/{len(sv.grid.fits)}", "dev h2": dev["h2"], "dev y2": dev["y2"],
        "dev w": dev["w"], "Eq. 10 vs final": dev["h_inf"], "h2 final/initial": float(ref.h2[-1] / ref.h2[0]),
        "step error": sv.step_error(), "grid r": st["pearson r"], "r 95% low": st["r 95% low"],
        "r 95% high": st["r 95% high"], "grid median |rel err|": st["median |rel err|"],
        "grid unconverged": st["unconverged"],
        "within bars": bool(usable) and all(dev[k] <= bar for k, bar in BARS.items()),
    }


def meets(row: dict, curves=tuple(BARS)) -> bool:
    """Whether a table row (a :func:`summary` row, or any dict with the :data:`COLUMNS`) meets
    :data:`BARS` on ``curves`` (keys of :data:`BARS`); a missing or NaN value does not.

    >>> meets({"dev h2": 0.1, "dev y2": 0.2, "dev w": 0.1, "Eq. 10 vs final": 0.05}, ("h2", "w", "h_inf"))
    True
    >>> meets({"dev h2": 0.1, "dev y2": 0.2, "dev w": 0.1, "Eq. 10 vs final": 0.05})
    False
    """
    unknown = [c for c in curves if c not in BARS]
    if unknown:
        raise ValueError(f"curves must be keys of BARS {tuple(BARS)}, got {unknown}")
    return all(row.get(COLUMNS[c]) is not None and float(row[COLUMNS[c]]) <= BARS[c] for c in curves)
