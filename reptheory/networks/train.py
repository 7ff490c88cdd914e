"""Training the point-dataset networks and recording what the theory needs (paper Sec. 3, App. B).

Training on the ½-MSE loss ``½ mean((ŷ − y)²)`` (mean over points and output dimensions), as in the
authors' code: full batch (one step per epoch) unless the setting has a ``batch_size``, then shuffled
minibatches (a fixed-seed permutation per epoch). At the start of each epoch (and once more after the last)
the record holds the loss, the outputs and, for every hidden layer, the matrix of squared distances between the
points' representations. This module knows nothing of the theory; :mod:`reptheory.networks.measure` turns a record
into the theory's variables.

Two engines give the same numbers (tested against each other; for dropout, with the same masks):

* ``"numba"``: the dense nets (the MLP, its skip-connection and dropout variants) trained full batch with SGD
  or Adam, as one fused kernel per epoch loop (forward pass, then one backward pass that reads and writes each
  weight matrix once, no autograd); used whenever it applies on the CPU. Dropout masks come from numba's
  Mersenne Twister seeded with the run's seed (PyTorch's own masks differ, so the two engines agree on a
  dropout net in distribution, and exactly when the kernel's masks are replayed: tested).
* ``"torch"``: any architecture and optimiser of :mod:`reptheory.networks.models`, with autograd.

``record="ends"`` runs (below) are trained in the one batched engine (:func:`train_ends`, engine
``"torch-batch"``), many seeds at once.

A run whose loss becomes non-finite or grows above ``1e6 ×`` its initial value is stopped and marked
``diverged``; callers must count it, never average it. A setting with ``stop_loss`` stops after the first
record whose loss is below it (the paper's "train until the loss is below 1e-4"); the arrays then end there.
Every engine applies this one rule (:mod:`reptheory.networks.stop`).

The engines live in their own modules (:mod:`~reptheory.networks.engine_numba`,
:mod:`~reptheory.networks.engine_torch`, :mod:`~reptheory.networks.engine_batch`, the paper's use of the one
batched engine :mod:`~reptheory.networks.stack` that the lab's probes share); this module is their one
entry point: :func:`train`, :func:`train_batch` (many trials at once), :func:`train_many` (seeds in worker
processes), :class:`Run` and :func:`device`.

Device: ``$REPTHEORY_DEVICE`` (``cpu`` by default, ``cuda``, ``cuda:N``, ``mps`` or ``auto``) or the ``device``
argument. Off the CPU every run uses the torch engine (the numba kernel is CPU code); results differ from
CPU runs in float32 rounding, so the device is part of a run's cache key.

``record="ends"`` is for datasets too large for per-epoch distance matrices (the blobs, MNIST): the loss is
recorded every epoch, the hidden activations of every layer only before the first and after the last update
(``Run.hidden``), and ``dist2`` and ``outputs`` are empty, unless ``track`` names a few points: then
``outputs`` and ``dist2`` are recorded every epoch for those points only (in the order given).
"""
from __future__ import annotations

import time

import numpy as np
import torch

from reptheory import parallel as _par
from reptheory import validate as _v
from reptheory.configs import Setting
from reptheory.configs.architectures import ARCHITECTURES
from reptheory.networks import models as _models
from reptheory.networks.engine_batch import train_batch, train_ends
from reptheory.networks.engine_numba import train_numba
from reptheory.networks.engine_torch import train_torch
from reptheory.networks.run import Run, device, finite_data

__all__ = ["Run", "train", "train_batch", "train_ends", "train_many", "engine_for", "batched", "run_engine", "device"]


def engine_for(setting: Setting) -> str:
    """``"numba"`` for the dense nets (MLP, skip connections, dropout) trained full batch with SGD or Adam on the
    CPU, else ``"torch"``."""
    full = setting.batch_size is None
    on_cpu = device() == "cpu"
    return "numba" if setting.architecture.dense and full and on_cpu else "torch"


def batched(setting: Setting) -> bool:
    """Whether two-point runs of ``setting`` train many at once (:func:`train_batch`, the one batched engine):
    full-batch SGD on a GPU (or any device other than the CPU) for every architecture, where one run alone
    leaves the device idle; on the CPU for the architectures without a numba kernel (the CNN), whose PyTorch
    steps cost less per trial in a batch (Fig. 5's CNN on this 2-core CPU: 19.1 ms a step alone, 15.2 ms a
    trial step in a batch of 12, 13.9 ms in a batch of 25; ``reptheory.bench.cnn_batch_rates``)."""
    full_sgd = setting.optimizer == "sgd" and setting.batch_size is None
    return full_sgd and (device() != "cpu" or engine_for(setting) == "torch")


def run_engine(setting: Setting) -> str:
    """The engine that trains a two-point run of ``setting`` here, as a cached run's description names it:
    ``"torch-batch"`` where :func:`batched` holds, else :func:`engine_for`'s."""
    return "torch-batch" if batched(setting) else engine_for(setting)


def train(setting: Setting, X, Y, seed: int, engine: str | None = None, record: str = "pairs",
          track: tuple | None = None) -> Run:
    """Train ``setting``'s network from ``models.build(setting, …, seed)`` on ``(X, Y)``.

    ``record``: ``"pairs"`` (distance matrices of every layer at every epoch) or ``"ends"`` (see the module
    docstring; :func:`train_ends` with this one seed), with ``track`` (point indices) recorded every epoch."""
    if not isinstance(setting, Setting):
        raise TypeError(f"setting must be a reptheory.configs.Setting, got {type(setting).__name__}")
    X, Y = finite_data("X", X), finite_data("Y", Y)
    if X.ndim != 2 or Y.ndim != 2 or X.shape[0] != Y.shape[0] or X.shape[0] < 2:
        raise ValueError(f"X and Y must be 2-D with the same number (>= 2) of points, got {X.shape} and {Y.shape}")
    if record not in ("pairs", "ends"):
        raise ValueError(f"record must be 'pairs' or 'ends', got {record!r}")
    if track is not None:
        track = tuple(track)
        if record != "ends" or len(track) < 2 or not all(isinstance(i, (int, np.integer)) and 0 <= i < X.shape[0]
                                                        for i in track):
            raise ValueError(f"track must be >= 2 point indices in [0, {X.shape[0] - 1}] with record='ends', "
                             f"got {track!r}")
    if record == "ends":
        if engine not in (None, "torch-batch"):
            raise ValueError(f"record='ends' runs in the batched engine ('torch-batch'), not engine={engine!r}")
        return train_ends(setting, X, Y, [seed], track)[0]
    engine = engine or engine_for(setting)
    if engine not in ("numba", "torch"):
        raise ValueError(f"engine must be 'numba' or 'torch', got {engine!r}")
    if engine == "numba" and engine_for(setting) != "numba":
        dense = ", ".join(n for n, a in ARCHITECTURES.items() if a.dense)
        raise ValueError(f"the numba engine covers the dense archs ({dense}) trained full batch on the CPU, "
                         f"not {setting.arch}/{setting.optimizer}/batch_size={setting.batch_size}")
    torch.set_num_threads(1)
    model = _models.build(setting, X.shape[1], Y.shape[1], seed)
    t0 = time.perf_counter()
    if engine == "numba":
        loss, outs, d2, div = train_numba(model, setting, X, Y, seed)
    else:
        loss, outs, d2, div = train_torch(model, setting, X, Y, seed)
    return Run(setting, seed, engine, X, Y, loss, outs, d2, bool(div), time.perf_counter() - t0)


def train_many(setting: Setting, X, Y, seeds, n_jobs: int = 2) -> list[Run]:
    """:func:`train` for several seeds in ``n_jobs`` worker processes (one torch thread each).

    Independent trials of the 500-unit nets do not share work, so processes, not batched tensors, are the
    way to use more cores (batched kernels only add memory traffic at this width)."""
    seeds = _v.seeds("seeds", seeds)
    return _par.run(train, [(setting, X, Y, sd) for sd in seeds], n_jobs)
