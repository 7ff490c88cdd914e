"""The paper's networks trained many at once in the one batched engine, :func:`reptheory.networks.stack.train_stack`,
with the records of :mod:`reptheory.networks.train`: the two-point networks (:func:`train_batch`) and the blob and
MNIST networks, whose records are their loss and their representations at the ends (:func:`train_ends`)."""
from __future__ import annotations

import numpy as np
import torch

from reptheory.configs import Setting
from reptheory.networks import models as _models
from reptheory.networks.run import Run, device, finite_data
from reptheory.networks.stack import stacked, train_stack

__all__ = ["train_batch", "train_ends"]


def _d2(h: torch.Tensor) -> torch.Tensor:
    """Squared distances between the points' representations: ``(..., points, units) -> (..., points, points)``."""
    sq = (h ** 2).sum(-1)
    return (sq[..., :, None] + sq[..., None, :] - 2.0 * h @ h.transpose(-1, -2)).clamp_min(0)


def train_batch(setting: Setting, datasets, seeds, done=None) -> list[Run]:
    """Train one network of ``setting`` per ``(X, Y)`` in ``datasets`` (seed ``seeds[k]`` for the ``k``-th), full
    batch SGD, all at once (:func:`train_stack`). Each trial stops, diverges and is recorded exactly as with
    :func:`~reptheory.networks.train.train`: the loss, the outputs and every hidden layer's squared distances
    between the points at every epoch. Results agree with the single-trial torch engine to float32 rounding.

    ``done(k, run)``, if given, is called with each trial's :class:`Run` as soon as the trial has ended, so that
    a caller can store it before the batch finishes: an interrupted batch keeps its finished trials. A trial's
    ``seconds`` is the batch's wall time until the trial ended, shared over the batch's trials."""
    if not isinstance(setting, Setting):
        raise TypeError(f"setting must be a reptheory.configs.Setting, got {type(setting).__name__}")
    if setting.optimizer != "sgd" or setting.batch_size is not None:
        raise ValueError("train_batch covers full-batch SGD only, not "
                         f"optimizer={setting.optimizer!r}, batch_size={setting.batch_size!r}")
    datasets, seeds = list(datasets), list(seeds)
    if not datasets or len(datasets) != len(seeds):
        raise ValueError(f"need one seed per dataset, got {len(datasets)} datasets and {len(seeds)} seeds")
    arrays = [(finite_data(f"datasets[{k}] X", X), finite_data(f"datasets[{k}] Y", Y))
              for k, (X, Y) in enumerate(datasets)]
    if len({(X.shape, Y.shape) for X, Y in arrays}) != 1 or arrays[0][0].ndim != 2 or arrays[0][0].shape[0] < 2:
        raise ValueError("every dataset must be 2-D (X, Y) of one common shape with >= 2 points")
    torch.set_num_threads(1)
    R, (n, d_in), k_out = len(arrays), arrays[0][0].shape, arrays[0][1].shape[1]
    nets = [_models.build(setting, d_in, k_out, sd) for sd in seeds]
    dev = device()
    params = stacked(nets, dev)
    tmpl = nets[0].to(dev)                # buffers; its parameters are replaced by ``params`` in each call
    Xs = torch.stack([torch.from_numpy(X) for X, _ in arrays]).to(dev)
    Ys = torch.stack([torch.from_numpy(Y) for _, Y in arrays]).to(dev)
    Yd = Ys.double()
    # The records stay on the device. They are allocated, not zeroed (at the paper profile's 40,000 epochs they
    # are hundreds of MB): every row up to a trial's last record is written before it is read, the rest cut off.
    E, L = setting.epochs, setting.n_tracked
    f64 = dict(dtype=torch.float64, device=dev)
    loss_rec, out_rec = torch.empty((E + 1, R), **f64), torch.empty((E + 1, R, n, k_out), **f64)
    d2_rec = torch.empty((E + 1, R, L, n, n), **f64)

    def record(e, act, out, hidden, live):
        hs = [h.detach().double().reshape(len(act), n, -1) for h in hidden]   # (trials, points, units) each
        if len({h.shape for h in hs}) == 1:       # layers of one width: one batched product for all of them
            d2_rec[e, act] = _d2(torch.stack(hs, 1))
        else:
            for l, h in enumerate(hs):
                d2_rec[e, act, l] = _d2(h)
        out_rec[e, act] = out.double()
        loss_rec[e, act] = 0.5 * ((out.double() - Yd[act]) ** 2).mean(dim=(1, 2))
        return loss_rec[e, act]

    runs: list = [None] * R

    def finished(r, k, diverged, seconds):
        kept = [rec[:k, r].cpu().numpy().copy() for rec in (loss_rec, out_rec, d2_rec)]
        runs[r] = Run(setting, seeds[r], "torch-batch", arrays[r][0], arrays[r][1], *kept, diverged, seconds)
        if done is not None:
            done(r, runs[r])

    train_stack(tmpl, params, (Xs,), Ys, setting.lr, E, record, stop_loss=setting.stop_loss,
                stochastic=setting.architecture.dropout > 0, finished=finished)
    return runs


def train_ends(setting: Setting, X, Y, seeds, track=None, done=None) -> list[Run]:
    """Train one network of ``setting`` per seed in ``seeds`` on ``(X, Y)``, all at once (:func:`train_stack`),
    full batch or in the setting's minibatches (each network in its own order of the points, drawn from a
    generator seeded with its seed), by SGD or Adam, recording as :func:`~reptheory.networks.train.train` does
    with ``record="ends"``: the loss on all the points at every epoch and every hidden layer's activations of
    every point before the first update and at the network's end (``Run.hidden``), and with ``track`` (point
    indices) the outputs and every hidden layer's squared distances of those points at every epoch.

    A network's records do not depend on which networks share its stack: the stack's products are batched ones
    for any two or more networks, and a seed trained alone gets a twin (the same seed again, discarded), since a
    stack of one runs other kernels. ``done(k, run)``, if given, is called with the ``k``-th seed's
    :class:`Run` as soon as it has ended; a run's ``seconds`` is the stack's wall time until it ended, shared
    over the stack's networks."""
    if not isinstance(setting, Setting):
        raise TypeError(f"setting must be a reptheory.configs.Setting, got {type(setting).__name__}")
    X, Y = finite_data("X", X), finite_data("Y", Y)
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds must name at least one network")
    if X.ndim != 2 or Y.ndim != 2 or X.shape[0] != Y.shape[0] or X.shape[0] < 2:
        raise ValueError(f"X and Y must be 2-D with the same number (>= 2) of points, got {X.shape} and {Y.shape}")
    R = len(seeds)
    stack_seeds = seeds * 2 if R == 1 else seeds          # a lone network's twin
    torch.set_num_threads(1)
    (n, d_in), k_out, B = X.shape, Y.shape[1], len(stack_seeds)
    pts = list(range(n)) if track is None else list(track)
    nets = [_models.build(setting, d_in, k_out, sd) for sd in stack_seeds]
    dev = device()
    params = stacked(nets, dev)
    tmpl = nets[0].to(dev)
    Xs = torch.from_numpy(X).to(dev).expand(B, *X.shape)
    Ys = torch.from_numpy(Y).to(dev).expand(B, *Y.shape)
    Yd = Ys.double()
    E, L = setting.epochs, setting.n_tracked
    n_rec = 0 if track is None else E + 1
    f64 = dict(dtype=torch.float64, device=dev)
    loss_rec = torch.empty((E + 1, B), **f64)
    out_rec = torch.empty((n_rec, B, len(pts), k_out), **f64)
    d2_rec = torch.empty((n_rec, B, L, len(pts), len(pts)), **f64)
    hidden: list = [[None, None] for _ in range(B)]     # each network's activations at its first and last record
    idx_pts = torch.as_tensor(pts, device=dev)

    def record(e, act, out, aux, live):
        for i, b in enumerate(act.tolist()):             # views of this pass's activations, no copy
            if e == 0:
                hidden[b][0] = [h[i] for h in aux]
            if live[i]:
                hidden[b][1] = [h[i] for h in aux]
        if n_rec:
            out_rec[e, act] = out[:, idx_pts].double()
            hs = [h.detach()[:, idx_pts].double().reshape(len(act), len(pts), -1) for h in aux]
            if len({h.shape for h in hs}) == 1:
                d2_rec[e, act] = _d2(torch.stack(hs, 1))
            else:
                for l, h in enumerate(hs):
                    d2_rec[e, act, l] = _d2(h)
        loss_rec[e, act] = 0.5 * ((out.double() - Yd[act]) ** 2).mean(dim=(1, 2))
        return loss_rec[e, act]

    runs: list = [None] * R

    def finished(b, k, diverged, seconds):
        if b >= R:                                        # the twin
            return
        kept = [rec[:k, b].cpu().numpy().copy() for rec in (loss_rec, out_rec, d2_rec)]
        ends = np.stack([np.stack([h.detach().float().cpu().numpy() for h in hs]) for hs in hidden[b]])
        runs[b] = Run(setting, seeds[b], "torch-batch", X, Y, *kept, diverged, seconds, ends)
        if done is not None:
            done(b, runs[b])

    train_stack(tmpl, params, (Xs,), Ys, setting.lr, E, record, stop_loss=setting.stop_loss,
                optimizer=setting.optimizer, stochastic=setting.architecture.dropout > 0, finished=finished,
                batch_size=setting.batch_size if (setting.batch_size or n) < n else None, seeds=stack_seeds)
    return runs
