"""The statistics behind the book's verdicts: a claim against the simplest predictors that could explain the
same numbers (nulls), and a statistic over independent seed sets with its spread.

**Fig. 5's nulls.** Eq. 10 predicts each grid run's final ``||Δh||²`` from the averaged rates, the run's own
initial ``h2``, ``y2`` and its ``||Δx||²``, ``||Δy||²``. Two predictors with less theory in them:

* *Eq. 10 at* ``||Δx|| = 1``: the same rates and initial values, with ``dx2`` held at the fit's reference
  value 1 (Eq. 10 without its ``||Δx||`` dependence; the initial ``h2`` still carries the input distance);
* ``||Δy||`` *alone*: ``c ||Δy||`` with the one scale ``c`` fitted to the same runs (median of
  ``log(measured / ||Δy||)``), so it is given one free parameter Eq. 10 does not get.

Pearson r and the median relative error of each, over the converged ``||Δy|| > 0`` runs; the difference of r
between Eq. 10 and the better null with a 95 % **paired bootstrap over the grid points** (a point is resampled
with its network; it measures how much the comparison depends on which points the grid holds, not on the
seeds: that is what :func:`over_seed_sets` is for). And the exponent ``a`` of
``h2_final ≈ c ||Δx||^a ||Δy||^b`` (least squares in logs) with its 95 % t-interval, beside the exponent
Eq. 10's own predictions have over the same runs: Eq. 10's ``||Δx||`` dependence is *borne out* when that
exponent lies inside the measured interval (a point within :data:`EDGE` of the interval's half-width from one
of its ends decides nothing: the verdict is then "undecided").

>>> import numpy as np
>>> dx, dy = np.repeat([0.5, 1.0, 1.5], 4), np.tile([0.25, 0.5, 0.75, 1.0], 3)
>>> h0, y0 = 0.01 * dx**2, np.full(12, 1e-6)
>>> from reptheory.theory import ode
>>> meas = ode.h_inf(h0, y0, 1e-3, 1e-2, dx**2, dy**2) * np.exp(0.01 * np.sin(np.arange(12)))
>>> n = fig5_nulls(dx, dy, h0, y0, meas, 1e-3, 1e-2)
>>> n.verdict_dx, n.verdict_nulls
('borne out', 'Eq. 10 predicts better than both nulls')
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Fig5Nulls", "fig5_nulls", "nulls_of", "OverSeedSets", "over_seed_sets", "seed_set_rows", "over_sets",
           "Shift", "shift_over_seeds", "paired_over_seeds", "bar_rows", "EDGE", "SPREADS", "ALPHA"]

#: a point closer than this fraction of an interval's half-width to one of its ends is "at the edge": a verdict
#: it would decide is reported as undecided (it would be decided by the third digit)
EDGE = 0.1
#: a verdict over seed sets is decided when the mean is at least this many standard deviations (of the
#: values over the sets) from the bar; otherwise it is reported as undecided
SPREADS = 2.0
#: the level of :func:`shift_over_seeds`' test: a shift is significant when its p-value is below this
ALPHA = 0.05


@dataclass(frozen=True)
class Fig5Nulls:
    """Eq. 10 against its two nulls on one set of Fig. 5 grid runs (see the module's text).

    ``r`` and ``err``: Pearson r and median relative error per predictor (``"Eq. 10"``,
    ``"Eq. 10 at ‖Δx‖ = 1"``, ``"‖Δy‖ alone"``); ``r_gain``: r of Eq. 10 minus r of the better null, with
    its 95 % paired bootstrap interval over the grid points; ``a``, ``a_low``, ``a_high``: the measured
    ``||Δx||`` exponent and its 95 % interval; ``a_eq10``: the exponent of Eq. 10's predictions; ``b``: the
    measured ``||Δy||`` exponent; ``n``: the runs used."""

    n: int
    r: dict
    err: dict
    best_null: str
    r_gain: tuple
    a: float
    a_low: float
    a_high: float
    a_eq10: float
    b: float

    @property
    def verdict_nulls(self) -> str:
        """Whether Eq. 10's r is above the better null's beyond the bootstrap interval, below it, or neither
        (undecided when 0 lies at the interval's edge, :data:`EDGE`)."""
        _, lo, hi = self.r_gain
        if _at_edge(0.0, lo, hi):
            return f"undecided against the null '{self.best_null}' (0 at the interval's edge)"
        if lo > 0:
            return "Eq. 10 predicts better than both nulls"
        if hi < 0:
            return f"the null '{self.best_null}' predicts better than Eq. 10"
        return f"Eq. 10 predicts no better than the null '{self.best_null}'"

    @property
    def verdict_dx(self) -> str:
        """``"borne out"`` when Eq. 10's ``||Δx||`` exponent lies in the measured exponent's 95 % interval,
        ``"not borne out"`` when it lies outside, ``"undecided"`` when it lies at the interval's edge
        (:data:`EDGE`)."""
        if _at_edge(self.a_eq10, self.a_low, self.a_high):
            return "undecided"
        return "borne out" if self.a_low <= self.a_eq10 <= self.a_high else "not borne out"

    def row(self, part: str) -> dict:
        """One table row: ``part="predictors"`` gives r and the median error of each predictor,
        ``part="tests"`` the r gain over the better null with its interval and verdict, and the measured and
        Eq. 10's ``||Δx||`` exponents with theirs."""
        if part == "predictors":
            return {f"{what} {k}": d[k] for k in self.r for what, d in (("r", self.r), ("error", self.err))}
        if part != "tests":
            raise ValueError(f"part must be 'predictors' or 'tests', got {part!r}")
        g, lo, hi = self.r_gain
        against = ("undecided" if self.verdict_nulls.startswith("undecided") else
                   "better" if self.verdict_nulls.startswith("Eq. 10 predicts better") else
                   "worse" if self.verdict_nulls.startswith("the null") else "no better")
        return {"r gain over the better null (95 %)": f"{g:+.2f} ({lo:+.2f} to {hi:+.2f})",
                "Eq. 10 against the nulls": against,
                "‖Δx‖ exponent (95 %)": f"{self.a:.2f} ({self.a_low:.2f} to {self.a_high:.2f})",
                "Eq. 10's exponent": f"{self.a_eq10:.2f}", "‖Δx‖ term": self.verdict_dx}


def _at_edge(x: float, lo: float, hi: float) -> bool:
    return min(abs(x - lo), abs(x - hi)) < EDGE * (hi - lo) / 2


def _pearson_rows(m: np.ndarray, q: np.ndarray) -> np.ndarray:
    m, q = m - m.mean(-1, keepdims=True), q - q.mean(-1, keepdims=True)
    return (m * q).sum(-1) / np.sqrt((m**2).sum(-1) * (q**2).sum(-1))


def _exponent(dx, dy, z):
    """Least squares of ``z = c + a log dx + b log dy``: ``(a, a's half-width at 95 %, b)``."""
    from scipy import stats
    A = np.column_stack([np.ones(len(z)), np.log(dx), np.log(dy)])
    coef, *_ = np.linalg.lstsq(A, z, rcond=None)
    dof = len(z) - 3
    s2 = float(np.sum((z - A @ coef) ** 2)) / dof
    se = np.sqrt(s2 * np.linalg.inv(A.T @ A)[1, 1])
    return float(coef[1]), float(stats.t.ppf(0.975, dof) * se), float(coef[2])


def fig5_nulls(dx, dy, h2_0, y2_0, h2_final, eta_h: float, eta_y: float, n_boot: int = 4000,
               seed: int = 0) -> Fig5Nulls:
    """:class:`Fig5Nulls` of the runs given as arrays (``||Δx||``, ``||Δy||`` not squared; converged runs with
    ``||Δy|| > 0`` only) with the averaged rates ``eta_h``, ``eta_y``. At least 6 runs."""
    from reptheory.theory import ode as _th
    dx, dy, h0, y0, m = (np.asarray(v, dtype=float) for v in (dx, dy, h2_0, y2_0, h2_final))
    if not len(dx) == len(dy) == len(h0) == len(y0) == len(m):
        raise ValueError("dx, dy, h2_0, y2_0 and h2_final must have one value per run")
    if len(m) < 6:
        raise ValueError(f"the nulls need at least 6 runs, got {len(m)}")
    if np.any(dy <= 0) or np.any(dx <= 0) or np.any(m <= 0):
        raise ValueError("dx, dy and h2_final must be positive (use the converged ||Δy|| > 0 runs)")
    pred = {"Eq. 10": _th.h_inf(h0, y0, eta_h, eta_y, dx**2, dy**2),
            "Eq. 10 at ‖Δx‖ = 1": _th.h_inf(h0, y0, eta_h, eta_y, 1.0, dy**2),
            "‖Δy‖ alone": np.exp(np.median(np.log(m / dy))) * dy}
    r = {k: float(_pearson_rows(m, q)) for k, q in pred.items()}
    err = {k: float(np.median(np.abs(q - m) / m)) for k, q in pred.items()}
    best = max(("Eq. 10 at ‖Δx‖ = 1", "‖Δy‖ alone"), key=lambda k: r[k])
    idx = np.random.default_rng(seed).integers(0, len(m), (n_boot, len(m)))
    gain = _pearson_rows(m[idx], pred["Eq. 10"][idx]) - _pearson_rows(m[idx], pred[best][idx])
    gain = gain[np.isfinite(gain)]
    lo, hi = (float(v) for v in np.percentile(gain, [2.5, 97.5]))
    a, half, b = _exponent(dx, dy, np.log(m))
    a_eq10, _, _ = _exponent(dx, dy, np.log(pred["Eq. 10"]))
    return Fig5Nulls(len(m), r, err, best, (r["Eq. 10"] - r[best], lo, hi), a, a - half, a + half, a_eq10, b)


def nulls_of(source, **kw) -> Fig5Nulls:
    """:func:`fig5_nulls` of a :class:`reptheory.experiments.FinalDistanceResult` or a committed
    :class:`reptheory.presentation.records.Fig5Record`, over the runs its statistics use (converged,
    ``||Δy|| > 0``)."""
    from reptheory.configs import FIG5_PROTOCOL
    if hasattr(source, "grid_setting"):
        pts = [(p.dx, p.dy, p.h2_0, p.y2_0, p.h2_final) for p in source.points if p.converged and p.dy > 0]
        eh, ey = source.rates.eta_h, source.rates.eta_y
    else:
        pts = [(p["dx"], p["dy"], p["h2_0"], p["y2_0"], p["h2_final"]) for p in source.points
               if p["dy"] > 0 and not p["diverged"] and p["loss_final"] is not None
               and p["loss_final"] <= FIG5_PROTOCOL.max_loss]
        eh, ey = source.rates["eta_h"], source.rates["eta_y"]
    cols = np.array(pts, dtype=float).T if pts else np.zeros((5, 0))
    return fig5_nulls(*cols, eh, ey, **kw)


@dataclass(frozen=True)
class OverSeedSets:
    """A statistic over independent seed sets (or seeds): its ``values``, ``mean`` and standard deviation ``sd``
    (``ddof = 1``), and the ``unit`` the values are one per."""

    values: tuple
    mean: float
    sd: float
    unit: str = "seed sets"

    def against(self, bar: float, op: str) -> str:
        """``"passes"`` when the mean clears ``bar`` (``op`` ``">="`` or ``"<="``) by more than
        :data:`SPREADS` standard deviations, ``"fails"`` when it misses by more than that, else
        ``"undecided"``."""
        if op not in (">=", "<="):
            raise ValueError(f"op must be '>=' or '<=', got {op!r}")
        margin = (self.mean - bar) if op == ">=" else (bar - self.mean)
        if margin > SPREADS * self.sd:
            return "passes"
        if margin < -SPREADS * self.sd:
            return "fails"
        return "undecided"

    def __str__(self) -> str:
        return f"{self.mean:.3g} ± {self.sd:.2g} over {len(self.values)} {self.unit}"


def over_seed_sets(values, unit: str = "seed sets") -> OverSeedSets:
    """:class:`OverSeedSets` of one value per seed set (at least 2, all finite); ``unit`` names what the values
    are one per (``"seeds"`` for single runs).

    >>> s = over_seed_sets([0.80, 0.84, 0.82])
    >>> str(s), s.against(0.5, ">="), s.against(0.85, ">=")
    ('0.82 ± 0.02 over 3 seed sets', 'passes', 'undecided')
    """
    v = np.asarray(values, dtype=float)
    if v.ndim != 1 or len(v) < 2:
        raise ValueError(f"values must hold one number per seed set, at least 2, got {values!r}")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"values must be finite, got {values!r}")
    return OverSeedSets(tuple(float(x) for x in v), float(v.mean()), float(v.std(ddof=1)), str(unit))


def bar_rows(values: dict, bar: float, op: str, unit: str = "seeds") -> list[dict]:
    """One table row per quantity of ``values`` (a name and one value per seed, network or seed set, as
    :func:`over_seed_sets` takes them) against one ``bar`` (``op`` ``"<="`` or ``">="``): the bar, the mean ± sd,
    the range, how many of the values miss the bar (are not ``op`` ``bar``), and
    :meth:`OverSeedSets.against`'s verdict (decided only when the mean clears or misses the bar by more than
    :data:`SPREADS` standard deviations).

    >>> [r["verdict"] for r in bar_rows({"a": [0.1, 0.12, 0.11], "b": [0.2, 0.4, 0.35]}, 0.3, "<=")]
    ['passes', 'undecided']
    """
    if op not in (">=", "<="):
        raise ValueError(f"op must be '>=' or '<=', got {op!r}")
    rows = []
    for name, v in values.items():
        o = over_seed_sets(v, unit)
        miss = sum(x > bar if op == "<=" else x < bar for x in o.values)
        # no-break spaces: "≥ 0.5" and "0.48 to 0.71" each stay on one line in a narrow column
        rows.append({"quantity": name, "bar": f"{op.replace('<=', '≤').replace('>=', '≥')}\u00a0{bar:g}",
                     f"mean ± sd over the {unit}": f"{o.mean:.3g} ± {o.sd:.2g}",
                     "range": f"{min(o.values):.3g}\u00a0to\u00a0{max(o.values):.3g}",
                     f"{unit} missing it": f"{miss} of {len(o.values)}", "verdict": o.against(bar, op)})
    return rows


def _seeds(seeds) -> str:
    return f"{seeds[0]}…{seeds[-1]}" if len(seeds) > 2 else ", ".join(map(str, seeds))


def seed_set_rows(results) -> list[dict]:
    """One table row per seed set of :func:`reptheory.experiments.seed_sets`' results: the seeds, the Fig. 5
    statistics, Eq. 10's verdict against the nulls and the ``||Δx||`` exponent with its verdict."""
    rows = []
    for k, res in enumerate(results):
        st, n = res.stats(), nulls_of(res)
        t = n.row("tests")
        rows.append({"seed set": k, "fit seeds": _seeds(res.rates.setting.seeds),
                     "grid seeds": _seeds(res.grid_setting.seeds), "pearson r": st["pearson r"],
                     "median |rel err|": st["median |rel err|"], "unconverged": st["unconverged"],
                     "Eq. 10 against the nulls": t["Eq. 10 against the nulls"],
                     "‖Δx‖ exponent (95 %)": t["‖Δx‖ exponent (95 %)"],
                     "Eq. 10's exponent": t["Eq. 10's exponent"]})
    return rows


def over_sets(results) -> dict[str, OverSeedSets]:
    """The Fig. 5 statistics of :func:`reptheory.experiments.seed_sets`' results as :class:`OverSeedSets`:
    ``"pearson r"``, ``"median |rel err|"``, ``"unconverged"``, the measured ``||Δx||`` exponent ``"a"`` and
    Eq. 10's ``"a (Eq. 10)"``, and the r and median error of the null without ``||Δx||``."""
    st = [res.stats() for res in results]
    nl = [nulls_of(res) for res in results]
    return {"pearson r": over_seed_sets([s["pearson r"] for s in st]),
            "median |rel err|": over_seed_sets([s["median |rel err|"] for s in st]),
            "unconverged": over_seed_sets([s["unconverged"] for s in st]),
            "a": over_seed_sets([n.a for n in nl]), "a (Eq. 10)": over_seed_sets([n.a_eq10 for n in nl]),
            "r at ‖Δx‖ = 1": over_seed_sets([n.r["Eq. 10 at ‖Δx‖ = 1"] for n in nl]),
            "error at ‖Δx‖ = 1": over_seed_sets([n.err["Eq. 10 at ‖Δx‖ = 1"] for n in nl])}


@dataclass(frozen=True)
class Shift:
    """A one-sided test that the values of one group of seeds lie above another's (:func:`shift_over_seeds`):
    the difference of the means ``diff``, its permutation ``p``, the smallest p the group sizes allow
    ``p_min`` (the observed split the most extreme of all), and the ``verdict``."""

    diff: float
    p: float
    p_min: float
    verdict: str

    def __str__(self) -> str:
        return f"difference of means {self.diff:.3g}, one-sided permutation p = {self.p:.2g} ({self.verdict})"


def shift_over_seeds(larger, smaller) -> Shift:
    """Whether the values of the seeds in ``larger`` lie above those in ``smaller``: the difference of the
    means, tested one-sided by an **exact permutation test over the seeds** (every way of splitting the pooled
    values into groups of these sizes, ``scipy.stats.permutation_test``; each value is one seed's own
    measurement, so the test resamples seeds, not points within a run). ``verdict``: ``"significant"`` when
    ``p <`` :data:`ALPHA`, ``"undecided"`` otherwise, and ``"undecided: too few seeds"`` when even the most
    extreme split could not reach :data:`ALPHA` (``p_min >= ALPHA``; 3 against 3 seeds give ``p_min`` = 1/20).

    >>> str(shift_over_seeds([0.6, 0.4, 0.6], [0.4, 0.15, 0.15]))
    'difference of means 0.3, one-sided permutation p = 0.1 (undecided: too few seeds)'
    >>> shift_over_seeds([7, 5.5, 7, 7], [3.5, 4.5, 3.5, 3.5]).verdict
    'significant'
    """
    from math import comb

    from scipy import stats
    a, b = (np.asarray(v, dtype=float) for v in (larger, smaller))
    for name, v in (("larger", a), ("smaller", b)):
        if v.ndim != 1 or len(v) < 2 or not np.all(np.isfinite(v)):
            raise ValueError(f"{name} must hold one finite value per seed, at least 2, got {v.tolist()!r}")
    res = stats.permutation_test((a, b), lambda x, y, axis: np.mean(x, axis=axis) - np.mean(y, axis=axis),
                                 permutation_type="independent", alternative="greater", n_resamples=np.inf,
                                 vectorized=True)
    # scipy counts a split whose statistic ties the observed one (to a relative tolerance) as at least as extreme
    p = float(res.pvalue)
    p_min = 1.0 / comb(len(a) + len(b), len(a))
    verdict = ("undecided: too few seeds" if p_min >= ALPHA else "significant" if p < ALPHA else "undecided")
    return Shift(float(a.mean() - b.mean()), p, p_min, verdict)


def paired_over_seeds(larger, smaller) -> Shift:
    """Whether, seed by seed, ``larger[k]`` lies above ``smaller[k]`` (two measurements of the same seeds, e.g.
    one prediction's error against another's on the same runs): the mean of the per-seed differences, tested
    one-sided by an **exact sign-flip permutation test over the seeds** (each seed's difference keeps or flips
    its sign, all ``2^n`` ways; ``scipy.stats.permutation_test`` with ``permutation_type="samples"``). Seeds
    without both values (NaN) are left out. ``verdict`` as :func:`shift_over_seeds` (``p_min = 2^-n``).

    >>> str(paired_over_seeds([0.3, 0.25, 0.4, 0.35, 0.3], [0.1, 0.05, 0.1, 0.12, 0.08]))
    'difference of means 0.23, one-sided permutation p = 0.031 (significant)'
    >>> paired_over_seeds([0.3, 0.1, 0.4, 0.05], [0.1, 0.2, 0.1, 0.1]).verdict
    'undecided: too few seeds'
    """
    from scipy import stats
    a, b = (np.asarray(v, dtype=float) for v in (larger, smaller))
    if a.ndim != 1 or a.shape != b.shape:
        raise ValueError(f"larger and smaller must hold one value per seed, the same seeds, got shapes {a.shape} "
                         f"and {b.shape}")
    d = (a - b)[np.isfinite(a) & np.isfinite(b)]
    if d.size < 2:
        raise ValueError(f"at least 2 seeds need both values, got {d.size}")
    res = stats.permutation_test((d,), lambda x, axis: np.mean(x, axis=axis), permutation_type="samples",
                                 alternative="greater", n_resamples=np.inf, vectorized=True)
    p, p_min = float(res.pvalue), 0.5 ** d.size
    verdict = ("undecided: too few seeds" if p_min >= ALPHA else "significant" if p < ALPHA else "undecided")
    return Shift(float(d.mean()), p, p_min, verdict)
