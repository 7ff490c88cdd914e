"""The PyTorch engine of :func:`reptheory.networks.train.train`: one network of any architecture of
:mod:`reptheory.networks.models` and either optimiser, with autograd, full batch or in shuffled minibatches,
recording every point pair at every epoch (``record="pairs"``; the runs recorded at their ends train in the
batched engine, :func:`reptheory.networks.engine_batch.train_ends`)."""
from __future__ import annotations

import numpy as np
import torch

from reptheory.configs import Setting
from reptheory.networks import stop as _stop
from reptheory.networks.run import device


def _pairwise_d2(h: torch.Tensor) -> np.ndarray:
    h = h.cpu().double()
    sq = (h ** 2).sum(1)
    d = sq[:, None] + sq[None, :] - 2.0 * (h @ h.T)
    return d.clamp_min(0).numpy()


def train_torch(model, s: Setting, X, Y, seed: int):
    """Train ``model`` on ``(X, Y)`` with ``s``'s optimiser, full batch or in minibatches: the records
    ``(loss, outputs, dist2, diverged)`` as :func:`reptheory.networks.train.train` documents them."""
    dev = device()
    model.to(dev)
    Xt, Yt = torch.from_numpy(X).to(dev), torch.from_numpy(Y).to(dev)
    opt = (torch.optim.SGD if s.optimizer == "sgd" else torch.optim.Adam)(model.parameters(), lr=s.lr)
    n = X.shape[0]
    pts = list(range(n))
    loss_rec = np.zeros(s.epochs + 1)
    out_rec = np.zeros((s.epochs + 1, n, Y.shape[1]))
    d2_rec = np.zeros((s.epochs + 1, s.n_tracked, n, n))

    def record(e, out, hidden):
        loss_rec[e] = 0.5 * torch.mean((out.double() - Yt.double()) ** 2).item()
        out_rec[e] = out.detach()[pts].double().cpu().numpy()
        for l, h in enumerate(hidden):
            d2_rec[e, l] = _pairwise_d2(h.detach()[pts])

    def finish(e, diverged):
        """Records [0, e) (diverged) or [0, e] (stopped or finished)."""
        k = e if diverged else e + 1
        return loss_rec[:k], out_rec[:k], d2_rec[:k], diverged

    if s.batch_size is not None and s.batch_size < n:
        gen = torch.Generator().manual_seed(seed)
        for e in range(s.epochs + 1):
            model.eval()
            with torch.no_grad():
                record(e, *model(Xt))
            why = _stop.verdict(loss_rec[e], loss_rec[0], s.stop_loss)
            if why or e == s.epochs:
                return finish(e, why == "diverged")
            model.train()
            for idx in torch.randperm(n, generator=gen).split(s.batch_size):
                out, _ = model(Xt[idx])
                loss = 0.5 * torch.mean((out - Yt[idx]) ** 2)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
        raise AssertionError("unreachable")

    stochastic = s.architecture.dropout > 0
    for e in range(s.epochs + 1):
        if stochastic or e == s.epochs:       # dropout: record without it; the last record: no step follows
            model.eval()
            with torch.no_grad():
                record(e, *model(Xt))
            model.train()
        else:
            out, hidden = model(Xt)
            record(e, out, hidden)
        why = _stop.verdict(loss_rec[e], loss_rec[0], s.stop_loss)
        if why or e == s.epochs:
            return finish(e, why == "diverged")
        if stochastic:
            out, hidden = model(Xt)
        loss = 0.5 * torch.mean((out - Yt) ** 2)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    raise AssertionError("unreachable")
