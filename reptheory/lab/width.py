"""The width sweep of the chapter *Beyond the paper's architectures*: the transformer and the mixer of
:data:`reptheory.lab.zoo.ZOO` at model widths 16 to 256 (:func:`reptheory.lab.zoo.sequence`), many seeds a
width, so that width can be told apart from the architecture as the cause of their miss at width 16.

At each width :func:`sweep` applies the chapter's protocol, with one change (:func:`step`: above width
:data:`LR_WIDTH` a smaller learning rate, so that the runs stay at gradient flow): the initial scale by the rule of
:func:`reptheory.lab.protocol.choose_scale` (training loss only), then ``seeds`` reference runs on the
reference pair (``||Δx||² = 1``, ``||Δy||² = 0.5``) fitted with Eq. 7 (Eq. 49), the seed-0 run again at half
the learning rate (the step-size control), and :data:`HELD_OUT` networks of fresh seeds at other input and
target distances, trained and never fitted. Three tests of Eq. 10 per width, from the most to the least
favourable to the theory:

* in sample: the rates fitted to a run predict that run's own final ``||Δh||²``;
* out of sample over seeds: the mean rates of the *other* usable seeds (leave one out) predict a seed's final
  distance on the reference pair;
* out of sample over seeds and distances: the mean rates of all usable seeds predict the :data:`HELD_OUT`
  networks' final distances.

Each is set beside the lazy null, which predicts that the distance does not move (final = initial): a network
that stays lazy as it widens would meet Eq. 10 without learning features, and ``values("moved")`` says how far each
representation moved.

>>> sw = sweep("mixer", widths=(16,), seeds=2, lr=1e-2, epochs=200)   # a short sweep: 16 small networks
>>> sw.values("moved").shape
(1, 2)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reptheory import parallel as _par
from reptheory import stats as _stats
from reptheory import validate as _v
from reptheory.configs import FIG5_PROTOCOL
from reptheory.lab.probing import pair_data, probe, probe_many
from reptheory.lab.protocol import choose_scale
from reptheory.experiments.result import TwoPointResult
from reptheory.lab.zoo import BLOCK, sequence
from reptheory.theory import ode as _th

__all__ = ["WIDTHS", "SEEDS", "LR_WIDTH", "HELD_OUT", "HELD_OUT_SEED", "KEYS", "AtWidth", "WidthSweep", "against",
           "step", "sweep", "sweeps"]

#: the model widths of the sweep (the residual stream's; :data:`reptheory.lab.zoo.ZOO` uses 16)
WIDTHS = (16, 32, 64, 128, 256)
#: reference runs (seeds 0, 1, …) a width
SEEDS = 8
#: above this width a run's learning rate is ``lr · LR_WIDTH / width`` and its epoch budget ``epochs · width /
#: LR_WIDTH`` (the same time ``t = epoch · lr``): the wider networks learn faster per step, and at the chapter's
#: ``lr = 1e-3`` the step-size control of the transformer reached 2 % at width 128 and 5 % at 256
LR_WIDTH = 64
#: ``(||Δx||, ||Δy||)`` of the held-out networks: the Fig. 5 grid's outer input distances at every nonzero target
#: distance (the reference pair, ||Δx|| = 1, is not among them)
HELD_OUT = tuple((dx, dy) for dx in (0.5, 1.5) for dy in (0.25, 0.5, 0.75, 1.0))
#: the held-out networks' seeds are HELD_OUT_SEED, HELD_OUT_SEED + 1, … (disjoint from the reference seeds)
HELD_OUT_SEED = 100
#: the per-seed quantities of :meth:`AtWidth.values`, with what each is
KEYS = {
    "h2": "deviation of ‖Δh‖² from the fitted Eq. 7 (largest, relative to the curve's largest value)",
    "y2": "deviation of ‖Δŷ‖² from the fitted Eq. 7",
    "w": "deviation of w from the fitted Eq. 7",
    "in sample": "|Eq. 10 / final ‖Δh‖² − 1|, Eq. 10 from the run's own fitted rates",
    "other seeds": "|Eq. 10 / final − 1|, Eq. 10 from the mean rates of the other usable seeds",
    "lazy null": "|initial / final ‖Δh‖² − 1| on the reference pair: the error of 'nothing moves'",
    "moved": "final / initial ‖Δh‖² of the reference run",
    "held out": "|Eq. 10 / final − 1| of a held-out network (mean rates of all usable seeds)",
    "held-out lazy null": "|initial / final − 1| of a held-out network",
}
_REF = (1.0, float(np.sqrt(0.5)))


def _usable(r: TwoPointResult) -> bool:
    return r.fit is not None and r.fit.identifiable and r.converged


def _eq10_error(r: TwoPointResult, eta_h: float, eta_y: float) -> float:
    """``|Eq. 10 / final − 1|`` of the run ``r`` with the rates given, from its own initial values; NaN for a run
    that has not converged (its final distance is not yet a fixed point)."""
    m = r.measured
    if not r.converged or not np.isfinite(eta_h):
        return float("nan")
    pred = _th.h_inf(m.traj.h2[0], m.traj.y2[0], eta_h, eta_y, m.dx2, m.dy2)
    return float(abs(pred / m.traj.h2[-1] - 1))


def _lazy_error(r: TwoPointResult) -> float:
    h2 = r.measured.traj.h2
    return float(abs(h2[0] / h2[-1] - 1)) if r.converged else float("nan")


@dataclass(frozen=True)
class AtWidth:
    """One architecture at one width: the chosen scale (``tried``: every scale's final loss), the reference
    runs (``fits``, seeds 0, 1, …), the held-out runs (``held_out``, at :data:`HELD_OUT`) and the seed-0
    reference run at half the learning rate (``half_step``)."""

    width: int
    scale: float | None
    tried: tuple
    fits: tuple = ()
    held_out: tuple = ()
    half_step: TwoPointResult | None = None

    @property
    def usable(self) -> list[bool]:
        """Per reference seed: the run converged and its fit is identifiable."""
        return [_usable(r) for r in self.fits]

    def rates(self, leave_out: int | None = None) -> tuple[float, float]:
        """The mean ``(eta_h, eta_y)`` over the usable reference fits, without seed index ``leave_out``."""
        got = [(r.fit.eta_h, r.fit.eta_y) for k, r in enumerate(self.fits) if _usable(r) and k != leave_out]
        return tuple(map(float, np.mean(got, axis=0))) if got else (float("nan"), float("nan"))

    def values(self, key: str) -> np.ndarray:
        """The per-seed values of ``key`` (:data:`KEYS`): one per reference seed (``held out``: one per
        held-out network); NaN where a run gives none (an unusable fit, a run that has not converged)."""
        if key not in KEYS:
            raise ValueError(f"key must be one of {tuple(KEYS)}, got {key!r}")
        nan = float("nan")
        if key in ("h2", "y2", "w", "in sample"):
            k = "h_inf" if key == "in sample" else key
            return np.array([r.deviations[k] if _usable(r) else nan for r in self.fits])
        if key == "other seeds":
            return np.array([_eq10_error(r, *self.rates(leave_out=k)) for k, r in enumerate(self.fits)])
        if key == "lazy null":
            return np.array([_lazy_error(r) for r in self.fits])
        if key == "moved":
            return np.array([r.h2_final / r.measured.traj.h2[0] if r.converged else nan for r in self.fits])
        if key == "held out":
            rates = self.rates()
            return np.array([_eq10_error(r, *rates) for r in self.held_out])
        return np.array([_lazy_error(r) for r in self.held_out])

    def step_error(self) -> float:
        """``max_t |L_lr(t) − L_lr/2(t)| / L(0)`` of the seed-0 reference run, losses compared at equal time."""
        if not self.fits or self.half_step is None:
            return float("nan")
        a, b = self.fits[0].loss, self.half_step.loss[::2]
        n = min(a.size, b.size)
        return float(np.max(np.abs(a[:n] - b[:n])) / a[0])


@dataclass(frozen=True)
class WidthSweep:
    """One architecture over :data:`WIDTHS`: :class:`AtWidth` per width, and the scaling of each quantity with
    width."""

    name: str
    at: tuple

    @property
    def widths(self) -> tuple:
        return tuple(a.width for a in self.at)

    def values(self, key: str) -> np.ndarray:
        """``(width, seed)`` values of ``key`` (:data:`KEYS`)."""
        return np.array([a.values(key) for a in self.at])

    def slope(self, key: str) -> tuple[float, float, float]:
        """``(a, low, high)``: the exponent of ``median_seeds(key) ∝ width^a`` and its 95 % bootstrap interval
        over the seeds (:func:`reptheory.stats.log_slope_interval`)."""
        v = self.values(key)
        return (_stats.log_slope(self.widths, v), *_stats.log_slope_interval(self.widths, v))

    def against(self, key: str, bar: float) -> list[str]:
        """Per width, where the seeds' values of ``key`` sit against ``bar`` (:func:`against`)."""
        return against(self.values(key), bar)


def against(values, bar: float) -> list[str]:
    """Per row of ``values`` (``(width, seed)``), where the seeds sit against ``bar``: ``"all within"`` (every
    seed with a value at or below it), ``"all beyond"``, ``"both sides"`` (the seeds straddle it: undecided), or
    ``"no value"``.

    >>> against([[0.1, 0.2], [0.1, 0.3], [0.4, float("nan")]], 0.25)
    ['all within', 'both sides', 'all beyond']
    """
    out = []
    for v in np.asarray(values, dtype=float):
        v = v[np.isfinite(v)]
        out.append("no value" if not v.size else "all within" if np.all(v <= bar)
                   else "all beyond" if np.all(v > bar) else "both sides")
    return out


def step(lr: float, epochs: int, width: int) -> tuple[float, int]:
    """The learning rate and epoch budget of a run at ``width`` (:data:`LR_WIDTH`).

    >>> step(1e-3, 10000, 256)
    (0.00025, 40000)
    """
    k = max(1.0, width / LR_WIDTH)
    return lr / k, int(round(epochs * k))


def _one_width(name: str, width: int, seeds: int, kw: dict) -> AtWidth:
    spec = sequence(name, width)
    lr, epochs = step(kw["lr"], kw["epochs"], width)
    kw = {**kw, "lr": lr, "epochs": epochs}
    scale, tried = choose_scale(spec.build, spec.layer, in_shape=spec.in_shape, **kw)
    if scale is None:
        return AtWidth(width, None, tried)
    ref = [(s, *_REF, kw["stop_loss"]) for s in range(seeds)]
    out = [(HELD_OUT_SEED + k, dx, dy, FIG5_PROTOCOL.stop_loss) for k, (dx, dy) in enumerate(HELD_OUT)]
    runs = ref + out
    data = [pair_data(dx, dy, spec.in_shape) for _, dx, dy, _ in runs]
    res = probe_many([spec.build(r[0], scale) for r in runs], [d[0] for d in data], [d[1] for d in data],
                     spec.layer, lr=kw["lr"], epochs=kw["epochs"], seed=[r[0] for r in runs],
                     stop_loss=[r[3] for r in runs], fit=[True] * len(ref) + [False] * len(out), n_jobs=1,
                     progress=False)
    X, Y = data[0]
    half = probe(spec.build(0, scale), X, Y, spec.layer, seed=0, lr=kw["lr"] / 2, epochs=2 * kw["epochs"],
                 stop_loss=kw["stop_loss"])
    return AtWidth(width, scale, tried, tuple(res[:len(ref)]), tuple(res[len(ref):]), half)


def sweep(name: str, widths=WIDTHS, seeds: int = SEEDS, *, lr: float, epochs: int, stop_loss: float | None = None,
          n_jobs: int | None = None, progress: bool | None = None) -> WidthSweep:
    """The transformer or the mixer (``name``, ``"transformer"`` or ``"mixer"``) through the chapter's
    protocol at every width of ``widths`` (module docstring): ``seeds`` reference runs a width, trained at
    learning rate ``lr`` for at most ``epochs`` epochs, stopped once their loss is below ``stop_loss``; the
    held-out runs stop below ``configs.FIG5_PROTOCOL.stop_loss``. Every batch is cached. One width per
    job on ``n_jobs`` worker processes. Above :data:`LR_WIDTH` the learning rate falls and the budget grows
    with width (:func:`step`)."""
    return sweeps((name,), widths, seeds, lr=lr, epochs=epochs, stop_loss=stop_loss, n_jobs=n_jobs,
                  progress=progress)[name]


def sweeps(names, widths=WIDTHS, seeds: int = SEEDS, *, lr: float, epochs: int, stop_loss: float | None = None,
           n_jobs: int | None = None, progress: bool | None = None) -> dict[str, WidthSweep]:
    """:func:`sweep` of every architecture of ``names`` (``"transformer"``, ``"mixer"``), ``{name: WidthSweep}``:
    the widths of all of them are one pool of jobs, the widest (the longest, :func:`step`) first, so that no
    worker waits alone for the last wide network of one architecture while the next has not begun. Each
    width's result is what :func:`sweep` gives for it (every batch is cached under the same key)."""
    names = (names,) if isinstance(names, str) else tuple(names)
    for name in names:
        if name not in BLOCK:
            raise ValueError(f"name must be one of {tuple(BLOCK)}, got {name!r}")
    if not names:
        raise ValueError("names must hold at least one architecture")
    widths = tuple(_v.integer("widths", w, 2) for w in widths)
    if not widths:
        raise ValueError("widths must hold at least one width")
    seeds = _v.integer("seeds", seeds, 2)
    kw = {"lr": lr, "epochs": epochs, "stop_loss": stop_loss}
    jobs = sorted(((name, w, seeds, kw) for name in names for w in widths), key=lambda j: -j[1])
    done = dict(zip(((j[0], j[1]) for j in jobs),
                    _par.run(_one_width, jobs, n_jobs, progress, "widths " + ", ".join(names))))
    return {name: WidthSweep(name, tuple(done[name, w] for w in widths)) for name in names}
