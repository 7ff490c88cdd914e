"""The training engines behind :func:`reptheory.lab.probe` and :func:`reptheory.lab.probe_many`.

Both train full batch on ½-MSE (``0.5 · mean((ŷ − y)²)`` over points and output coordinates) by SGD or Adam
and record, before every update and after the last, Eq. 8's variables of one pair ``(i, j)`` of inputs
(:data:`RECORDS`): ``h2 = ||Δh||²`` at the tracked layer, ``y2 = ||Δŷ||²``, ``w = y2 − Δy·Δŷ``, the pair's
loss ``¼ (||ŷ_i − y_i||² + ||ŷ_j − y_j||²)`` and the training loss. The records are kept in float64; the
network trains in float32.

* :func:`train_one` trains one network eagerly (any module: dropout and batch normalisation are recorded in
  eval mode).
* :func:`train_many` trains ``B`` networks of one architecture together: their parameters are stacked along
  a new first axis and the forward pass is vectorised over it (``torch.func.vmap`` of
  ``torch.func.functional_call``); one backward pass of the summed losses gives every network its own gradient,
  since the networks share no parameter. Each network has its own data, pair, learning rate, epoch budget and
  stop loss; a network that has stopped leaves the batch at the next poll. On a CPU, 30 small networks train
  7–10× faster per network than one at a time, because the cost of a step is dispatch, not arithmetic
  (``benchmarks/train_step.py`` prints the ratio). The numbers equal :func:`train_one`'s to float32 rounding
  (tested), not bit for bit.

The stop rule (:func:`end`) is read every :data:`POLL` epochs, and the records are cut where it fired: the
same numbers as a check at every epoch.
"""
from __future__ import annotations

import copy
import time

import numpy as np
import torch

from reptheory.networks.stop import diverged_where

__all__ = ["RECORDS", "POLL", "has_train_mode", "check_outputs", "train_one", "train_many", "end"]

#: the recorded columns: Eq. 8's variables, the pair's loss (Eq. 9's quantity) and the training loss
RECORDS = ("h2", "y2", "w", "pair_loss", "loss")
#: the stop rule is read every POLL epochs
POLL = 25
#: Adam's constants (PyTorch's defaults)
ADAM = {"betas": (0.9, 0.999), "eps": 1e-8}


def has_train_mode(model: torch.nn.Module) -> bool:
    """Whether a module behaves differently in training mode (dropout, batch statistics)."""
    kinds = (torch.nn.modules.dropout._DropoutNd, torch.nn.modules.batchnorm._BatchNorm)
    return any(isinstance(m, kinds) for m in model.modules())


def _first_tensor(out, layer: str) -> torch.Tensor:
    if isinstance(out, torch.Tensor):
        return out
    if isinstance(out, (tuple, list)):
        for o in out:
            if isinstance(o, torch.Tensor):
                return o
    raise TypeError(f"the output of layer {layer!r} holds no tensor (got {type(out).__name__}); pass a callable "
                    "layer (model, x) -> (n, d) instead")


def check_outputs(out: torch.Tensor, n: int, K: int) -> torch.Tensor:
    """``out`` as ``(n, K)``: the model's outputs for ``n`` points must be one tensor holding ``K`` numbers each
    (``Y``'s)."""
    if not isinstance(out, torch.Tensor):
        raise TypeError(f"the model must return one tensor of outputs, got a {type(out).__name__}: probe a module "
                        "whose forward returns the prediction alone (e.g. a wrapper returning out[0] or out['logits'])")
    if out.shape[0] != n or out.reshape(n, -1).shape[1] != K:
        raise ValueError(f"the model's output has shape {tuple(out.shape)}; the targets Y need ({n}, {K})")
    return out.reshape(n, -1)


def _check_layer_output(h: torch.Tensor, layer: str, n: int) -> torch.Tensor:
    if h.shape[0] != n:
        raise ValueError(f"the output of layer {layer!r} has shape {tuple(h.shape)}: its first axis must "
                         f"run over the {n} inputs; pass a callable layer (model, x) -> (n, d) instead")
    return h


def _check_callable_output(h) -> torch.Tensor:
    if not isinstance(h, torch.Tensor) or h.shape[0] != 2:
        raise ValueError(f"the callable layer must return a tensor with one row per input, got "
                         f"{getattr(h, 'shape', type(h).__name__)} for 2 inputs")
    return h.reshape(2, -1)


def end(loss: np.ndarray, h2: np.ndarray, stop_loss) -> tuple[int, bool]:
    """Where the record ends and whether the run diverged: at the first record whose loss is non-finite or
    above :data:`~reptheory.networks.stop.DIVERGENCE_FACTOR` times the first (diverged; that record is dropped), or
    just after the first whose loss is below ``stop_loss`` (finished), whichever comes first."""
    with np.errstate(invalid="ignore"):
        bad = diverged_where(loss, loss[0]) | ~np.isfinite(h2)
        low = loss < stop_loss if stop_loss is not None else np.zeros_like(bad)
    k_bad = int(np.argmax(bad)) if bad.any() else None
    k_low = int(np.argmax(low)) if low.any() else None
    if k_low is not None and (k_bad is None or k_low < k_bad):
        return k_low + 1, False
    if k_bad is not None:
        return k_bad, True
    return loss.size, False


def _finish(rec: np.ndarray, stop_loss, x: torch.Tensor, dy: torch.Tensor, pair, m0, seconds) -> dict:
    """One run's arrays from its records ``rec`` (epochs × :data:`RECORDS`), cut by :func:`end`."""
    arrays = dict(zip(RECORDS, rec.T.copy()))
    stop, diverged = end(arrays["loss"], arrays["h2"], stop_loss)
    arrays = {k: v[:stop] for k, v in arrays.items()}
    i, j = pair
    x = x.detach().double().reshape(x.shape[0], -1)
    dx = x[j] - x[i]
    return {**arrays, "dx2": float(dx @ dx), "dy2": float(dy @ dy), "m0": m0, "diverged": diverged,
            "seconds": seconds}


def train_one(model, X, Y, layer, lr, epochs, optimizer, pair, stop_loss, dev) -> dict:
    """Train ``model`` (the caller passes a private copy) and record the pair's variables at every epoch.

    ``layer``: a submodule's dotted name (read by a forward hook) or a callable ``(model, x) -> (2, d)``.
    Returns the arrays of :data:`RECORDS` cut by :func:`end`, with ``dx2``, ``dy2``, ``m0`` (the pair's
    initial squared mean output error, Eq. 9), ``diverged`` and ``seconds`` (training time)."""
    i, j = pair
    n = X.shape[0]
    captured = {}
    hook = None
    if isinstance(layer, str):
        def grab(_module, _inputs, out):
            captured["h"] = _first_tensor(out, layer)
        hook = model.get_submodule(layer).register_forward_hook(grab)
    separate = has_train_mode(model)        # record in eval mode, without dropout, as the book's kernel does
    X, Y = X.to(dev), Y.to(dev)
    K = Y.reshape(n, -1).shape[1]
    Yt = Y.reshape(n, -1)
    Yf = Yt.double()
    dy = Yf[j] - Yf[i]
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("the model has no trainable parameters")
    opt = (torch.optim.SGD if optimizer == "sgd" else torch.optim.Adam)(params, lr=lr)
    rec = torch.full((epochs + 1, len(RECORDS)), float("nan"), dtype=torch.float64, device=dev)
    state = {}

    def representation(x_pair) -> torch.Tensor:
        if isinstance(layer, str):
            if "h" not in captured:
                raise ValueError(f"layer {layer!r} was not called in the model's forward pass")
            return _check_layer_output(captured.pop("h"), layer, n)[[i, j]].reshape(2, -1)
        return _check_callable_output(layer(model, x_pair))

    def record(e, out, h) -> None:
        out = out.detach().double()
        dh = (h[1] - h[0]).detach().double()
        d_out = out[j] - out[i]
        y2 = d_out @ d_out
        err = out - Yf
        e2 = (err ** 2).sum(1)
        rec[e] = torch.stack((dh @ dh, y2, y2 - d_out @ dy, 0.25 * (e2[i] + e2[j]), 0.5 * e2.sum() / err.numel()))
        if e == 0:
            m = 0.5 * (out[i] + out[j]) - 0.5 * (Yf[i] + Yf[j])
            state["m0"] = float(m @ m)

    def representation_now() -> torch.Tensor:
        with torch.no_grad():
            return representation(X[[i, j]])

    t0 = time.perf_counter()
    written = 0
    model.train()
    try:
        for e in range(epochs + 1):
            if separate or e == epochs:         # eval mode (no dropout) for the record, or the last record
                model.eval()
                with torch.no_grad():
                    out = check_outputs(model(X), n, K)
                    h = representation_now()
                model.train()
                record(e, out, h)
                written = e + 1
            if e == epochs:
                break
            opt.zero_grad(set_to_none=True)
            out = check_outputs(model(X), n, K)
            if separate:
                captured.pop("h", None)
            else:
                record(e, out, representation_now())
                written = e + 1
            loss = 0.5 * torch.mean((out - Yt) ** 2)
            loss.backward()
            opt.step()
            if (e + 1) % POLL == 0:             # the last POLL records: the stop rule, read in one transfer
                L = rec[e + 1 - POLL: e + 1, 4]
                bad = diverged_where(L, rec[0, 4])
                if bool(bad.any()) or (stop_loss is not None and bool((L < stop_loss).any())):
                    break
    finally:
        if hook is not None:
            hook.remove()
    seconds = time.perf_counter() - t0
    return _finish(rec[:written].cpu().numpy(), stop_loss, X, dy, pair, state.get("m0", np.nan), seconds)


class _Tracked(torch.nn.Module):
    """The network and the tracked layer in one module, so that one functional call gives both the outputs
    and the pair's representation: ``forward(x, pair) -> (ŷ(x), h(x_pair))``."""

    def __init__(self, net: torch.nn.Module, layer):
        super().__init__()
        self.net, self.layer = net, layer
        self.captured = {}
        if isinstance(layer, str):
            net.get_submodule(layer).register_forward_hook(self._grab)

    def _grab(self, _module, _inputs, out):
        self.captured["h"] = _first_tensor(out, self.layer)

    def forward(self, x, pair):
        out = self.net(x)
        if not isinstance(self.layer, str):
            return out, _check_callable_output(self.layer(self.net, x[pair]))
        if "h" not in self.captured:
            raise ValueError(f"layer {self.layer!r} was not called in the model's forward pass")
        h = _check_layer_output(self.captured.pop("h"), self.layer, x.shape[0])
        return out, h[pair].reshape(2, -1)


def train_many(models, X, Y, layer, lr, epochs, optimizer, pairs, stop_loss, dev) -> list[dict]:
    """Train ``B = len(models)`` networks of one architecture together and record each one's pair.

    ``models``: modules with the same structure and parameter shapes and no train-mode behaviour
    (:func:`has_train_mode` False; the caller checks both); ``X``: ``(B, n, …)`` inputs and ``Y``: ``(B, n,
    …)`` targets, one dataset per network; ``lr``, ``epochs``, ``stop_loss`` (``None``: none), ``pairs``:
    one per network. Returns one dict per network, as :func:`train_one`'s; ``seconds`` is the batch's
    training time divided by ``B``."""
    B = len(models)
    n = X.shape[1]
    net = _Tracked(copy.deepcopy(models[0]), layer).to(dev)
    names = [k for k, p in net.named_parameters() if p.requires_grad]
    if not names:
        raise ValueError("the model has no trainable parameters")
    own = [dict(m.named_parameters()) for m in models]
    params = {k: torch.stack([o[k[4:]].detach() for o in own]).to(dev) for k, _ in net.named_parameters()}
    frozen = {k: v for k, v in params.items() if k not in names}
    buffers = {k: torch.stack([dict(m.named_buffers())[k[4:]] for m in models]).to(dev)
               for k, _ in net.named_buffers()}
    X, Y = X.to(dev), Y.to(dev)
    Yt = Y.reshape(B, n, -1)
    Yf = Yt.double()
    P = torch.as_tensor(np.asarray(pairs, dtype=np.int64), device=dev)
    ar = torch.arange(B, device=dev)
    dY = Yf[ar, P[:, 1]] - Yf[ar, P[:, 0]]
    lr = torch.as_tensor(np.asarray(lr, dtype=np.float32), device=dev)
    budget = np.asarray(epochs, dtype=np.int64)
    stop = torch.as_tensor(np.array([0.0 if s is None else s for s in stop_loss]), device=dev)
    T = int(budget.max()) + 1
    rec = torch.full((T, B, len(RECORDS)), float("nan"), dtype=torch.float64, device=dev)
    written = np.zeros(B, dtype=np.int64)

    def forward(p, b, x, pair):
        return torch.func.functional_call(net, (p, b), (x, pair))

    batched = torch.func.vmap(forward, in_dims=(0, 0, 0, 0))
    live = torch.arange(B, device=dev)          # the networks still training, as indices into the batch
    live_np = np.arange(B)
    theta = {k: params[k].clone().requires_grad_() for k in names}
    moments = {k: (torch.zeros_like(theta[k]), torch.zeros_like(theta[k])) for k in names} if optimizer == "adam" else {}
    b1, b2 = ADAM["betas"]

    def sliced():                               # the live networks' data, frozen parameters and buffers
        return (X[live], Yt[live], Yf[live], P[live], dY[live], lr[live], {k: v[live] for k, v in frozen.items()},
                {k: v[live] for k, v in buffers.items()}, torch.arange(live.numel(), device=dev))

    x, yt, yf, pr, dy, rate, fz, bf, r = sliced()
    t0 = time.perf_counter()
    for e in range(T):
        out, h = batched({**theta, **fz}, bf, x, pr)
        if out.shape[1] != n or out[:1].reshape(1, n, -1).shape[2] != yt.shape[2]:
            raise ValueError(f"the model's output has shape {tuple(out.shape[1:])}; the targets Y need "
                             f"({n}, {yt.shape[2]})")
        out = out.reshape(live.numel(), n, -1)
        with torch.no_grad():
            o = out.double()
            dh = h[:, 1].double() - h[:, 0].double()
            d_out = o[r, pr[:, 1]] - o[r, pr[:, 0]]
            y2 = (d_out * d_out).sum(1)
            e2 = ((o - yf) ** 2).sum(2)
            rec[e].index_copy_(0, live, torch.stack(((dh * dh).sum(1), y2, y2 - (d_out * dy).sum(1),
                                                     0.25 * (e2[r, pr[:, 0]] + e2[r, pr[:, 1]]),
                                                     0.5 * e2.sum(1) / (n * yf.shape[2])), 1))
            if e == 0:
                m = 0.5 * (o[r, pr[:, 0]] + o[r, pr[:, 1]]) - 0.5 * (yf[r, pr[:, 0]] + yf[r, pr[:, 1]])
                m0 = (m * m).sum(1).cpu().numpy()
        written[live_np] = e + 1
        if e == T - 1:
            break
        loss = 0.5 * ((out - yt) ** 2).mean((1, 2))
        grads = torch.autograd.grad(loss.sum(), [theta[k] for k in names], allow_unused=True)
        with torch.no_grad():
            for k, g in zip(names, grads):
                if g is None:                   # a parameter the forward pass does not use: no step, as torch.optim
                    continue
                step = rate.reshape(-1, *([1] * (g.dim() - 1)))
                if optimizer == "sgd":
                    theta[k].sub_(step * g)
                else:
                    m1, m2 = moments[k]
                    m1.mul_(b1).add_(g, alpha=1 - b1)
                    m2.mul_(b2).addcmul_(g, g, value=1 - b2)
                    t = e + 1
                    denom = (m2.sqrt() / (1 - b2 ** t) ** 0.5).add_(ADAM["eps"])
                    theta[k].sub_(step / (1 - b1 ** t) * m1 / denom)
        if (e + 1) % POLL == 0:                 # the stop rule of every live network, read in one transfer
            L = rec[e + 1 - POLL: e + 1, live, 4]
            bad = diverged_where(L, rec[0, live, 4])
            low = L < stop[live]
            done = bad.any(0) | low.any(0) | torch.as_tensor(budget[live_np] <= e, device=dev)
            if bool(done.any()):
                keep = ~done
                live, live_np = live[keep], live_np[keep.cpu().numpy()]
                if live.numel() == 0:
                    break
                theta = {k: v.detach()[keep].requires_grad_() for k, v in theta.items()}
                moments = {k: (a[keep], c[keep]) for k, (a, c) in moments.items()}
                x, yt, yf, pr, dy, rate, fz, bf, r = sliced()
    seconds = (time.perf_counter() - t0) / B
    records = rec.cpu().numpy()
    return [_finish(records[:min(written[b], budget[b] + 1), b], stop_loss[b], X[b], dY[b], tuple(pairs[b]),
                    float(m0[b]), seconds) for b in range(B)]
