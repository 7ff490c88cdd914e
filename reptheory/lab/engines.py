"""The training engines behind :func:`reptheory.lab.probe` and :func:`reptheory.lab.probe_many`.

Both train full batch on ½-MSE (``0.5 · mean((ŷ − y)²)`` over points and output coordinates) by SGD or Adam
and record, before every update and after the last, Eq. 8's variables of one pair ``(i, j)`` of inputs
(:data:`RECORDS`): ``h2 = ||Δh||²`` at the tracked layer, ``y2 = ||Δŷ||²``, ``w = y2 − Δy·Δŷ``, the pair's
loss ``¼ (||ŷ_i − y_i||² + ||ŷ_j − y_j||²)`` and the training loss. The records are kept in float64; the
network trains in float32.

* :func:`train_one` trains one network eagerly (any module: dropout and batch normalisation are recorded in
  eval mode).
* :func:`train_many` trains ``B`` networks of one architecture together in the package's one batched engine,
  :func:`reptheory.networks.stack.train_stack`, which also trains the paper's batched two-point runs:
  their parameters are stacked along a new first axis, the forward pass is vectorised over it, and one backward
  pass of the summed losses gives every network its own gradient. Each network has its own data, pair,
  learning rate, epoch budget and stop loss. On a CPU, 30 small networks train 7–10× faster per network than
  one at a time, because the cost of a step is dispatch, not arithmetic (``benchmarks/train_step.py`` prints
  the ratio). The numbers equal :func:`train_one`'s to float32 rounding (tested), not bit for bit.

Both apply the stop and divergence rule of :mod:`reptheory.networks.stop`, a non-finite ``h2`` counting as a
divergence (:func:`end`); :func:`train_one` reads it every :data:`POLL` epochs and cuts the records where it
fired: the same numbers as a check at every epoch.
"""
from __future__ import annotations

import copy
import time

import numpy as np
import torch

from reptheory.networks import stack as _stack
from reptheory.networks.stop import diverged_where

__all__ = ["RECORDS", "POLL", "has_train_mode", "check_outputs", "train_one", "train_many", "end"]

#: the recorded columns: Eq. 8's variables, the pair's loss (Eq. 9's quantity) and the training loss
RECORDS = ("h2", "y2", "w", "pair_loss", "loss")
#: :func:`train_one` reads the stop rule every POLL epochs
POLL = 25


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


def _finish(rec: np.ndarray, diverged: bool, x: torch.Tensor, dy: torch.Tensor, pair, m0, seconds) -> dict:
    """One run's arrays from its records ``rec`` (epochs × :data:`RECORDS`, cut where the run ended)."""
    arrays = dict(zip(RECORDS, rec.T.copy()))
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
    records = rec[:written].cpu().numpy()
    stop, diverged = end(records[:, RECORDS.index("loss")], records[:, RECORDS.index("h2")], stop_loss)
    return _finish(records[:stop], diverged, X, dy, pair, state.get("m0", np.nan), seconds)


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
    """Train ``B = len(models)`` networks of one architecture together and record each one's pair
    (:func:`reptheory.networks.stack.train_stack`, the one batched engine).

    ``models``: modules with the same structure and parameter shapes and no train-mode behaviour
    (:func:`has_train_mode` False; the caller checks both); ``X``: ``(B, n, …)`` inputs and ``Y``: ``(B, n,
    …)`` targets, one dataset per network; ``lr``, ``epochs``, ``stop_loss`` (``None``: none), ``pairs``:
    one per network. Returns one dict per network, as :func:`train_one`'s; ``seconds`` is the batch's
    wall time until the network ended, divided by ``B``."""
    B = len(models)
    n = X.shape[1]
    net = _Tracked(copy.deepcopy(models[0]), layer).to(dev)
    names = [k for k, p in net.named_parameters() if p.requires_grad]
    if not names:
        raise ValueError("the model has no trainable parameters")
    own = [dict(m.named_parameters()) for m in models]
    params = {k: torch.stack([o[k[4:]].detach() for o in own]).to(dev) for k, _ in net.named_parameters()}
    buffers = {k: torch.stack([dict(m.named_buffers())[k[4:]] for m in models]).to(dev)
               for k, _ in net.named_buffers()}
    X, Y = X.to(dev), Y.to(dev)
    Yt = Y.reshape(B, n, -1)
    Yf = Yt.double()
    P = torch.as_tensor(np.asarray(pairs, dtype=np.int64), device=dev)
    ar = torch.arange(B, device=dev)
    dY = Yf[ar, P[:, 1]] - Yf[ar, P[:, 0]]
    rec = torch.full((int(np.max(epochs)) + 1, B, len(RECORDS)), float("nan"), dtype=torch.float64, device=dev)
    m0 = torch.full((B,), float("nan"), dtype=torch.float64, device=dev)

    def record(e, act, out, h, live):
        if out.shape[1] != n or out[:1].reshape(1, n, -1).shape[2] != Yt.shape[2]:
            raise ValueError(f"the model's output has shape {tuple(out.shape[1:])}; the targets Y need "
                             f"({n}, {Yt.shape[2]})")
        r, pr, yf = torch.arange(act.numel(), device=dev), P[act], Yf[act]
        o = out.reshape(act.numel(), n, -1).double()
        dh = h[:, 1].double() - h[:, 0].double()
        d_out = o[r, pr[:, 1]] - o[r, pr[:, 0]]
        y2 = (d_out * d_out).sum(1)
        e2 = ((o - yf) ** 2).sum(2)
        h2, loss = (dh * dh).sum(1), 0.5 * e2.sum(1) / (n * yf.shape[2])
        rec[e].index_copy_(0, act, torch.stack((h2, y2, y2 - (d_out * dY[act]).sum(1),
                                                0.25 * (e2[r, pr[:, 0]] + e2[r, pr[:, 1]]), loss), 1))
        if e == 0:
            m = 0.5 * (o[r, pr[:, 0]] + o[r, pr[:, 1]]) - 0.5 * (yf[r, pr[:, 0]] + yf[r, pr[:, 1]])
            m0[act] = (m * m).sum(1)
        return torch.where(h2.isfinite(), loss, float("nan"))      # a non-finite h2 ends the run as diverged

    frozen = {k: v for k, v in params.items() if k not in names}
    ends, diverged, seconds = _stack.train_stack(
        net, {k: v for k, v in params.items() if k in names}, (X, P), Yt, lr, epochs, record,
        stop_loss=list(stop_loss), optimizer=optimizer, frozen=frozen, buffers=buffers)
    records, m0 = rec.cpu().numpy(), m0.cpu().numpy()
    return [_finish(records[:ends[b], b], bool(diverged[b]), X[b], dY[b], tuple(pairs[b]), float(m0[b]), seconds[b])
            for b in range(B)]
