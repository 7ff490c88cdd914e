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
import numpy as np
import torch

from reptheory import cache as _cache
from reptheory import parallel as _par
from reptheory import validate as _v
from reptheory.lab import engines as _pt
from reptheory.lab import key as _key
from reptheory.lab.inputs import (BATCH_RECORD_BYTES_MAX, OPTIMIZERS, Run, check_forward, check_model, checked,
                                  per_run, same_structure)
from reptheory.experiments.result import TwoPointResult
from reptheory.lab.result import from_arrays
from reptheory.networks.stop import DIVERGENCE_FACTOR
from reptheory.networks.train import device as _device

__all__ = ["OPTIMIZERS", "probe", "probe_many", "pair_data"]

# ----------------------------------------------------------------------------------------------------------
# the public calls

def probe(model: torch.nn.Module, X, Y, layer, *, lr, epochs, optimizer: str = "sgd", pair=(0, 1),
          seed: int = 0, stop_loss=None, device: str | None = None, cache: bool = True) -> TwoPointResult:
    """Train a copy of ``model`` on ``(X, Y)`` and test Eq. 7, Eq. 9 and Eq. 10 on the representation at
    ``layer`` for the two points ``pair``.

    ``X``: inputs, an array or tensor with the points along its first axis (any shape after it); ``Y``:
    targets, ``(n,)`` or ``(n, k)``; the model maps ``X`` to outputs of ``Y``'s shape. ``layer``: the dotted
    name of a submodule (``""`` is the model itself), read by a forward hook; its output (the first tensor of
    a tuple) must have the points along its first axis and is flattened per point. Or a callable
    ``layer(model, x) -> (len(x), d)`` that maps the model and inputs to vectors (one token, a pooled
    sequence). ``lr`` (in ``(0,`` :data:`~reptheory.lab.inputs.LR_MAX` ``]``) and ``epochs`` (2 to
    :data:`~reptheory.lab.inputs.EPOCHS_MAX`) of full-batch ``optimizer`` (``"sgd"`` or ``"adam"``) on ½-MSE
    (every argument is checked first: :mod:`reptheory.lab.inputs`); ``seed`` seeds torch's generator during
    training (dropout masks; the caller's generator state is restored afterwards); ``stop_loss``: stop once the
    training loss falls below it (``None``: all epochs).
    ``device``: a torch device (default ``$REPTHEORY_DEVICE`` or the CPU). The caller's model is not modified.
    ``cache``: keep the run in the result cache, keyed on everything that can change it
    (:mod:`reptheory.lab.key`); a model or layer holding something that cannot be keyed (a random generator, an
    open file) is run uncached, with a warning that says what.

    Records are taken before each update and after the last, in eval mode if the model has dropout or batch
    normalisation. Returns a :class:`~reptheory.experiments.result.TwoPointResult`; its ``verdict`` says in one
    line whether the theory holds at the default network's :data:`reptheory.lab.result.BARS`.

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
    run = checked(model, X, Y, layer, lr, epochs, optimizer, pair, seed, stop_loss)
    if not isinstance(cache, bool):
        raise TypeError(f"cache must be True or False, got {cache!r}")
    dev = _device(device)
    with _one_thread():
        check_forward(model, run.X.to(_home(model)), run.Y.reshape(run.Y.shape[0], -1).shape[1])

    def compute() -> dict:
        with _one_thread(), torch.random.fork_rng(devices=[dev] if str(dev).startswith("cuda") else []):
            torch.manual_seed(run.seed)
            return _pt.train_one(copy.deepcopy(model).to(dev), run.X, run.Y, layer, run.lr, run.epochs, optimizer,
                                 run.pair, run.stop_loss, dev)

    desc = _description(model, layer, optimizer, run, dev) if cache else None
    if desc is None:
        return from_arrays({k: np.asarray(v) for k, v in compute().items()}, run.name, run.pair)
    return from_arrays(_cache.cached("probe_run", desc, compute), run.name, run.pair)


def _description(model, layer, optimizer, run: Run, dev, at: str = "") -> dict | None:
    """A run's cache key: the model (structure, weights, code), the layer, the data and the settings; ``None``
    (with a warning naming what) when the model or the layer holds something that cannot be keyed."""
    try:
        model_key, layer_key = _key.model_digest(model), _key.layer_digest(layer)
    except _key.Unkeyable as exc:
        warnings.warn(f"not cached{at}: {exc}; the run is trained without the cache", RuntimeWarning, stacklevel=3)
        return None
    return {"model": model_key, "layer": layer_key, "X": _key.array_digest(run.X),
            "Y": _key.array_digest(run.Y), "lr": run.lr, "epochs": run.epochs, "optimizer": optimizer,
            "pair": list(run.pair), "seed": run.seed, "stop_loss": run.stop_loss, "device": str(dev),
            "torch": torch.__version__, "divergence": DIVERGENCE_FACTOR}


def _home(model) -> torch.device:
    """The device the model's parameters are on (the CPU for a model without any)."""
    return next((p.device for p in model.parameters()), torch.device("cpu"))


@contextlib.contextmanager
def _one_thread():
    """Runs are small: one thread, so that worker processes do not compete."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def probe_many(models, X, Y, layer, *, lr, epochs, optimizer: str = "sgd", pair=(0, 1), seed=0, stop_loss=None,
               device: str | None = None, cache: bool = True, fit=True, n_jobs: int | None = None,
               progress: bool | None = None) -> list[TwoPointResult]:
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
    per = {"X": per_run("X", X, B, arrays_listed), "Y": per_run("Y", Y, B, arrays_listed),
           "lr": per_run("lr", lr, B, listed), "epochs": per_run("epochs", epochs, B, listed), "pair": per_run("pair", pair, B, pairs_listed),
           "seed": per_run("seed", seed, B, listed), "stop_loss": per_run("stop_loss", stop_loss, B, listed),
           "fit": per_run("fit", fit, B, listed)}
    per["pair"] = [tuple(p) if isinstance(p, np.ndarray) else p for p in per["pair"]]
    for k, f in enumerate(per["fit"]):
        if not isinstance(f, (bool, np.bool_)):
            raise TypeError(f"fit[{k}] must be True or False, got {f!r}")
    for k, m in enumerate(models):
        check_model(m, f"[{k}]")
    if n_jobs is not None:
        _v.integer("n_jobs", n_jobs, 1)
    if progress is not None and not isinstance(progress, bool):
        raise TypeError(f"progress must be True, False or None, got {progress!r}")
    try:
        same_structure(models)
        unkeyable = None
    except _key.Unkeyable as exc:       # their plain attributes cannot be compared: never batched
        unkeyable = exc
    runs = [checked(models[k], per["X"][k], per["Y"][k], layer, per["lr"][k], per["epochs"][k], optimizer,
                     per["pair"][k], per["seed"][k], per["stop_loss"][k], at=f"[{k}]") for k in range(B)]
    for name in ("X", "Y"):
        shapes = {tuple(getattr(r, name).shape) for r in runs}
        if len(shapes) > 1:
            raise ValueError(f"every {name} must have one shape, got {sorted(shapes)}")
    need = B * (max(r.epochs for r in runs) + 1) * 8 * len(_pt.RECORDS)
    if need > BATCH_RECORD_BYTES_MAX:
        raise ValueError(f"epochs: the records of {B} networks over {max(r.epochs for r in runs)} epochs take "
                         f"{need / 2**30:.1f} GiB (at most {BATCH_RECORD_BYTES_MAX / 2**30:.0f}): pass fewer epochs "
                         "or fewer models per call")
    if not isinstance(cache, bool):
        raise TypeError(f"cache must be True or False, got {cache!r}")
    dev = _device(device)
    one_by_one = _pt.has_train_mode(models[0])
    if unkeyable is not None:
        warnings.warn(f"probe_many: the models' plain attributes cannot be compared ({unkeyable}); training them one "
                      "by one", RuntimeWarning, stacklevel=2)
        one_by_one = True

    def sequential() -> list[TwoPointResult]:
        calls = [_par.call(probe, models[k], runs[k].X, runs[k].Y, layer, lr=runs[k].lr, epochs=runs[k].epochs,
                           optimizer=optimizer, pair=runs[k].pair, seed=runs[k].seed, stop_loss=runs[k].stop_loss,
                           device=device, cache=cache) for k in range(B)]
        done = _par.run_calls(calls, n_jobs, progress, "probe one by one")
        return [r if per["fit"][k] else dataclasses.replace(r, fit=None, mean_fit=None, h_inf=float("nan"))
                for k, r in enumerate(done)]

    if one_by_one:
        return sequential()
    with _one_thread():                 # a bad input fails here, as in probe
        check_forward(models[0], runs[0].X.to(_home(models[0])), runs[0].Y.reshape(runs[0].Y.shape[0], -1).shape[1],
                      "models[0]")

    def compute() -> dict:
        with _one_thread():
            out = _pt.train_many([copy.deepcopy(m) for m in models], torch.stack([r.X for r in runs]),
                                 torch.stack([r.Y for r in runs]), layer, [r.lr for r in runs],
                                 [r.epochs for r in runs], optimizer, [r.pair for r in runs],
                                 [r.stop_loss for r in runs], dev)
        return {f"{k}:{name}": v for k, arrays in enumerate(out) for name, v in arrays.items()}

    try:
        descs = [_description(models[k], layer, optimizer, runs[k], dev, f" (models[{k}])") for k in range(B)] \
            if cache else [None]
        if all(d is not None for d in descs):
            flat = _cache.cached("probe_many", {"runs": descs}, compute)
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
