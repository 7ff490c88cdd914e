"""The one batched engine: independent networks of one architecture, each with its own data, learning rate,
epoch budget and stop loss, trained together, full batch or in shuffled minibatches (:func:`train_stack`). It
trains the paper's batched two-point runs (:func:`reptheory.networks.engine_batch.train_batch`), the blob and
MNIST networks (:func:`reptheory.networks.engine_batch.train_ends`), the lab's probes
(:func:`reptheory.lab.engines.train_many`) and the sequel's weight-sharing proxy
(:func:`reptheory.sequel.weight_sharing.sweep`); each caller records what it needs.

The networks' parameters are stacked along a new first axis; ``torch.func.vmap`` of
``torch.func.functional_call`` runs the forward pass over the stack, and one backward pass of the summed
losses gives every network its own gradient, since the networks share no parameter. Small per-network
products become batched ones, so a step costs less per network than one network alone (Fig. 5's CNN at width
500 on this 2-core CPU: 19.1 ms a step alone, 15.2 ms a network step in a batch of 12,
``reptheory.bench.cnn_batch_rates``; the lab's small networks 7–10× less, ``benchmarks/train_step.py``).

Every network follows the stop and divergence rule of :mod:`reptheory.networks.stop`, decided on the device
at every epoch: a record whose loss diverges ends the network before it, a loss below the network's stop loss
or the last epoch of its budget after it. An ended network leaves the stack at the next poll (:data:`POLL`)
and its records after its end are dropped, except that the stack keeps at least two networks (a stack of one
runs other kernels, which round differently) and that with randomness (dropout), whose draws depend on the
stack, every network stays to the end. So each network's records are, bit for bit, those of a batch that
steps every network to the end (``tests/networks``). The engine trains in float32; what it records is its
caller's (``record``).

In minibatches (``batch_size``), every network draws its own order of the points each epoch from a generator of
its own (``seeds``), as one network trained alone by ``torch.randperm`` would, and takes one step per
minibatch; the record of each epoch is a pass over all the points without a graph.
"""
from __future__ import annotations

import time

import numpy as np
import torch

from reptheory.networks.stop import diverged_where

__all__ = ["train_stack", "stacked", "POLL", "ADAM"]

#: the engine asks the device whether any network still trains every this many epochs (``None``: every epoch
#: on the CPU, every 100 on a GPU, where each question waits for the device to finish its queue); the stop
#: rule itself is applied at every epoch, so the poll changes no number
POLL = None
#: Adam's constants (PyTorch's defaults)
ADAM = {"betas": (0.9, 0.999), "eps": 1e-8}


def stacked(models, dev) -> dict:
    """The parameters of ``models`` (modules of one structure), each stacked along a new first axis, on ``dev``."""
    own = [dict(m.named_parameters()) for m in models]
    return {k: torch.stack([o[k].detach() for o in own]).to(dev) for k in own[0]}


def train_stack(net, params, inputs, Y, lr, epochs, record, *, stop_loss=None, optimizer="sgd", frozen=None,
                buffers=None, stochastic=False, finished=None, batch_size=None, seeds=None):
    """Train ``B`` networks of ``net``'s structure together on ½-MSE, by SGD or Adam, full batch or in minibatches.

    ``net(*inputs_b) -> (out, aux)``: the module whose parameters are replaced, network by network, by
    ``params`` (``{name: (B, …)}``, the trained ones), ``frozen`` (untrained parameters) and ``buffers``;
    ``inputs``: a tuple of ``(B, …)`` tensors, network ``b``'s forward arguments (its data first); ``Y``: the
    ``(B, n, K)`` targets; the loss of network ``b`` is ``0.5 · mean((out_b − Y_b)²)``. ``lr``, ``epochs``
    (the budget: records ``0 … epochs``) and ``stop_loss`` (``None``: none) hold one value per network, or one
    for all.

    ``record(e, idx, out, aux, live)`` is called under ``no_grad`` at every epoch ``e`` before the updates (and
    once after the last) with the networks of the stack (``idx``: their indices, a tensor), their outputs and
    ``aux`` on all the points, and ``live`` (a boolean tensor over ``idx``: the networks that had not ended
    before ``e``, whose record this is); it stores what its caller keeps and returns their float64 losses, which
    the stop rule reads. With ``stochastic`` (dropout) or minibatches, the record is taken in eval mode by a
    forward pass of its own.

    ``batch_size``: ``None`` for one full-batch step an epoch, else each epoch's steps on minibatches of this many
    points (the last one smaller if the points do not divide), in an order drawn each epoch by
    ``torch.randperm`` from network ``b``'s own CPU generator, seeded with ``seeds[b]``. Adam counts steps.

    Returns ``(ends, diverged, seconds)``, one entry per network: the number of valid records (those after a
    divergence are not), whether it diverged, and the batch's wall time until it ended divided by ``B``.
    ``finished(b, end, diverged, seconds)``, if given, is called for each network as soon as it is known to have
    ended (at a poll), once, so that a caller can store it before the batch finishes.

    Two networks on the same data, one with a budget of 5 updates and one of 8, record their losses and end
    with 6 and 9 records:

    >>> import torch
    >>> from torch import nn
    >>> class Net(nn.Module):             # returns (out, aux): the output and a representation
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden, self.out = nn.Linear(3, 4), nn.Linear(4, 1)
    ...     def forward(self, x):
    ...         h = torch.tanh(self.hidden(x))
    ...         return self.out(h), h
    >>> nets = [Net() for _ in range(2)]
    >>> X, Y = torch.ones(2, 4, 3), torch.zeros(2, 4, 1)
    >>> losses = lambda e, idx, out, h, live: 0.5 * (out.double() ** 2).mean((1, 2))
    >>> ends, diverged, seconds = train_stack(nets[0], stacked(nets, "cpu"), (X,), Y, 0.1, [5, 8], losses)
    >>> ends.tolist(), diverged.tolist()
    ([6, 9], [False, False])
    """
    from torch.func import functional_call, vmap

    if optimizer not in ("sgd", "adam"):
        raise ValueError(f"optimizer must be 'sgd' or 'adam', got {optimizer!r}")
    if not params or len({v.shape[0] for v in params.values()}) != 1:
        raise ValueError("params must hold at least one parameter, stacked over one common number of networks")
    dev = next(iter(params.values())).device
    B = next(iter(params.values())).shape[0]

    def per_network(name, value, dtype):
        value = np.asarray(value, dtype=dtype)
        if value.ndim > 1 or value.size not in (1, B):
            raise ValueError(f"{name} must hold one value or one per network ({B}), got shape {value.shape}")
        return np.broadcast_to(value.reshape(-1), B).copy()

    if batch_size is not None:
        n = inputs[0].shape[1]
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or not 1 <= batch_size:
            raise ValueError(f"batch_size must be None or an integer >= 1, got {batch_size!r}")
        if seeds is None or len(seeds) != B:
            raise ValueError(f"seeds must hold one generator seed per network ({B}) with batch_size, got {seeds!r}")
        gens = [torch.Generator().manual_seed(int(sd)) for sd in seeds]
    lr = torch.as_tensor(per_network("lr", lr, np.float32), device=dev)
    budget = per_network("epochs", epochs, np.int64)
    stops = per_network("stop_loss", stop_loss if np.ndim(stop_loss) else [stop_loss], object)
    stop = torch.as_tensor([-np.inf if s is None else float(s) for s in stops], dtype=torch.float64, device=dev)
    limit = torch.as_tensor(budget, device=dev)
    frozen, buffers = dict(frozen or {}), dict(buffers or {})
    names = list(params)

    def forward(p, b, *args):
        return functional_call(net, (p, b), args)

    forward_all = vmap(forward, randomness="different" if stochastic else "error")
    theta = {k: v.detach().clone().requires_grad_() for k, v in params.items()}
    moments = {k: (torch.zeros_like(v), torch.zeros_like(v)) for k, v in theta.items()} if optimizer == "adam" else {}
    b1, b2 = ADAM["betas"]
    live = torch.ones(B, dtype=torch.bool, device=dev)
    end = torch.as_tensor(budget + 1, device=dev)        # the number of valid records of each network
    div = torch.zeros(B, dtype=torch.bool, device=dev)
    first = torch.zeros(B, dtype=torch.float64, device=dev)
    reported = np.zeros(B, dtype=bool)
    seconds = np.zeros(B)
    poll = POLL or (1 if torch.device(dev).type == "cpu" else 100)
    act = torch.arange(B, device=dev)                    # the networks in the stack
    act_np = np.arange(B)

    def sliced(d):
        return {k: v[act] for k, v in d.items()}

    x, y, rate, fz, bf = tuple(a[act] for a in inputs), Y[act], lr[act], sliced(frozen), sliced(buffers)
    t0 = time.perf_counter()

    def report(which):
        idx = np.flatnonzero(which & ~reported)
        if idx.size == 0:
            return
        seconds[idx] = (time.perf_counter() - t0) / B
        reported[idx] = True
        if finished is not None:
            n_end, dv = end.cpu().numpy(), div.cpu().numpy()
            for b in idx:
                finished(int(b), int(n_end[b]), bool(dv[b]), float(seconds[b]))

    def update(grads, rate, t):
        """One step of every network in the stack, the ``t``-th (Adam's bias corrections)."""
        with torch.no_grad():
            for k, g in grads.items():
                if g is None:                             # a parameter the forward pass does not use: no step
                    continue
                step = rate.reshape(-1, *([1] * (g.dim() - 1)))
                if optimizer == "sgd":
                    theta[k].sub_(step * g)
                else:
                    m1, m2 = moments[k]
                    m1.mul_(b1).add_(g, alpha=1 - b1)
                    m2.mul_(b2).addcmul_(g, g, value=1 - b2)
                    denom = (m2.sqrt() / (1 - b2 ** t) ** 0.5).add_(ADAM["eps"])
                    theta[k].sub_(step / (1 - b1 ** t) * m1 / denom)

    full = batch_size is None
    steps, grads = 0, {}                                  # updates so far (Adam's step count); the last gradient
    for e in range(int(budget.max()) + 1):
        last = e >= budget[act_np].max()                  # no update follows this record
        if stochastic or last or not full:                # the record without dropout or a graph
            net.eval()
            with torch.no_grad():
                out, aux = forward_all({**theta, **fz}, bf, *x)
            net.train()
        else:                                             # the gradient's forward pass is the record
            out, aux = forward_all({**theta, **fz}, bf, *x)
        with torch.no_grad():                             # the record, then the stop rule of every network
            loss = record(e, act, out.detach(), aux, live[act].clone())
            if e == 0:
                first[act] = loss
            diverged = diverged_where(loss, first[act])
            ended = live[act] & (diverged | (loss < stop[act]) | (limit[act] <= e))
            end[act] = torch.where(ended, torch.where(diverged, e, e + 1), end[act])
            div[act] = div[act] | (ended & diverged)
            live[act] = live[act] & ~ended
        if not last and full:
            if stochastic:                                # the gradient's own forward pass, with dropout
                out, _ = forward_all({**theta, **fz}, bf, *x)
            loss = 0.5 * ((out.reshape(y.shape) - y) ** 2).mean(tuple(range(1, y.dim())))
            grads = dict(zip(names, torch.autograd.grad(loss.sum(), [theta[k] for k in names], allow_unused=True)))
        if last or (e + 1) % poll == 0:
            alive = live.cpu().numpy()
            report(~alive)
            if last or not alive.any():
                break
            keep = alive[act_np]
            if keep.sum() < 2 <= act_np.size:             # a stack of one rounds differently: an ended network
                keep[np.flatnonzero(~keep)[:2 - keep.sum()]] = True   # stays beside the last one
            if not stochastic and not keep.all():         # the ended networks leave the stack
                k = torch.as_tensor(keep, device=dev)
                act, act_np = act[k], act_np[keep]
                theta = {n: v.detach()[k].requires_grad_() for n, v in theta.items()}
                grads = {n: None if g is None else g[k] for n, g in grads.items()}
                moments = {n: (a[k], c[k]) for n, (a, c) in moments.items()}
                x, y, rate, fz, bf = tuple(a[act] for a in inputs), Y[act], lr[act], sliced(frozen), sliced(buffers)
        if full:
            steps += 1
            update(grads, rate, steps)
            continue
        rows = torch.arange(act.numel(), device=dev)[:, None]
        order = torch.stack([torch.randperm(n, generator=gens[b]) for b in act_np]).to(dev)
        for first_point in range(0, n, batch_size):     # the epoch's steps, one per minibatch
            pick = order[:, first_point:first_point + batch_size]
            out, _ = forward_all({**theta, **fz}, bf, *(a[rows, pick] for a in x))
            yb = y[rows, pick]
            loss = 0.5 * ((out.reshape(yb.shape) - yb) ** 2).mean(tuple(range(1, yb.dim())))
            grads = dict(zip(names, torch.autograd.grad(loss.sum(), [theta[k] for k in names], allow_unused=True)))
            steps += 1
            update(grads, rate, steps)
    report(np.ones(B, dtype=bool))
    return end.cpu().numpy(), div.cpu().numpy(), seconds
