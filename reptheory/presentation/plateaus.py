"""Fig. 5's unconverged grid runs against Eq. 7: a slow escape that the theory describes, or stuck? And, for the
CNN, what holds its stuck runs (:func:`cnn_forms`, :func:`cnn_verdict` on :mod:`reptheory.lab.cnn_plateau`).

A grid run of Fig. 5 that ends above the loss bar (``configs.FIG5_PROTOCOL.max_loss``) is counted and left out of the
statistics. Two readings explain such a run. Either it is one of the slow escapes that Eq. 7 itself predicts
(from small initial distances the two-point system leaves its plateau late, and the budget ran out), or it is
stuck for a reason outside the theory. Eq. 7 separates them: integrated from each run's own initial values with
the architecture's mean rates, it gives the epoch at which the run's loss should fall below the bar.

* The loss of the two points with their mean fitted is ``||Δŷ − Δy||²/8 = (2w − y2 + ||Δy||²)/8`` (½-MSE
  averaged over the two points, in the variables of Eq. 7); a run that never learns the difference sits at
  ``||Δy||²/8``, the *mean-only plateau*.
* The initial alignment ``w_0 = y2_0 − Δŷ·Δy`` is not recorded, only ``y2_0``: both extremes
  ``w_0 = y2_0 ∓ sqrt(y2_0 ||Δy||²)`` (a one-dimensional output pointing with or against the target) are
  integrated, and the later of the two times is used.
* The rates were fitted at the fit runs' learning rate; the grid trains at its own. Fitted rates absorb the
  learning rate (gradient flow: time is epochs × learning rate), so they are scaled by the ratio of the two.

The test: if the unconverged runs are slow escapes, they are the runs with the longest predicted times. An
exact one-sided Mann-Whitney test over the runs (the unconverged runs' predicted times against the converged
runs'; it resamples which runs of the grid are unconverged) gives ``p``; with few unconverged runs even the most
extreme ranking cannot reach :data:`~reptheory.presentation.verdicts.ALPHA` and the verdict is undecided. A second
measure needs no ranking: how long the converged runs actually took relative to Eq. 7's time (their *lag*), and
how many unconverged runs have already waited longer than the slowest converged run's lag allows.

>>> import numpy as np
>>> t = escape_epochs(1e-3, 1e-9, 1.0, 0.5, 1e-3, 1e-2, bar=1e-3, horizon=1e6)
>>> 100 < t < 1e5
True
"""
from __future__ import annotations

from dataclasses import dataclass
from math import comb

import numpy as np

__all__ = ["Unconverged", "escape_epochs", "unconverged", "unconverged_of", "PLATEAU_TOL", "cnn_forms",
           "cnn_verdict"]

#: an unconverged run whose final loss is within this relative distance of ``||Δy||²/8`` is on the plateau
PLATEAU_TOL = 0.05


def escape_epochs(h2_0, y2_0, dx2, dy2, eta_h, eta_y, *, bar: float, horizon: float) -> float:
    """The first epoch at which Eq. 7's two-point loss ``(2w − y2 + ||Δy||²)/8`` falls below ``bar``, started
    from ``(h2_0, y2_0)`` at rates ``eta_h``, ``eta_y`` (1/epoch); the later of the two extreme initial
    alignments (module docstring); ``inf`` when it has not fallen below ``bar`` by ``horizon`` epochs."""
    from reptheory.theory import ode
    t = np.concatenate([[0.0], np.geomspace(1.0, horizon, 4000)])
    out = 0.0
    for sign in (1.0, -1.0):
        tr = ode.solve(t, h2_0, y2_0, y2_0 - sign * np.sqrt(y2_0 * dy2), eta_h, eta_y, dx2, dy2)
        below = np.flatnonzero((2 * tr.w - tr.y2 + dy2) / 8 < bar)
        out = max(out, float(t[below[0]]) if below.size else np.inf)
    return out


@dataclass(frozen=True)
class Unconverged:
    """The unconverged ``||Δy|| > 0`` grid runs of one architecture against Eq. 7 (:func:`unconverged`).
    Times in epochs of the grid's learning rate."""

    n_runs: int                  # grid runs with ||Δy|| > 0 that did not diverge
    n_unconverged: int           # of them, final loss above the bar
    on_plateau: int              # of those, final loss within PLATEAU_TOL of ||Δy||²/8
    predicted_unconverged: tuple  # Eq. 7's epochs to the bar, unconverged runs
    predicted_converged: tuple    # the same, converged runs
    lag: float                   # the largest measured / predicted epochs over the converged runs
    overstayed: int              # unconverged runs whose budget / predicted epochs exceeds ``lag``
    p: float                     # exact one-sided Mann-Whitney: unconverged runs predicted slower
    p_min: float                 # the smallest p the counts allow
    verdict: str

    def row(self) -> dict:
        """One table row: counts, the predicted times' ranges, the lag test and the rank test's verdict."""
        from reptheory.presentation.rounding import span
        return {"unconverged, of the runs with ‖Δy‖ > 0": f"{self.n_unconverged} of {self.n_runs}",
                "on the mean-only plateau": f"{self.on_plateau} of {self.n_unconverged}",
                "Eq. 7's epochs, unconverged": span(self.predicted_unconverged),
                "Eq. 7's epochs, converged": span(self.predicted_converged),
                "waited past the slowest converged run's lag": f"{self.overstayed} of {self.n_unconverged}"
                                                                 f" (lag {self.lag:.2g})",
                "p (Eq. 7 puts them slowest)": f"{self.p:.2g}", "verdict": self.verdict}


def unconverged(dx, dy, h2_0, y2_0, loss_final, epochs, eta_h, eta_y, *, budget: int, bar: float) -> Unconverged:
    """The test of the module docstring on one grid: per run (``||Δy|| > 0``) its distances ``dx``, ``dy``, initial
    ``h2_0``, ``y2_0``, final loss and epochs trained; the rates at the grid's learning rate; ``budget`` the
    grid's epoch cap, ``bar`` the loss bar. ``verdict``: ``"slow escapes"`` (``p <`` ALPHA), ``"not the slowest
    in Eq. 7"`` (``p >=`` ALPHA), ``"undecided: too few unconverged runs"`` (``p_min >=`` ALPHA), ``"none"``."""
    from scipy import stats

    from reptheory.presentation.verdicts import ALPHA
    v = [np.asarray(a, dtype=float) for a in (dx, dy, h2_0, y2_0, loss_final, epochs)]
    shapes = [a.shape for a in v]
    if len(set(shapes)) != 1 or v[0].ndim != 1:
        raise ValueError("dx, dy, h2_0, y2_0, loss_final and epochs must be equal-length 1-D arrays, "
                         f"got shapes {shapes}")
    if not np.all(v[1] > 0):
        raise ValueError(f"dy must be > 0 for every run (a run with dy = 0 has no plateau), got {v[1].tolist()}")
    dx, dy, h2_0, y2_0, loss_final, epochs = v
    pred = np.array([escape_epochs(h, y, a * a, b * b, eta_h, eta_y, bar=bar, horizon=10.0 * budget)
                     for a, b, h, y in zip(dx, dy, h2_0, y2_0)])
    stuck = loss_final > bar
    k, n = int(stuck.sum()), len(stuck)
    on_plateau = int(np.sum(np.abs(loss_final[stuck] / (dy[stuck] ** 2 / 8) - 1) <= PLATEAU_TOL))
    lag = float(np.max(epochs[~stuck] / pred[~stuck])) if k < n else np.nan
    overstayed = int(np.sum(budget / pred[stuck] > lag))
    if k == 0 or k == n:
        p, p_min, verdict = np.nan, np.nan, "none" if k == 0 else "all unconverged"
    else:
        p = float(stats.mannwhitneyu(pred[stuck], pred[~stuck], alternative="greater", method="exact").pvalue)
        p_min = 1.0 / comb(n, k)
        verdict = ("undecided: too few unconverged runs" if p_min >= ALPHA
                   else "slow escapes" if p < ALPHA else "not the slowest in Eq. 7")
    return Unconverged(n, k, on_plateau, tuple(pred[stuck].tolist()), tuple(pred[~stuck].tolist()), lag,
                       overstayed, p, p_min, verdict)


def unconverged_of(record) -> Unconverged:
    """:func:`unconverged` on a Fig. 5 record (``presentation.records.Fig5Record``): its ``||Δy|| > 0`` grid runs
    that did not diverge, its mean rates scaled from the fit runs' learning rate to the grid's, the grid's epoch
    cap and ``configs.FIG5_PROTOCOL.max_loss``."""
    from reptheory.configs import FIG5_PROTOCOL
    pts = [p for p in record.points if p["dy"] > 0 and not p["diverged"]]
    scale = record.settings["grid"]["lr"] / record.settings["fit"]["lr"]
    cols = {k: [p[k] for p in pts] for k in ("dx", "dy", "h2_0", "y2_0", "loss_final", "epochs")}
    return unconverged(**cols, eta_h=record.rates["eta_h"] * scale, eta_y=record.rates["eta_y"] * scale,
                       budget=record.settings["grid"]["epochs"], bar=FIG5_PROTOCOL.max_loss)


# ----------------------------------------------------------------------------------------------------------
# The CNN's plateau, taken apart (:mod:`reptheory.lab.cnn_plateau`)

def cnn_forms(rows: list[dict]) -> list[dict]:
    """One table row per form of the CNN in the rows of :func:`reptheory.lab.cnn_plateau.runs`: the stuck runs,
    the epochs the escaped runs took (range), and, against the form as in the paper, the seeds each form frees
    and catches with the exact McNemar ``p`` (:func:`reptheory.lab.cnn_plateau.paired_test`)."""
    from reptheory.lab import cnn_plateau as cp
    from reptheory.presentation.rounding import span
    out = []
    for form, (k, n) in cp.stuck_counts(rows).items():
        escaped = [r["epochs"] for r in rows if r["variant"] == form and not r["stuck"]]
        row = {"form": form, "stuck": f"{k} of {n}", "epochs to loss 1e-4, escaped runs": span(escaped, str)}
        if form == cp.VARIANTS[0]:
            row |= {"freed (stuck in the paper's form)": "–", "caught (free in the paper's form)": "–", "p": "–"}
        else:
            t = cp.paired_test(rows, form)
            row |= {"freed (stuck in the paper's form)": str(t["freed"]),
                    "caught (free in the paper's form)": str(t["caught"]), "p": f"{t['p']:.2g}"}
        out.append(row)
    return out


def cnn_verdict(rows: list[dict]) -> str:
    """What the controlled experiment says, in words: ``"the one-channel layer's activation"`` when removing
    that activation frees the stuck runs (McNemar ``p <`` ALPHA) and removing a middle one does not;
    ``"any linear layer"`` when both do; ``"not the one-channel layer"`` when neither does although the seeds
    could have shown it; ``"undecided: too few stuck runs"`` when even freeing every stuck run could not reach
    ALPHA.

    >>> from reptheory.lab.cnn_plateau import VARIANTS
    >>> stuck = ([1] * 6 + [0] * 4, [0] * 10, [1] * 6 + [0] * 4)      # per form, seeds 0-9
    >>> cnn_verdict([{"variant": v, "seed": k, "stuck": bool(x)} for v, col in zip(VARIANTS, stuck)
    ...              for k, x in enumerate(col)])
    "the one-channel layer's activation"
    """
    from reptheory.lab import cnn_plateau as cp
    from reptheory.presentation.verdicts import ALPHA
    one, middle = (cp.paired_test(rows, v) for v in cp.VARIANTS[1:])
    stuck = cp.stuck_counts(rows)[cp.VARIANTS[0]][0]
    if 0.5 ** stuck >= ALPHA:
        return "undecided: too few stuck runs"
    if one["p"] < ALPHA:
        return "any linear layer" if middle["p"] < ALPHA else "the one-channel layer's activation"
    return "not the one-channel layer"
