"""The input rule of :func:`reptheory.lab.probe` and :func:`reptheory.lab.probe_many`: every argument checked
before any training, each bad value refused with an error that names the argument, the value and what is
allowed (``TypeError`` for a wrong kind, ``ValueError`` for a value out of range).

A model must be an eager ``torch.nn.Module`` whose floating parameters and buffers are float32 (the network's
precision), hold values and are finite, with a trainable parameter; inputs ``X`` and targets ``Y`` are real
numbers of any dtype, finite in float32, with at least two points; the pair is two different points.

>>> import numpy as np, torch
>>> try:
...     check_model(torch.nn.Linear(2, 1).double())
... except TypeError as exc:
...     print(exc)
model's parameter 'weight' is float64; the probe trains in float32: pass model.float()
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch

from reptheory import validate as _v
from reptheory.lab import key as _key
from reptheory.lab.engines import check_outputs

__all__ = ["OPTIMIZERS", "LR_MAX", "EPOCHS_MAX", "BATCH_RECORD_BYTES_MAX", "SEED_MAX", "Run", "tensor", "check_model",
           "check_forward", "check_pair", "layer_name", "checked", "per_run", "same_structure"]

#: the optimisers ``rt.probe`` accepts (``optimizer``)
OPTIMIZERS = ("sgd", "adam")

#: the network's precision is float32: its largest number (about 3.4e38) bounds the inputs and the learning rate
FLOAT32_MAX = float(torch.finfo(torch.float32).max)
#: the largest learning rate
LR_MAX = FLOAT32_MAX
#: the most epochs of one run (its records take 40 bytes an epoch: 400 MB at this bound)
EPOCHS_MAX = 10**7
#: the most record memory of one :func:`probe_many` batch (networks × epochs × 40 bytes)
BATCH_RECORD_BYTES_MAX = 2**31
#: seeds go to ``torch.manual_seed``, which takes integers in ``[0, 2**64 - 1]``
SEED_MAX = 2**64 - 1


def tensor(name: str, value) -> torch.Tensor:
    """Inputs or targets as float32 (the network's precision): real numbers of any dtype, finite in float32."""
    if isinstance(value, torch.Tensor):
        if value.is_complex():
            raise TypeError(f"{name} must hold real numbers, got a complex tensor")
        if value.device.type == "meta":
            raise ValueError(f"{name} is on the meta device (it holds no values)")
        if value.layout != torch.strided:
            raise TypeError(f"{name} must be a dense tensor, got layout {value.layout} (pass {name}.to_dense())")
        value = value.detach().cpu().double().numpy() if value.dtype == torch.bfloat16 else value.detach().cpu().numpy()
    arr = _v.finite(name, value)
    if arr.ndim < 1 or arr.shape[0] < 2:
        raise ValueError(f"{name} must hold at least two points along its first axis, got shape {arr.shape}")
    big = float(np.max(np.abs(arr))) if arr.size else 0.0
    if big > FLOAT32_MAX:
        raise ValueError(f"{name} must be finite in float32, the network's precision (|entries| <= {FLOAT32_MAX:.3g}), "
                         f"got an entry of size {big:.3g}")
    return torch.as_tensor(arr, dtype=torch.float32)


def check_model(model, at: str = "") -> None:
    """A module ``probe`` can train: an eager (not TorchScript) ``torch.nn.Module`` whose floating parameters and
    buffers are float32 (the network's precision), hold values (not the meta device) and are finite, with at
    least one trainable parameter."""
    who = f"models{at}" if at else "model"
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"{who} must be a torch.nn.Module, got {type(model).__name__}")
    if isinstance(model, torch.jit.ScriptModule):
        raise TypeError(f"{who} is a TorchScript module: pass the eager torch.nn.Module (before torch.jit.script "
                        "or torch.jit.trace), whose layers the probe can hook and copy")
    tensors = [("parameter", k, p) for k, p in model.named_parameters()] + \
              [("buffer", k, b) for k, b in model.named_buffers()]
    for kind, k, v in tensors:
        if v.device.type == "meta":
            raise ValueError(f"{who}'s {kind} {k!r} is on the meta device (it holds no values): materialise the "
                             "model first (to_empty, then initialise its weights)")
        if v.is_floating_point() and v.dtype != torch.float32:
            raise TypeError(f"{who}'s {kind} {k!r} is {str(v.dtype).replace('torch.', '')}; the probe trains in "
                            "float32: pass model.float()")
        if v.is_complex():
            raise TypeError(f"{who}'s {kind} {k!r} is complex; the probe trains real float32 networks")
        if v.is_floating_point() and not bool(torch.isfinite(v.detach()).all()):
            raise ValueError(f"{who}'s {kind} {k!r} holds NaN or inf values: a probe needs a finite network")
    if not any(p.requires_grad for p in model.parameters()):
        raise ValueError(f"{who} has no trainable parameters (none with requires_grad)")


def check_forward(model, X: torch.Tensor, K: int, who: str = "model") -> None:
    """The model can be copied (the probe trains a copy) and maps ``X`` to one tensor of ``(n, K)`` outputs: one
    forward pass of a copy in eval mode, before any training, the caller's random state untouched. A failure
    inside torch is re-raised naming the model and ``X``'s shape."""
    try:
        twin = copy.deepcopy(model)
    except Exception as exc:            # e.g. the old torch.nn.utils.weight_norm or prune: non-leaf weights
        raise TypeError(f"{who} cannot be copied (copy.deepcopy: {exc}); the probe trains a copy: for weight "
                        "norm use torch.nn.utils.parametrizations.weight_norm, after pruning call "
                        "torch.nn.utils.prune.remove") from None
    with torch.no_grad(), torch.random.fork_rng(devices=[]):
        try:
            out = twin.eval()(X)
        except Exception as exc:
            raise ValueError(f"{who}'s forward pass fails on X of shape {tuple(X.shape)}: {type(exc).__name__}: "
                             f"{exc}") from None
    check_outputs(out, X.shape[0], K)


def check_pair(pair, n: int, at: str = "") -> tuple[int, int]:
    """``pair`` as two different point indices in ``[0, n)`` (a tuple, list or integer array of two), else a
    ``ValueError`` naming ``pair`` (``at``: where, e.g. ``"[3]"`` for the fourth model's).

    >>> check_pair([0, 1], 2)
    (0, 1)
    """
    if isinstance(pair, np.ndarray) and pair.shape == (2,) and pair.dtype.kind in "iu":
        pair = tuple(pair.tolist())
    ok = isinstance(pair, (tuple, list)) and len(pair) == 2 and all(
        isinstance(p, (int, np.integer)) and not isinstance(p, (bool, np.bool_)) for p in pair)
    if not ok or not (0 <= pair[0] < n and 0 <= pair[1] < n and pair[0] != pair[1]):
        raise ValueError(f"pair{at} must be two different point indices in [0, {n - 1}], got {pair!r}")
    return int(pair[0]), int(pair[1])


def layer_name(model: torch.nn.Module, layer) -> str:
    """The name a probed run records for ``layer``: the dotted submodule name, checked to exist in ``model``
    (a ``ValueError`` lists the names it has), or a callable's qualified name. A submodule passed itself, or
    anything else, is a ``TypeError`` saying what to pass instead.

    >>> import torch
    >>> layer_name(torch.nn.Sequential(torch.nn.Linear(1, 2), torch.nn.Tanh()), "1")
    '1'
    """
    if isinstance(layer, torch.nn.Module):     # the submodule itself, where its dotted name is meant
        name = next((n for n, m in model.named_modules() if m is layer), None)
        raise TypeError(f"layer must be the dotted name of a submodule (here {name!r}) or a callable (model, x) -> "
                        f"(n, d), got the module {type(layer).__name__} itself" if name is not None else
                        f"layer must be the dotted name of a submodule or a callable (model, x) -> (n, d), got a "
                        f"{type(layer).__name__} module that is not part of the model")
    if callable(layer) and not isinstance(layer, str):
        return getattr(layer, "__qualname__", type(layer).__qualname__)
    if not isinstance(layer, str):
        raise TypeError(f"layer must be the dotted name of a submodule or a callable (model, x) -> (n, d), "
                        f"got {layer!r}")
    names = [n for n, _ in model.named_modules()]
    if layer not in names:
        shown = ", ".join(repr(n) for n in names[:12]) + (", …" if len(names) > 12 else "")
        raise ValueError(f"layer {layer!r} is not a submodule of the model; its submodules are {shown}")
    return layer


@dataclass(frozen=True)
class Run:
    """One run's checked settings."""

    X: torch.Tensor
    Y: torch.Tensor
    name: str
    lr: float
    epochs: int
    pair: tuple
    seed: int
    stop_loss: float | None


def checked(model, X, Y, layer, lr, epochs, optimizer, pair, seed, stop_loss, at: str = "") -> Run:
    """The input rule of :func:`probe` (``at``: the run's index in :func:`probe_many`, named in errors)."""
    check_model(model, at)
    Xt, Yt = tensor(f"X{at}", X), tensor(f"Y{at}", Y)
    if Xt.shape[0] != Yt.shape[0]:
        raise ValueError(f"X{at} and Y{at} must hold the same number of points, got {Xt.shape[0]} and {Yt.shape[0]}")
    name = layer_name(model, layer)
    lr = _v.scalar(f"lr{at}", lr)
    if not (np.isfinite(lr) and 0 < lr <= LR_MAX):
        raise ValueError(f"lr{at} must be a number in (0, {LR_MAX:.3g}] (the network trains in float32), got {lr!r}")
    epochs = _v.integer(f"epochs{at}", epochs, 2, EPOCHS_MAX)
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    pair = check_pair(pair, Xt.shape[0], at)
    if torch.equal(Xt[pair[0]], Xt[pair[1]]):
        raise ValueError(f"X{at}[{pair[0]}] and X{at}[{pair[1]}] (the pair) are the same point in float32: Eq. 7 "
                         "needs two different inputs (||Δx||² > 0)")
    seed = _v.integer(f"seed{at}", seed, 0, SEED_MAX)
    if stop_loss is not None:
        stop_loss = _v.scalar(f"stop_loss{at}", stop_loss)
        if not (np.isfinite(stop_loss) and stop_loss > 0):
            raise ValueError(f"stop_loss{at} must be a number > 0 or None, got {stop_loss!r}")
    return Run(Xt, Yt, name, lr, epochs, pair, seed, stop_loss)


def per_run(name: str, value, B: int, is_many) -> list:
    """``value`` for each of ``B`` models: its items when ``is_many(value)`` (then exactly ``B`` of them, else a
    ``ValueError`` naming ``name``), or ``B`` copies of it.

    >>> per_run("seed", 3, 2, lambda v: isinstance(v, list)), per_run("seed", [4, 5], 2, lambda v: isinstance(v, list))
    ([3, 3], [4, 5])
    """
    if is_many(value):
        if len(value) != B:
            raise ValueError(f"{name} must be one value, or one per model ({B}), got {len(value)}")
        return list(value)
    return [value] * B


def same_structure(models) -> None:
    """Refuse (``ValueError``, naming the first model that differs and how) models that :func:`probe_many
    <reptheory.lab.probing.probe_many>` cannot train as one batch: another class or ``repr``, other plain
    attributes, parameters of other shapes, or other parameters that train; or no parameter that trains."""
    ref = models[0]
    shapes = {k: tuple(v.shape) for k, v in ref.state_dict().items()}
    attributes = _key.attributes(ref)
    for k, m in enumerate(models[1:], 1):
        if type(m) is not type(ref) or repr(m) != repr(ref):
            raise ValueError(f"models[{k}] differs in structure from models[0]: probe_many trains networks of one "
                             "architecture together (call it once per architecture)")
        if _key.attributes(m) != attributes:
            raise ValueError(f"models[{k}] differs from models[0] in a plain attribute of a submodule (not a "
                             "parameter or buffer): probe_many runs every network through models[0]'s forward, so "
                             "their plain attributes (numbers, strings, tensors, containers) must be equal")
        other = {n: tuple(v.shape) for n, v in m.state_dict().items()}
        if other != shapes:
            bad = next(n for n in sorted(set(shapes) | set(other)) if shapes.get(n) != other.get(n))
            raise ValueError(f"models[{k}] has {bad!r} of shape {other.get(bad)}, models[0] {shapes.get(bad)}: "
                             "probe_many trains networks of one architecture together")
    trainable = [n for n, p in ref.named_parameters() if p.requires_grad]
    if not trainable:
        raise ValueError("models[0] has no trainable parameters")
    for k, m in enumerate(models[1:], 1):
        if [n for n, p in m.named_parameters() if p.requires_grad] != trainable:
            raise ValueError(f"models[{k}] trains other parameters than models[0] (requires_grad differs)")


