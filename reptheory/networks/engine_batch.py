"""The paper's two-point networks trained many at once (:func:`train_batch`) in the one batched engine,
:func:`reptheory.networks.stack.train_stack`, with the records of :mod:`reptheory.networks.train`."""
from __future__ import annotations

import torch

from reptheory.configs import Setting
from reptheory.networks import models as _models
from reptheory.networks.run import Run, device, finite_data
from reptheory.networks.stack import stacked, train_stack

__all__ = ["train_batch"]


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

    def d2(h):                                    # (..., points, units) -> (..., points, points)
        sq = (h ** 2).sum(-1)
        return (sq[..., :, None] + sq[..., None, :] - 2.0 * h @ h.transpose(-1, -2)).clamp_min(0)

    def record(e, act, out, hidden):
        hs = [h.detach().double().reshape(len(act), n, -1) for h in hidden]   # (trials, points, units) each
        if len({h.shape for h in hs}) == 1:       # layers of one width: one batched product for all of them
            d2_rec[e, act] = d2(torch.stack(hs, 1))
        else:
            for l, h in enumerate(hs):
                d2_rec[e, act, l] = d2(h)
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
