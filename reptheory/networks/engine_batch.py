"""The batched PyTorch engine: independent trials of one architecture in one vectorised model (``torch.func``),
:func:`train_batch`. Each trial follows the stop and divergence rule of :mod:`reptheory.networks.stop`."""
from __future__ import annotations

import time

import numpy as np
import torch

from reptheory.configs import Setting
from reptheory.networks import models as _models
from reptheory.networks.run import Run, device, finite_data
from reptheory.networks.stop import diverged_where

__all__ = ["train_batch", "BATCH_POLL"]

#: :func:`train_batch` asks the device whether any trial still trains every this many epochs (``None``: every
#: epoch on the CPU, every 100 on a GPU, where each question waits for the device to finish its queue)
BATCH_POLL = None


def train_batch(setting: Setting, datasets, seeds, done=None) -> list[Run]:
    """Train one network per ``(X, Y)`` in ``datasets`` (seed ``seeds[k]`` for the ``k``-th), full-batch SGD,
    all at once: the parameters of the trials are stacked and ``torch.func.vmap`` runs forward and gradient
    over the stack, so that the small per-trial matrix products of the 2-point runs become batched ones
    (fewer seconds per trial step: Fig. 5's CNN at width 500 on this 2-core CPU takes 19.1 ms a step alone
    and 15.2 ms a trial step in a batch of 12, ``reptheory.bench.cnn_batch_rates``). Each trial stops,
    diverges and is recorded exactly as with :func:`~reptheory.networks.train.train`; a stopped or diverged
    trial leaves the batch at the next poll (its parameters and data are dropped from the stack, so the batch
    steps only the trials still training), except that the stack keeps at least two trials (a stack of one
    runs other kernels, which round differently), and that with dropout, whose random draws depend on the
    stack, every trial stays in it, frozen once ended. The records are those of a batch that steps every trial
    to the end, bit for bit (``tests/networks``). Results agree with the single-trial torch engine to float32
    rounding.

    ``done(k, run)``, if given, is called with each trial's :class:`Run` as soon as the trial has ended (checked
    every ``poll`` epochs), so that a caller can store it before the batch finishes: an interrupted batch keeps
    its finished trials. A trial's ``seconds`` is the batch's wall time until the trial ended, shared over the
    batch's trials."""
    from torch.func import functional_call, grad, vmap

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
    tmpl = nets[0]
    dev = device()
    params = {name: torch.stack([dict(m.named_parameters())[name].detach() for m in nets]).to(dev)
              for name, _ in tmpl.named_parameters()}
    tmpl.to(dev)                          # buffers; its parameters are replaced by ``params`` in each call
    Xs = torch.stack([torch.from_numpy(X) for X, _ in arrays]).to(dev)
    Ys = torch.stack([torch.from_numpy(Y) for _, Y in arrays]).to(dev)

    def forward(p, x):
        return functional_call(tmpl, p, (x,))

    def loss_aux(p, x, y):
        out, hidden = forward(p, x)
        return 0.5 * torch.mean((out - y) ** 2), (out, hidden)

    grad_aux = vmap(grad(loss_aux, has_aux=True), randomness="different")
    forward_all = vmap(forward)
    E, L = setting.epochs, setting.n_tracked
    # Records, the stop rule and the frozen/live state stay on the device: no transfer waits on the device
    # inside the loop, except the check every ``poll`` epochs of whether any trial is still training.
    # The records are allocated, not zeroed (at the paper profile's 40,000 epochs they are hundreds of MB):
    # every row up to the last record is written before it is read, and the rows after it are cut off.
    f64 = dict(dtype=torch.float64, device=dev)
    loss_rec = torch.empty((E + 1, R), **f64)
    out_rec = torch.empty((E + 1, R, n, k_out), **f64)
    d2_rec = torch.empty((E + 1, R, L, n, n), **f64)
    Yd = Ys.double()
    live = torch.ones(R, dtype=torch.bool, device=dev)
    end = torch.full((R,), E + 1, dtype=torch.long, device=dev)      # number of valid records of each trial
    div = torch.zeros(R, dtype=torch.bool, device=dev)
    stop = -np.inf if setting.stop_loss is None else setting.stop_loss
    poll = BATCH_POLL or (1 if torch.device(dev).type == "cpu" else 100)
    stochastic = setting.architecture.dropout > 0
    act = torch.arange(R, device=dev)     # the trials in the stack, as indices into the records
    t0 = time.perf_counter()

    def d2(h):                                    # (..., points, units) -> (..., points, points)
        sq = (h ** 2).sum(-1)
        return (sq[..., :, None] + sq[..., None, :] - 2.0 * h @ h.transpose(-1, -2)).clamp_min(0)

    def record(e, out, hidden):
        hs = [h.detach().double().reshape(len(act), n, -1) for h in hidden]   # (trials, points, units) each
        if len({h.shape for h in hs}) == 1:       # layers of one width: one batched product for all of them
            d2_rec[e, act] = d2(torch.stack(hs, 1))
        else:
            for l, h in enumerate(hs):
                d2_rec[e, act, l] = d2(h)
        out_rec[e, act] = out.double()
        loss_rec[e, act] = 0.5 * ((out.double() - Yd) ** 2).mean(dim=(1, 2))

    runs: list = [None] * R
    emitted = torch.zeros(R, dtype=torch.bool, device=dev)

    def emit(which):
        """Copy the records of the trials in ``which`` (ended, not yet copied) to :class:`Run` objects."""
        idx = torch.nonzero(which).flatten().cpu().tolist()
        if not idx:
            return
        seconds = (time.perf_counter() - t0) / R
        n_end, dv = end.cpu().numpy(), div.cpu().numpy()
        for r in idx:
            k = int(n_end[r])
            runs[r] = Run(setting, seeds[r], "torch-batch", arrays[r][0], arrays[r][1],
                          loss_rec[:k, r].cpu().numpy().copy(), out_rec[:k, r].cpu().numpy().copy(),
                          d2_rec[:k, r].cpu().numpy().copy(), bool(dv[r]), seconds)
            emitted[r] = True
            if done is not None:
                done(r, runs[r])

    for e in range(E + 1):
        grads = None
        if stochastic or e == E:              # dropout: record without it; the last record: no step follows
            tmpl.eval()
            with torch.no_grad():
                record(e, *forward_all(params, Xs))
            tmpl.train()
        else:                                 # the gradient's forward pass is the record (before the step)
            grads, (out, hidden) = grad_aux(params, Xs, Ys)
            record(e, out.detach(), hidden)
        # the stop rule for every live trial at once: diverged ends before this record, converged after it
        loss = loss_rec[e, act]
        diverged = diverged_where(loss, loss_rec[0, act])
        ended = live[act] & (diverged | (loss < stop))
        end[act] = torch.where(ended, torch.where(diverged, e, e + 1), end[act])
        div[act] = div[act] | (ended & diverged)
        live[act] = live[act] & ~ended
        if e == E or (e + 1) % poll == 0:
            if done is not None:
                emit(~live & ~emitted)
            if e == E or not bool(live.any()):
                break
            keep = live[act]
            if len(act) >= 2 and int(keep.sum()) < 2:   # a stack of one takes other kernels (the CNN's convolution
                keep = keep.clone()                     # rounds otherwise): an ended trial stays, frozen, beside it
                keep[torch.nonzero(~keep).flatten()[:2 - int(keep.sum())]] = True
            if not stochastic and not bool(keep.all()):    # the ended trials leave the stack
                act, Xs, Ys, Yd = act[keep], Xs[keep], Ys[keep], Yd[keep]
                params = {name: v[keep] for name, v in params.items()}
                grads = None if grads is None else {name: g[keep] for name, g in grads.items()}
        if grads is None:
            grads, _ = grad_aux(params, Xs, Ys)
        with torch.no_grad():
            mask_live = live[act]
            for name in params:
                mask = mask_live.reshape((len(act),) + (1,) * (params[name].ndim - 1))
                params[name] = torch.where(mask, params[name] - setting.lr * grads[name], params[name])
    emit(~emitted)                        # the trials still training at the last epoch
    return runs
