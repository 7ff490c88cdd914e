"""The pass bars that more than one page or module applies, in one place: each is set here and read where it
is applied (the lab's verdicts, the committed records' checks, the figures' asserts). A bar that one check of
one page alone applies stays beside that check, where its reason is written.

A deviation is the largest distance of a measured curve from the fitted Eq. 7, relative to the curve's largest
value (:func:`reptheory.theory.fit.max_relative_deviation`); Eq. 10's error is ``|Eq. 10 / final ||Δh||² − 1|``.

>>> FIT["w"], EQ10, FIT_OTHERS, dict((s, b) for s, _, b in FIG5)["median |rel err|"]
(0.25, 0.1, 0.3, 0.25)
"""
from __future__ import annotations

__all__ = ["FIT", "EQ10", "FIT_OTHERS", "FIG5", "XOR", "BLOBS", "MNIST", "PARITY"]

#: Eq. 7's fit to the default network (Fig. 2's claim, the lab's verdict on any network): the largest deviation
#: allowed per curve
FIT = {"h2": 0.15, "y2": 0.15, "w": 0.25}
#: Eq. 10 against the final ``||Δh||²`` of a run (Fig. 2, the lab)
EQ10 = 0.10
#: the looser deviation bar of the other architectures of Fig. 2 (a curve above it is named on the page) and of
#: the MNIST networks' pair (Fig. 4)
FIT_OTHERS = 0.30
#: Fig. 5's bars on a grid, ``(statistic, ">=" or "<=", bar)``: the lower end of the 95 % bootstrap interval of
#: Pearson r between Eq. 10 and the measured final distances, their median relative error, the unconverged and
#: the diverged grid runs (of 25), and the fits used (of the paper's 50). The Fig. 5 pages and the committed
#: records apply all five where they apply, the lab's grids the first two
FIG5 = (("r 95% low", ">=", 0.5), ("median |rel err|", "<=", 0.25), ("unconverged", "<=", 3),
        ("diverged", "<=", 0), ("fits used", ">=", 45))
#: XOR's structure (Figs. 6 and 14): a rich run's same-output pairs merged, the median of each pair's ratio (its
#: trained distance over the mean different-output distance) at most ``"merged"``; the different-output pairs
#: apart, the median separation at least ``"separated"``; a lazy run's distance matrix within ``"lazy_change"`` of
#: its initial one (relative, Frobenius and per entry)
XOR = {"merged": 0.15, "separated": 5.0, "lazy_change": 0.05}
#: the blobs (Figs. 8 and 15): a rich (gain 0.5) run's within-context ratio at most ``"rich_ratio"`` and its η² at
#: least ``"rich_eta2"``; a lazy (gain 2.0) run's ratio at least ``"lazy_ratio"`` and within ``"lazy_vs_input"``
#: of the input space's, its η² at most ``"lazy_eta2"``; the rich runs' η² above the lazy runs' and the input's
#: by at least ``"gap"``
BLOBS = {"rich_ratio": 0.25, "rich_eta2": 0.95, "lazy_ratio": 0.5, "lazy_vs_input": 0.15, "lazy_eta2": 0.7,
         "gap": 0.3}
#: MNIST's class structure against Eq. 50, class-balanced (Figs. 9 and 16): Pearson r over the class-pair means
#: at least ``"r"``, with a p-value below ``"p"``
MNIST = {"r": 0.5, "p": 0.01}
#: the sequel's phase diagrams (arXiv:2507.09897, Fig. 9): a trained RNN generalises if its accuracy on the fixed
#: random strings is at least ``"generalises"``; it is at chance if at most ``"chance"`` (the transitions of
#: :mod:`reptheory.sequel.parity_phase` and the checks of the phase-diagram page)
PARITY = {"generalises": 0.99, "chance": 0.65}
