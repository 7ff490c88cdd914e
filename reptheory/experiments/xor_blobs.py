"""Figs. 6, 7, 8, 12 (Sec. 4.4, 4.5, App. C.2): XOR and the blobs, distance matrices against Eq. 10-11."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reptheory import cache as _cache
from reptheory import configs as _configs
from reptheory import parallel as _par
from reptheory.experiments.fig5 import RateEstimate
from reptheory.experiments.runs import _setting, _stacks
from reptheory.networks import data as _data
from reptheory.networks import structure as _structure
from reptheory.networks import models as _models
from reptheory.networks import train as _train


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
    def scale(self) -> float:
        """The mean distance of the different-output pairs after training over the same mean in the theory's
        matrix: 1 when Eq. 10 gets the representation's scale right, not only its pattern."""
        n = len(self.D_end)
        diff = [(i, j) for i in range(n) for j in range(i + 1, n) if not np.allclose(self.run.Y[i], self.run.Y[j])]
        return float(np.mean([self.D_end[p] for p in diff]) / np.mean([self.D_theory[p] for p in diff]))

    @property
    def change(self) -> tuple[float, float]:
        """Relative change of the trained matrix against the initial one: (Frobenius, largest entry)."""
        return _structure.relative_change(self.D_end, self.D0)

    def row(self, initial: bool = True, theory: bool = True) -> dict:
        """One row of a figure's XOR table: the final loss and epochs, the same-output ratios (at
        initialisation too with ``initial``, Eq. 10's with ``theory``) and the relative change of the
        distance matrix (Frobenius, largest entry); with ``theory`` also :attr:`scale`."""
        r = {"setting": self.setting.name, "seed": self.seed, "final loss": float(self.run.loss[-1]),
             "epochs": self.run.loss.size - 1}
        if initial:
            r |= {"ratio 00~11 (init)": self.ratios_0[(0, 3)], "ratio 01~10 (init)": self.ratios_0[(1, 2)]}
        r |= {"ratio 00~11": self.ratios[(0, 3)], "ratio 01~10": self.ratios[(1, 2)]}
        if theory:
            r |= {"theory 00~11": self.theory_ratios[(0, 3)], "theory 01~10": self.theory_ratios[(1, 2)],
                  "scale (trained / theory)": self.scale}
        return r | {"rel. change (Frobenius)": self.change[0], "max rel. change (entry)": self.change[1]}


@dataclass(frozen=True)
class XorStructure:
    """Over the seeds of one XOR setting (:func:`xor_structure`): whether every run converged (final loss below
    ``1e-3``, none diverged), the median same-output ratios ``00~11`` and ``01~10``, and the median separation."""

    converged: bool
    median_ratio_00_11: float
    median_ratio_01_10: float
    median_separation: float


def xor_structure(results: list) -> XorStructure:
    """The rich-regime structure of the :class:`XorResult` seeds ``results`` (Figs. 6 and 14 assert on it)."""
    return XorStructure(all(not r.run.diverged and r.run.loss[-1] < 1e-3 for r in results),
                        float(np.median([r.ratios[(0, 3)] for r in results])),
                        float(np.median([r.ratios[(1, 2)] for r in results])),
                        float(np.median([r.separation for r in results])))


def _xor_run(s: _configs.Setting, seed: int) -> _train.Run:
    X, Y = _data.xor()
    desc = {"setting": _models.key_fields(s), "seed": seed, "engine": _train.engine_for(s)}

    a = _cache.cached("xor_run", desc, lambda: _train.train(s, X, Y, seed).to_arrays(layer=s.layer))
    return _train.Run.from_arrays(a, s, seed, desc["engine"], X, Y)


def xor(setting, rates: RateEstimate, profile: str | None = None, n_jobs: int | None = None,
        progress: bool | None = None) -> list[XorResult]:
    """Train (or load) the XOR runs of ``setting`` (one per seed) and the theory's final distance matrix
    from ``rates`` (for the paper: :func:`mean_rates` of ``"fig5_fit/default"``). The recorded layer of
    the returned runs is the setting's tracked layer only (``run.dist2[:, 0]``)."""
    s = _setting(setting, profile)
    if s.dataset != "xor":
        raise ValueError(f"setting {s.name!r} has dataset {s.dataset!r}, not 'xor'")
    runs = _par.run(_xor_run, [(s, seed) for seed in s.seeds], n_jobs, progress, f"XOR {s.name}")
    out = []
    X, Y = _data.xor()
    dx2 = np.sum((X[:, None] - X[None]) ** 2, axis=-1).astype(float)
    dy2 = np.sum((Y[:, None] - Y[None]) ** 2, axis=-1).astype(float)
    for seed, run in zip(s.seeds, runs):
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


def _blobs_desc(s: _configs.Setting, seed: int) -> dict:
    return {"setting": _models.key_fields(s), "seed": seed}


def _blobs_run(s: _configs.Setting, seed: int) -> dict:
    b = _data.blobs()
    return _cache.cached("blobs_run", _blobs_desc(s, seed),
                         lambda: _train.train(s, b.X, b.Y, seed, record="ends").ends_arrays(s.layer))


def _train_blobs(s: _configs.Setting, seeds) -> None:
    """Train the blob runs of ``seeds`` that the cache lacks in one stack (:func:`reptheory.networks.train.train_ends`)
    and store each as soon as it has ended, under the key :func:`_blobs_run` reads (:func:`reptheory.cache.fill`)."""
    b = _data.blobs()
    seeds = list(seeds)
    _cache.fill("blobs_run", [_blobs_desc(s, sd) for sd in seeds],
                lambda todo, done: _train.train_ends(s, b.X, b.Y, [seeds[k] for k in todo], done=done),
                lambda run: run.ends_arrays(s.layer))


def blobs(settings, profile: str | None = None, n_jobs: int | None = None, progress: bool | None = None) -> dict:
    """Train (or load) every seed of each blob setting (names or Settings), the seeds of a setting stacked in the
    batched engine, the stacks in ``n_jobs`` processes (:func:`reptheory.parallel.stacks`); returns
    ``{name: [BlobsResult per seed]}``."""
    ss = [_setting(x, profile) for x in ([settings] if isinstance(settings, (str, _configs.Setting)) else settings)]
    for s in ss:
        if s.dataset != "blobs":
            raise ValueError(f"setting {s.name!r} has dataset {s.dataset!r}, not 'blobs'")
    longest = sorted(ss, key=lambda s: -s.epochs)        # the longest first
    missing = {k: [sd for sd in s.seeds if not _cache.exists("blobs_run", _blobs_desc(s, sd))]
               for k, s in enumerate(longest)}
    _par.run(_train_blobs, [(longest[k], part) for k, part in _stacks(missing, n_jobs)], n_jobs, progress,
             "blob runs", keep=False)
    done = {(s.name, seed): _blobs_run(s, seed) for s in ss for seed in s.seeds}
    b = _data.blobs()
    out = {}
    for s in ss:
        out[s.name] = []
        for seed in s.seeds:
            a = done[s.name, seed]
            out[s.name].append(BlobsResult(s, seed, b, a["loss"], a["H0"].astype(float), a["H_end"].astype(float),
                                           bool(a["diverged"]), float(a["seconds"])))
    return out
