"""The two-point theory tested on any PyTorch model: :func:`probe` (one network) and :func:`probe_many` (many
networks of one architecture, trained together).

:func:`probe` trains a copy of a ``torch.nn.Module`` full batch on inputs ``X`` and targets ``Y`` with the
book's criterion, ½-MSE (``0.5 · mean((ŷ − y)²)`` over points and output coordinates), by SGD or Adam. At
every epoch, before the update, it reads the representation ``h`` of two points ``i, j`` (the ``pair``) at a
chosen layer and measures Eq. 8's variables

* ``h2 = ||h(x_j) − h(x_i)||²`` (the representation flattened to a vector),
* ``y2 = ||ŷ(x_j) − ŷ(x_i)||²``, ``w = y2 − (y_j − y_i)·(ŷ(x_j) − ŷ(x_i))``,

with ``dx2 = ||x_j − x_i||²`` (the inputs flattened), ``dy2 = ||y_j − y_i||²``, and the pair's own loss
``¼ (||ŷ_i − y_i||² + ||ŷ_j − y_j||²)``, the quantity Eq. 9 describes. It then fits Eq. 7's rates
(Eq. 49, :func:`reptheory.theory.fit.fit_rates`), Eq. 9's mean rate to the pair's loss
(:func:`reptheory.theory.fit.fit_mean_rate`), and evaluates Eq. 10 from the run's own initial ``h2``, ``y2``.

:func:`probe_many` does the same for many networks of one architecture in one vectorised batch (the engines
are in :mod:`reptheory.lab.engines`); :func:`pair_data` makes two-point data of any input shape. The Fig. 5
protocol on a model factory and the chapter's survey are in :mod:`reptheory.lab.protocol`.

A run is cached (:mod:`reptheory.cache`, kind ``probe_run``; a batch as one entry of kind ``probe_many``)
under a key made of the model, the layer and the data (:mod:`reptheory.lab.key`) and the training settings;
the cache also hashes the training engines' module. The fits are recomputed on every call (0.2 s
each). A run that diverges (a non-finite loss, or one :data:`reptheory.networks.stop.DIVERGENCE_FACTOR` times its
initial value) stops there, is reported as diverged and is not fitted.
"""
from __future__ import annotations

import contextlib
import copy
import dataclasses
import warnings
from dataclasses import dataclass

import numpy as np
import torch

from reptheory import cache as _cache
from reptheory import parallel as _par
from reptheory import validate as _v
from reptheory.lab import key as _key
from reptheory.lab import engines as _pt
from reptheory.lab.result import ProbeResult, from_arrays
from reptheory.networks.train import device as _device

__all__ = ["OPTIMIZERS", "probe", "probe_many", "pair_data"]

OPTIMIZERS = ("sgd", "adam")

# ----------------------------------------------------------------------------------------------------------
# input checks

def _tensor(name: str, value) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        arr = value.detach().cpu().numpy()
    else:
        arr = value
    arr = _v.finite(name, arr)
    if arr.ndim < 1 or arr.shape[0] < 2:
        raise ValueError(f"{name} must hold at least two points along its first axis, got shape {arr.shape}")
    return torch.as_tensor(arr, dtype=torch.float32)


def _check_pair(pair, n: int, at: str = "") -> tuple[int, int]:
    ok = isinstance(pair, (tuple, list)) and len(pair) == 2 and all(
        isinstance(p, (int, np.integer)) and not isinstance(p, (bool, np.bool_)) for p in pair)
    if not ok or not (0 <= pair[0] < n and 0 <= pair[1] < n and pair[0] != pair[1]):
        raise ValueError(f"pair{at} must be two different point indices in [0, {n - 1}], got {pair!r}")
    return int(pair[0]), int(pair[1])


def _layer_name(model: torch.nn.Module, layer) -> str:
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


# ----------------------------------------------------------------------------------------------------------
# the public calls

def probe(model: torch.nn.Module, X, Y, layer, *, lr, epochs, optimizer: str = "sgd", pair=(0, 1),
          seed: int = 0, stop_loss=None, device: str | None = None, cache: bool = True) -> ProbeResult:
    """Train a copy of ``model`` on ``(X, Y)`` and test Eq. 7, Eq. 9 and Eq. 10 on the representation at
    ``layer`` for the two points ``pair``.

    ``X``: inputs, an array or tensor with the points along its first axis (any shape after it); ``Y``:
    targets, ``(n,)`` or ``(n, k)``; the model maps ``X`` to outputs of ``Y``'s shape. ``layer``: the dotted
    name of a submodule (``""`` is the model itself), read by a forward hook; its output (the first tensor of
    a tuple) must have the points along its first axis and is flattened per point. Or a callable
    ``layer(model, x) -> (len(x), d)`` that maps the model and inputs to vectors (one token, a pooled
    sequence). ``lr`` (> 0) and ``epochs`` (≥ 2) of full-batch ``optimizer`` (``"sgd"`` or ``"adam"``) on
    ½-MSE; ``seed`` seeds torch's generator during training (dropout masks; the caller's generator state is
    restored afterwards); ``stop_loss``: stop once the training loss falls below it (``None``: all epochs).
    ``device``: a torch device (default ``$REPTHEORY_DEVICE`` or the CPU). The caller's model is not modified.

    Records are taken before each update and after the last, in eval mode if the model has dropout or batch
    normalisation. Returns a :class:`ProbeResult`; its ``verdict`` says in one line whether the theory holds at
    the default network's :data:`reptheory.lab.result.BARS`.

    >>> import torch
    >>> torch.manual_seed(0) and None
    >>> net = torch.nn.Sequential(torch.nn.Linear(1, 64), torch.nn.Tanh(), torch.nn.Linear(64, 64),
    ...                           torch.nn.Tanh(), torch.nn.Linear(64, 1))
    >>> with torch.no_grad():
    ...     for p in net.parameters(): _ = p.mul_(0.5)
    >>> X, Y = pair_data(1.0, 0.5 ** 0.5, (1,), 1)
    >>> r = probe(net, X, Y, "3", lr=0.05, epochs=3000, cache=False)
    >>> r.fit is not None, r.converged, r.h_inf > 0
    (True, True, True)
    """
    run = _checked(model, X, Y, layer, lr, epochs, optimizer, pair, seed, stop_loss)
    if not isinstance(cache, bool):
        raise TypeError(f"cache must be True or False, got {cache!r}")
    dev = _device(device)

    def compute() -> dict:
        with _one_thread(), torch.random.fork_rng(devices=[]):
            torch.manual_seed(run.seed)
            return _pt.train_one(copy.deepcopy(model).to(dev), run.X, run.Y, layer, run.lr, run.epochs, optimizer,
                                 run.pair, run.stop_loss, dev)

    if not cache:
        return from_arrays({k: np.asarray(v) for k, v in compute().items()}, run.name, run.pair)
    return from_arrays(_cache.cached("probe_run", _description(model, layer, optimizer, run, dev), compute), run.name,
                   run.pair)


@dataclass(frozen=True)
class _Run:
    """One run's checked settings."""

    X: torch.Tensor
    Y: torch.Tensor
    name: str
    lr: float
    epochs: int
    pair: tuple
    seed: int
    stop_loss: float | None


def _checked(model, X, Y, layer, lr, epochs, optimizer, pair, seed, stop_loss, at: str = "") -> _Run:
    """The input rule of :func:`probe` (``at``: the run's index in :func:`probe_many`, named in errors)."""
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model{at} must be a torch.nn.Module, got {type(model).__name__}")
    Xt, Yt = _tensor(f"X{at}", X), _tensor(f"Y{at}", Y)
    if Xt.shape[0] != Yt.shape[0]:
        raise ValueError(f"X{at} and Y{at} must hold the same number of points, got {Xt.shape[0]} and {Yt.shape[0]}")
    name = _layer_name(model, layer)
    lr = _v.scalar(f"lr{at}", lr)
    if not (np.isfinite(lr) and lr > 0):
        raise ValueError(f"lr{at} must be a number > 0, got {lr!r}")
    epochs = _v.integer(f"epochs{at}", epochs, 2)
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    pair = _check_pair(pair, Xt.shape[0], at)
    seed = _v.integer(f"seed{at}", seed, 0)
    if stop_loss is not None:
        stop_loss = _v.scalar(f"stop_loss{at}", stop_loss)
        if not (np.isfinite(stop_loss) and stop_loss > 0):
            raise ValueError(f"stop_loss{at} must be a number > 0 or None, got {stop_loss!r}")
    return _Run(Xt, Yt, name, lr, epochs, pair, seed, stop_loss)


def _description(model, layer, optimizer, run: _Run, dev) -> dict:
    """A run's cache key: the model (structure, weights, code), the layer, the data and the settings."""
    return {"model": _key.model_digest(model), "layer": _key.layer_digest(layer), "X": _key.array_digest(run.X),
            "Y": _key.array_digest(run.Y), "lr": run.lr, "epochs": run.epochs, "optimizer": optimizer,
            "pair": list(run.pair), "seed": run.seed, "stop_loss": run.stop_loss, "device": str(dev),
            "torch": torch.__version__, "divergence": _pt.DIVERGENCE_FACTOR}


@contextlib.contextmanager
def _one_thread():
    """Runs are small: one thread, so that worker processes do not compete."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _per_run(name: str, value, B: int, is_many) -> list:
    if is_many(value):
        if len(value) != B:
            raise ValueError(f"{name} must be one value, or one per model ({B}), got {len(value)}")
        return list(value)
    return [value] * B


def _same_structure(models) -> None:
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
                             "their non-tensor attributes must be equal")
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


def probe_many(models, X, Y, layer, *, lr, epochs, optimizer: str = "sgd", pair=(0, 1), seed=0, stop_loss=None,
               device: str | None = None, cache: bool = True, fit=True, n_jobs: int | None = None,
               progress: bool | None = None) -> list[ProbeResult]:
    """:func:`probe` for many networks of one architecture, trained together: ``[probe(models[k], X[k],
    Y[k], layer, ...) for k]`` in one batch.

    ``models``: a list of modules of one structure (same class, printed form, parameter shapes and plain
    attributes: every network runs through the first one's forward pass). ``X``, ``Y``: one dataset for all (an
    array, tensor or nested list), or a list of arrays or tensors, one per model (same shapes). ``lr``,
    ``epochs``, ``stop_loss``, ``seed``: one value or a list with one per model; ``pair``: one pair, or a
    list of pairs (or arrays: 1-D for the numbers, ``(B, 2)`` for the pairs). Each network keeps
    :func:`probe`'s records, stop rule and divergence rule, but all train in one vectorised loop (:func:`reptheory.lab.engines.train_many`): on a CPU,
    7–10× faster per network for 30 small networks (``benchmarks/train_step.py`` prints the ratio). Its
    numbers equal :func:`probe`'s to float32 rounding (tested), not bit for bit, so the batch is cached as one
    entry (kind ``probe_many``).

    Networks that behave differently in training mode (dropout, batch normalisation: their random masks
    would differ from :func:`probe`'s), and any the vectorised loop cannot run (a forward pass that draws
    random numbers or reads a tensor's value into Python), are trained one by one with :func:`probe`
    instead, on ``n_jobs`` worker processes, with the same results as :func:`probe`.

    ``fit``: fit Eq. 7 and Eq. 9 to every run (``True``), to none (``False``: the results hold the measured
    curves only, ``fit`` is ``None``; for runs whose initial and final values are all that is read), or a
    list of booleans, one per model.

    >>> import torch
    >>> def net(seed):
    ...     torch.manual_seed(seed)
    ...     return torch.nn.Sequential(torch.nn.Linear(1, 32), torch.nn.Tanh(), torch.nn.Linear(32, 1))
    >>> runs = probe_many([net(s) for s in range(3)], *pair_data(1.0, 0.5 ** 0.5, (1,)), "1", lr=0.05,
    ...                   epochs=500, cache=False)
    >>> len(runs), all(r.measured.traj.h2.size == 501 for r in runs)
    (3, True)
    """
    if not isinstance(models, (list, tuple)) or not models:
        raise TypeError(f"models must be a non-empty list of torch.nn.Module, got {type(models).__name__}")
    B = len(models)
    for name, v in (("X", X), ("Y", Y)):
        if isinstance(v, (list, tuple)) and any(isinstance(a, (np.ndarray, torch.Tensor)) for a in v) and not all(
                isinstance(a, (np.ndarray, torch.Tensor)) for a in v):
            raise TypeError(f"{name}: a list of datasets, one per model, must hold arrays or tensors only (a nested "
                            "list of numbers is one dataset for all)")
    listed = lambda v: isinstance(v, (list, tuple)) or (isinstance(v, np.ndarray) and v.ndim == 1)  # noqa: E731
    pairs_listed = lambda v: ((isinstance(v, (list, tuple)) and len(v) > 0                            # noqa: E731
                               and all(isinstance(p, (list, tuple, np.ndarray)) for p in v))
                              or (isinstance(v, np.ndarray) and v.ndim == 2))
    arrays_listed = lambda v: (isinstance(v, (list, tuple))                                          # noqa: E731
                               and all(isinstance(a, (np.ndarray, torch.Tensor)) for a in v))
    per = {"X": _per_run("X", X, B, arrays_listed), "Y": _per_run("Y", Y, B, arrays_listed),
           "lr": _per_run("lr", lr, B, listed), "epochs": _per_run("epochs", epochs, B, listed), "pair": _per_run("pair", pair, B, pairs_listed),
           "seed": _per_run("seed", seed, B, listed), "stop_loss": _per_run("stop_loss", stop_loss, B, listed),
           "fit": _per_run("fit", fit, B, listed)}
    per["pair"] = [tuple(p) if isinstance(p, np.ndarray) else p for p in per["pair"]]
    for k, f in enumerate(per["fit"]):
        if not isinstance(f, (bool, np.bool_)):
            raise TypeError(f"fit[{k}] must be True or False, got {f!r}")
    for k, m in enumerate(models):
        if not isinstance(m, torch.nn.Module):
            raise TypeError(f"models[{k}] must be a torch.nn.Module, got {type(m).__name__}")
    _same_structure(models)
    runs = [_checked(models[k], per["X"][k], per["Y"][k], layer, per["lr"][k], per["epochs"][k], optimizer,
                     per["pair"][k], per["seed"][k], per["stop_loss"][k], at=f"[{k}]") for k in range(B)]
    for name in ("X", "Y"):
        shapes = {tuple(getattr(r, name).shape) for r in runs}
        if len(shapes) > 1:
            raise ValueError(f"every {name} must have one shape, got {sorted(shapes)}")
    if not isinstance(cache, bool):
        raise TypeError(f"cache must be True or False, got {cache!r}")
    dev = _device(device)
    one_by_one = _pt.has_train_mode(models[0])

    def sequential() -> list[ProbeResult]:
        calls = [_par.call(probe, models[k], runs[k].X, runs[k].Y, layer, lr=runs[k].lr, epochs=runs[k].epochs,
                           optimizer=optimizer, pair=runs[k].pair, seed=runs[k].seed, stop_loss=runs[k].stop_loss,
                           device=device, cache=cache) for k in range(B)]
        done = _par.run_calls(calls, n_jobs, progress, "probe one by one")
        return [r if per["fit"][k] else dataclasses.replace(r, fit=None, mean_fit=None, h_inf=float("nan"))
                for k, r in enumerate(done)]

    if one_by_one:
        return sequential()
    with torch.no_grad(), _one_thread(), torch.random.fork_rng(devices=[]):   # a bad input fails here, as in probe
        _pt.check_outputs(copy.deepcopy(models[0]).eval()(runs[0].X), runs[0].X.shape[0],
                          runs[0].Y.reshape(runs[0].Y.shape[0], -1).shape[1])

    def compute() -> dict:
        with _one_thread():
            out = _pt.train_many([copy.deepcopy(m) for m in models], torch.stack([r.X for r in runs]),
                                 torch.stack([r.Y for r in runs]), layer, [r.lr for r in runs],
                                 [r.epochs for r in runs], optimizer, [r.pair for r in runs],
                                 [r.stop_loss for r in runs], dev)
        return {f"{k}:{name}": v for k, arrays in enumerate(out) for name, v in arrays.items()}

    try:
        if cache:
            desc = {"runs": [_description(models[k], layer, optimizer, runs[k], dev) for k in range(B)]}
            flat = _cache.cached("probe_many", desc, compute)
        else:
            flat = {k: np.asarray(v) for k, v in compute().items()}
    except (RuntimeError, NotImplementedError) as exc:
        warnings.warn(f"probe_many: the networks cannot be trained in one vectorised batch ({exc}); training them "
                      "one by one", RuntimeWarning, stacklevel=2)
        return sequential()
    return [from_arrays({name: flat[f"{k}:{name}"] for name in (*_pt.RECORDS, "dx2", "dy2", "m0", "diverged", "seconds")},
                    runs[k].name, runs[k].pair, bool(per["fit"][k])) for k in range(B)]


def pair_data(dx: float, dy: float, in_shape, out_dim: int = 1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A two-point dataset with ``||Δx|| = dx`` and ``||Δy|| = dy`` for inputs of any shape.

    ``x_i = b`` and ``x_j = b + dx·u``, with ``b`` and ``u`` orthogonal unit vectors drawn from ``seed`` and
    reshaped to ``in_shape`` (random directions: an input along the all-ones direction, as in
    :func:`reptheory.networks.data.two_points`, would be erased by a normalisation layer); for a one-number input,
    the book's ``x = (−1, −1 + dx)``. ``y = (0.6, 0.6 + dy)`` in every output coordinate, divided by
    ``√out_dim``, as in the book's two-point data.

    >>> X, Y = pair_data(1.0, 0.5, (3, 4))
    >>> X.shape, Y.shape, round(float(((X[1] - X[0]) ** 2).sum()), 6), round(float(((Y[1] - Y[0]) ** 2).sum()), 6)
    ((2, 3, 4), (2, 1), 1.0, 0.25)
    """
    dx, dy = float(_v.positive("dx", dx)), float(_v.nonnegative("dy", dy))
    shape = (in_shape,) if isinstance(in_shape, (int, np.integer)) and not isinstance(in_shape, bool) else in_shape
    if not (isinstance(shape, tuple) and shape and all(isinstance(d, (int, np.integer)) and not isinstance(d, bool)
                                                        and d >= 1 for d in shape)):
        raise ValueError(f"in_shape must be a tuple of integers >= 1, got {in_shape!r}")
    out_dim = _v.integer("out_dim", out_dim, 1)
    seed = _v.integer("seed", seed, 0)
    D = int(np.prod(shape))
    if D == 1:                          # one number per input: the book's x = (−1, −1 + dx)
        b, u = np.array([-1.0]), np.array([1.0])
    else:
        rng = np.random.default_rng(seed)
        b = rng.standard_normal(D)
        b /= np.linalg.norm(b)
        u = rng.standard_normal(D)
        u -= (u @ b) * b
        u /= np.linalg.norm(u)
    X = np.stack([b, b + dx * u]).reshape((2, *shape))
    Y = np.array([[0.6], [0.6 + dy]]) * np.ones((1, out_dim)) / np.sqrt(out_dim)
    return X.astype(np.float32), Y.astype(np.float32)
