"""Figs. 4 and 9 (Sec. 3.4, 4.6): two MNIST digits and the first hundred, trained, against the theory; what the two
figures check, computed from the networks (:func:`mnist_summary`, also of the committed paper-scale record)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reptheory import cache as _cache
from reptheory import configs as _configs
from reptheory import parallel as _par
from reptheory.experiments.result import TwoPointResult
from reptheory.experiments.runs import _fit_run, _setting, _stacks, summary
from reptheory.networks import data as _data
from reptheory.networks import models as _models
from reptheory.networks import structure as _structure
from reptheory.networks import train as _train
from reptheory.theory import stats as _stats


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


def _mnist_desc(s: _configs.Setting, seed: int, m) -> dict:
    return {"setting": _models.key_fields(s), "seed": seed, "data": m.source, "pair": (m.first(0), m.first(1))}


def _mnist_run(s: _configs.Setting, seed: int) -> dict:
    m = _data.load_mnist()
    desc = _mnist_desc(s, seed, m)
    return _cache.cached("mnist_run", desc, lambda: _train.train(s, m.normalised(), m.one_hot(), seed, record="ends",
                                                               track=desc["pair"]).tracked_arrays(s.layer, MNIST_FIRST))


def _train_mnist(s: _configs.Setting, seeds) -> None:
    """Train the MNIST networks of ``seeds`` that the cache lacks in one stack
    (:func:`reptheory.networks.train.train_ends`) and store each as soon as it has ended, under the key
    :func:`_mnist_run` reads (:func:`reptheory.cache.fill`)."""
    m = _data.load_mnist()
    seeds = list(seeds)
    descs = [_mnist_desc(s, sd, m) for sd in seeds]
    _cache.fill("mnist_run", descs, lambda todo, done: _train.train_ends(
        s, m.normalised(), m.one_hot(), [seeds[k] for k in todo], track=descs[0]["pair"], done=done),
                lambda run: run.tracked_arrays(s.layer, MNIST_FIRST))


def mnist(setting, profile: str | None = None, n_jobs: int | None = None, progress: bool | None = None) -> list[MnistResult]:
    """Train (or load) the MNIST networks of ``setting`` (one per seed, stacked in the batched engine, the stacks
    in ``n_jobs`` processes) on :func:`reptheory.networks.data.load_mnist`, tracking the first "0" and the first
    "1" every epoch, and fit Eq. 7 to that pair (Fig. 4)."""
    s = _setting(setting, profile)
    if s.dataset != "mnist":
        raise ValueError(f"setting {s.name!r} has dataset {s.dataset!r}, not 'mnist'")
    m = _data.load_mnist()
    missing = [sd for sd in s.seeds if not _cache.exists("mnist_run", _mnist_desc(s, sd, m))]
    _par.run(_train_mnist, [(s, part) for _, part in _stacks({s.name: missing}, n_jobs)], n_jobs, progress,
             f"MNIST {s.name}", keep=False)
    runs = [_mnist_run(s, seed) for seed in s.seeds]
    pair = (m.first(0), m.first(1))
    X, Y = m.normalised()[list(pair)], m.one_hot()[list(pair)]
    out = []
    for seed, a in zip(s.seeds, runs):
        run = _train.Run.from_arrays(a, s, seed, "torch", X, Y)
        out.append(MnistResult(s, seed, m.source, a["loss"], pair, _fit_run(s, seed, run, None),
                               a["H_first"].astype(float), np.asarray(m.labels[:MNIST_FIRST]), float(a["seconds"])))
    return out


#: the predictions of the network's class structure that Fig. 9 compares (Eq. 50 as coded, class-balanced,
#: and the input distances as a baseline)
MNIST_PREDICTIONS = ("Eq. 50 as coded (sum)", "Eq. 50 class-balanced (mean)", "input distances (baseline)")


def mnist_matrices(nets, mn) -> tuple[np.ndarray, np.ndarray, dict]:
    """Fig. 9's matrices over the first 100 digits: their labels ``y``, the networks' mean squared hidden
    distances (averaged over ``nets``), and each of :data:`MNIST_PREDICTIONS` squared (Eq. 50 as coded and
    class-balanced, :func:`reptheory.networks.structure.eq50_prediction`; the normalised input distances)."""
    y = nets[0].labels_first
    net_sq = np.mean([_structure.distances(n.H_first) ** 2 for n in nets], axis=0)
    P_sum = _structure.eq50_prediction(mn.images, mn.labels)
    P_bal = _structure.eq50_prediction(mn.images, mn.labels, balanced=True)
    pred = dict(zip(MNIST_PREDICTIONS, (P_sum[y[:, None], y[None, :]] ** 2, P_bal[y[:, None], y[None, :]] ** 2,
                                        _structure.distances(mn.normalised()[:len(y)]) ** 2)))
    return y, net_sq, pred


def mnist_fig4_rows(nets) -> list[dict]:
    """Fig. 4's table: per MNIST network, the tracked pair's fit (:func:`reptheory.experiments.summary`: each
    curve's deviation from Eq. 7, the rates; Eq. 9's column left out, the training loss being all the
    digits'), its seed and its final training loss."""
    return [{k: v for k, v in summary(n.two_point).items() if k != "dev loss"}
            | {"seed": n.seed, "final loss": float(n.loss[-1])} for n in nets]


def mnist_summary(nets, mn, matrices=None) -> dict:
    """What Figs. 4 and 9 check, computed from MNIST networks (:func:`reptheory.experiments.mnist`) on the
    digits ``mn`` (:func:`reptheory.networks.data.load_mnist`); ``matrices``: :func:`mnist_matrices` of the same, if
    already computed.

    * ``fig4``: :func:`mnist_fig4_rows`;
    * ``fig9``: the networks' mean squared distances against each of :data:`MNIST_PREDICTIONS`
      (:func:`reptheory.networks.structure.compare_matrices`), the within/between-class distance ratio, and per network
      the class-balanced prediction's correlations with their mean and Student-t 95 % interval over the
      networks (:func:`reptheory.theory.stats.mean_interval`), and the input baseline's correlations with
      each network (``"per network, input baseline"``; the committed 10-network record predates it).
    """
    y, net_sq, pred = mnist_matrices(nets, mn) if matrices is None else matrices
    same = (y[:, None] == y[None, :]) & ~np.eye(len(y), dtype=bool)
    per_net = [_structure.compare_matrices(pred[MNIST_PREDICTIONS[1]], _structure.distances(n.H_first) ** 2, y)
               for n in nets]
    per_net_input = [_structure.compare_matrices(pred[MNIST_PREDICTIONS[2]],
                                                 _structure.distances(n.H_first) ** 2, y) for n in nets]
    intervals = {}
    for key in ("r all pairs", "r different-class pairs", "r class-pair means"):
        m, lo, hi = _stats.mean_interval([s[key] for s in per_net])
        intervals[key] = {"mean": m, "low": lo, "high": hi}
    return {"networks": len(nets), "data": mn.source,
            "fig4": mnist_fig4_rows(nets),
            "fig9": {"scores": {k: _structure.compare_matrices(M, net_sq, y) for k, M in pred.items()},
                     "within / between": float(net_sq[same].mean() / net_sq[y[:, None] != y[None, :]].mean()),
                     "per network": per_net, "per network, input baseline": per_net_input,
                     "intervals": intervals}}
