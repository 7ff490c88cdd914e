"""The two claims of the abstract of arXiv:2602.15593 tested on Langevin samples (:mod:`reptheory.sequel.langevin`):
the transition in the cross-time overlap (claim 1, :func:`transition`) and the interpolation of unsupervised steps
(claim 2, :func:`interpolation`), each judged over seeds against the untied DNN as the null.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reptheory import parallel
from reptheory import stats as _stats
from reptheory.configs.sharing import SharingSetting
from reptheory.sequel.langevin import sample

__all__ = ["OBSERVABLES", "MARGIN_SD", "LEVEL", "chains", "Transition", "transition", "Interpolation",
           "interpolation"]

#: what :func:`sample` returns per signal (each averaged over the samples of the second half of the chain)
OBSERVABLES = {
    "loss": "𝓛, the mean squared error over the supervised steps and inputs",
    "overlap": "cross-time overlap: mean over step pairs 2 ≤ t < t′ ≤ T of |Q_tt′|",
    "overlap_drift": "the overlap's mean over the chain's last quarter minus its mean over the third quarter",
    "cka": "mean over the same pairs of the linear CKA of the kernels K_t and K_t′",
    "alignment": "alignment of the last step's kernel K_T with y yᵀ (endpoint task)",
    "top_eig": "largest |eigenvalue| of W/√N (DNN: the largest over its layers), over the second half",
    "step_error": "per step: mean over inputs of (f_t − y_t)², over the mean of y_t² (1: the output 0)",
    "diverged": "the chain left the finite numbers",
}


def chains(st: SharingSetting, n_jobs: int | None = None, progress: bool | None = None) -> dict:
    """Every chain of ``st``: both networks at every width and seed, in parallel processes, largest first.

    Returns ``{observable: array}`` with axes ``(network, width, signal, seed)`` (``network`` 0: the RNN, 1: the
    DNN; ``step_error`` has a last axis over the steps), and ``"diverged_count"``, the chains that diverged.

    >>> import dataclasses
    >>> from reptheory.configs.sharing import SHARING_TRANSITION
    >>> tiny = dataclasses.replace(SHARING_TRANSITION, widths=(8,), signals=(1.0,), seeds=(0,),
    ...                            langevin_steps=20, every=10)
    >>> chains(tiny, n_jobs=1, progress=False)["overlap"].shape
    (2, 1, 1, 1)
    """
    jobs = [(st, shared, n, seed) for n in sorted(st.widths, reverse=True) for shared in (True, False)
            for seed in st.seeds]
    runs = dict(zip([(sh, n, sd) for _, sh, n, sd in jobs],
                    parallel.run(sample, jobs, n_jobs, progress, "Langevin chains")))
    out = {}
    for key in OBSERVABLES:
        out[key] = np.array([[np.stack([runs[sh, n, sd][key] for sd in st.seeds], axis=1)
                              for n in st.widths] for sh in (True, False)])
    out["diverged_count"] = int(out["diverged"].sum())
    return out


#: how far a gap must clear the seed spread to count (a multiple of the seeds' standard deviation)
MARGIN_SD = 3.0
#: the one-sided level of the exact rank test of claim 2 (5 seeds per network allow p down to 1/252)
LEVEL = 0.05


@dataclass(frozen=True)
class Transition:
    """Claim 1 read from the chains of an endpoint setting: arrays over ``(network, width, signal, seed)``.

    The gap at signal ``s`` is the RNN's cross-time overlap minus the DNN's, seed by seed (both start from the same
    weights). At the smallest signal both networks sit near their prior, where finite width alone puts the RNN's
    overlap above the DNN's (the *floor* gap). The RNN has *departed* at ``s`` when every seed's gap exceeds the
    largest floor gap by more than :data:`MARGIN_SD` floor standard deviations over seeds: a rule on each seed,
    so that one chain in another mode cannot hide the departure of the others, nor one chain alone make it. The
    threshold is the smallest signal from which the RNN stays departed.
    """

    setting: SharingSetting
    runs: dict               #: :func:`chains`' arrays

    def _gap(self, w: int) -> np.ndarray:
        return self.runs["overlap"][0, w] - self.runs["overlap"][1, w]           # (signal, seed)

    def departed(self, width: int) -> np.ndarray:
        """For each signal: has the RNN's overlap departed from the DNN's at ``width``? (bool per signal)"""
        gap = self._gap(self.setting.widths.index(width))
        floor = gap[0]
        return gap.min(1) > floor.max() + MARGIN_SD * floor.std(ddof=1)

    def threshold(self, width: int) -> tuple[float | None, float]:
        """``(s_below, s_star)``: the grid's signal from which the RNN stays departed at ``width`` (``s_star``) and
        the grid's signal just below it, so that the transition lies between them; ``(None, inf)`` when the RNN is
        not departed at the largest signal."""
        d = self.departed(width)
        s = self.setting.signals
        for i in range(1, len(s)):
            if d[i:].all():
                return s[i - 1], s[i]
        return None, float("inf")

    def same_below(self, width: int, key: str) -> bool:
        """Below the threshold at ``width``, does ``key`` (``"loss"``, ``"alignment"``, ...) of the two networks
        differ by at most :data:`MARGIN_SD` seed standard deviations (the larger network's) at every signal?"""
        w = self.setting.widths.index(width)
        _, star = self.threshold(width)
        a, b = self.runs[key][0, w], self.runs[key][1, w]
        below = [i for i, s in enumerate(self.setting.signals) if s < star]
        sd = np.maximum(a.std(1, ddof=1), b.std(1, ddof=1))
        return bool(np.all(np.abs(a.mean(1) - b.mean(1))[below] <= MARGIN_SD * sd[below]))

    def width_slope(self, network: int, key: str = "overlap") -> float:
        """The least-squares slope of log(median over seeds of ``key`` at the largest signal) against log N:
        about −1/2 for a finite-width effect, 0 for one that survives the wide limit."""
        return _stats.log_slope(self.setting.widths, self.runs[key][network, :, -1])

    def width_slope_interval(self, network: int, key: str = "overlap", level: float = 0.95, n_boot: int = 2000,
                             seed: int = 0) -> tuple[float, float]:
        """A bootstrap interval of :meth:`width_slope`: what it resamples is the seeds, with replacement, at each
        width independently (the chains of different widths are independent); percentiles at ``level``."""
        return _stats.log_slope_interval(self.setting.widths, self.runs[key][network, :, -1], level, n_boot, seed)

    def summary(self) -> list[dict]:
        """One row per width: each network's overlap (mean ± seed sd) at the smallest and the largest signal, the
        threshold's bracket, and the RNN's top absolute eigenvalue against the DNN's at the largest signal."""
        st, r = self.setting, self.runs
        ms = lambda v: f"{np.mean(v):.3f} ± {np.std(v, ddof=1):.3f}"
        out = []
        for w, n in enumerate(st.widths):
            below, star = self.threshold(n)
            out.append({"N": n, f"RNN overlap, s = {st.signals[0]:g}": ms(r["overlap"][0, w, 0]),
                        f"DNN overlap, s = {st.signals[0]:g}": ms(r["overlap"][1, w, 0]),
                        "threshold": "none on the grid" if below is None else f"{below:g} < s* ≤ {star:g}",
                        f"RNN overlap, s = {st.signals[-1]:g}": ms(r["overlap"][0, w, -1]),
                        f"DNN overlap, s = {st.signals[-1]:g}": ms(r["overlap"][1, w, -1]),
                        f"top |λ| RNN / DNN, s = {st.signals[-1]:g}":
                            f"{np.mean(r['top_eig'][0, w, -1]):.2f} / {np.mean(r['top_eig'][1, w, -1]):.2f}"})
        return out


def transition(st: SharingSetting, n_jobs: int | None = None, progress: bool | None = None) -> Transition:
    """Claim 1: every chain of the endpoint setting ``st`` (:func:`chains`), read as a :class:`Transition`."""
    if st.task != "endpoint":
        raise ValueError(f"transition needs an endpoint setting, got {st.name!r} with task = {st.task!r}")
    return Transition(st, chains(st, n_jobs, progress))


@dataclass(frozen=True)
class Interpolation:
    """Claim 2 read from the chains of a sequence setting: each seed's relative error at the supervised steps and
    at the steps left out, per network (arrays over seeds, at the setting's first width and signal).

    The test: the RNN's errors at the steps left out against the DNN's, an exact one-sided Mann–Whitney test over
    seeds in each direction (what it resamples: the assignment of the seeds' errors to the two networks), decided
    only when significant at :data:`LEVEL` *and* the gap of the means exceeds :data:`MARGIN_SD` seed standard
    deviations (the larger network's).
    """

    setting: SharingSetting
    runs: dict

    def errors(self, network: int, supervised: bool) -> np.ndarray:
        """Each seed's error, averaged over the supervised steps or over those left out (``network`` 0: the RNN)."""
        sup = [t - 1 for t in self.setting.supervised_steps]
        rest = [t for t in range(self.setting.time_steps) if t not in sup]
        e = self.runs["step_error"][network, 0, 0]                                  # (seed, step)
        return e[:, sup if supervised else rest].mean(1)

    def verdict(self) -> tuple[str, float]:
        """``("RNN" | "DNN" | "undecided", p)``: which network interpolates the steps left out better."""
        from scipy.stats import mannwhitneyu
        rnn, dnn = self.errors(0, False), self.errors(1, False)
        sd = max(rnn.std(ddof=1), dnn.std(ddof=1))
        for better, a, b in (("RNN", rnn, dnn), ("DNN", dnn, rnn)):
            p = float(mannwhitneyu(a, b, alternative="less", method="exact").pvalue)
            if p < LEVEL and b.mean() - a.mean() > MARGIN_SD * sd:
                return better, p
        return "undecided", float(mannwhitneyu(rnn, dnn, alternative="two-sided", method="exact").pvalue)


def interpolation(st: SharingSetting, n_jobs: int | None = None, progress: bool | None = None) -> Interpolation:
    """Claim 2: every chain of the sequence setting ``st`` (one width, one signal), read as an
    :class:`Interpolation`."""
    if st.task != "sequence" or st.supervised is None or len(st.widths) != 1 or len(st.signals) != 1:
        raise ValueError(f"interpolation needs a sequence setting with supervised steps, one width and one signal, "
                         f"got {st.name!r}: task = {st.task!r}, supervised = {st.supervised!r}, "
                         f"widths = {st.widths!r}, signals = {st.signals!r}")
    if len(st.supervised_steps) == st.time_steps:
        raise ValueError(f"{st.name!r}: supervised = {st.supervised!r} leaves no step out")
    return Interpolation(st, chains(st, n_jobs, progress))
