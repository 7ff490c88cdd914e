"""Figs. 4 and 9 (Sec. 3.4, 4.6): two MNIST digits and the first hundred, trained, against the theory."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reptheory import cache as _cache
from reptheory import configs as _configs
from reptheory import parallel as _par
from reptheory.experiments.result import TwoPointResult
from reptheory.experiments.runs import _fit_run, _setting
from reptheory.networks import data as _data
from reptheory.networks import models as _models
from reptheory.networks import train as _train


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


def _mnist_run(s: _configs.Setting, seed: int) -> dict:
    m = _data.load_mnist()
    pair = (m.first(0), m.first(1))
    desc = {"setting": _models.key_fields(s), "seed": seed, "data": m.source, "pair": pair}

    return _cache.cached("mnist_run", desc, lambda: _train.train(
        s, m.normalised(), m.one_hot(), seed, record="ends", track=pair).tracked_arrays(s.layer, MNIST_FIRST))


def mnist(setting, profile: str | None = None, n_jobs: int | None = None, progress: bool | None = None) -> list[MnistResult]:
    """Train (or load) the MNIST networks of ``setting`` (one per seed) on :func:`reptheory.networks.data.load_mnist`,
    tracking the first "0" and the first "1" every epoch, and fit Eq. 7 to that pair (Fig. 4)."""
    s = _setting(setting, profile)
    if s.dataset != "mnist":
        raise ValueError(f"setting {s.name!r} has dataset {s.dataset!r}, not 'mnist'")
    runs = _par.run(_mnist_run, [(s, seed) for seed in s.seeds], n_jobs, progress, f"MNIST {s.name}")
    m = _data.load_mnist()
    pair = (m.first(0), m.first(1))
    X, Y = m.normalised()[list(pair)], m.one_hot()[list(pair)]
    out = []
    for seed, a in zip(s.seeds, runs):
        run = _train.Run.from_arrays(a, s, seed, "torch", X, Y)
        out.append(MnistResult(s, seed, m.source, a["loss"], pair, _fit_run(s, seed, run, None),
                               a["H_first"].astype(float), np.asarray(m.labels[:MNIST_FIRST]), float(a["seconds"])))
    return out
