"""Where independent runs execute: worker processes on this machine, or a distributed backend.

Every sweep in :mod:`reptheory.experiments` is a list of independent jobs (one training run, one fit) whose
results go to :mod:`reptheory.cache`; :func:`run` hands them to joblib, each job with the caller's runtime
(:mod:`reptheory.runtime`). The defaults come from the runtime, read from the environment, so that a notebook
(or ``python -m reptheory reproduce``) runs unchanged at any scale:

* ``REPTHEORY_N_JOBS`` – worker count (default 2, the CI machine's cores). Each worker trains with one torch
  thread: at these widths one thread per process beats threads within one process (see the performance
  appendix).
* ``REPTHEORY_BACKEND`` – ``loky`` (default: joblib's worker processes), ``dask`` or ``ray``. ``dask`` connects
  a ``dask.distributed.Client`` to ``REPTHEORY_SCHEDULER`` (an address such as ``tcp://host:8786``; unset:
  a local cluster); ``ray`` calls ``ray.init(address=REPTHEORY_SCHEDULER)`` and registers Ray's joblib
  backend. Neither package is a dependency of reptheory: install the one you use on every node.
* ``REPTHEORY_PROGRESS`` – ``1``: tqdm bars (widgets in a notebook); ``terminal``: plain-text bars on stderr
  (``python -m reptheory reproduce`` relays a notebook's stderr to the terminal); unset or ``0``: no bars.
"""
from __future__ import annotations

import contextlib
import sys
from typing import Callable

from reptheory import validate as _v
from reptheory import runtime as _runtime
from reptheory.runtime import BACKENDS

__all__ = ["BACKENDS", "default_jobs", "backend_name", "progress_enabled", "run", "run_calls", "call", "batches",
           "stacks"]


def default_jobs() -> int:
    """The runtime's worker count (``$REPTHEORY_N_JOBS``, an integer >= 1, else 2)."""
    return _runtime.current().jobs


def backend_name() -> str:
    """The runtime's backend (``$REPTHEORY_BACKEND``), one of :data:`BACKENDS` (default ``loky``)."""
    return _runtime.current().backend


def progress_enabled() -> bool:
    """Whether long work shows progress bars (the runtime's ``progress``, :func:`reptheory.runtime.current`)."""
    return _runtime.current().progress_bars


def batches(items, n_jobs: int | None = None, whole: bool = False) -> list[list]:
    """``items`` split for batched training: interleaved into one batch per worker (``n_jobs``, default
    :func:`default_jobs`; never an empty batch), so that the workers get equal shares of long and short items,
    or all in one batch with ``whole`` (an accelerator, which one batch keeps busy).

    >>> batches(range(5), 2), batches(range(5), 2, whole=True), batches(range(1), 2)
    ([[0, 2, 4], [1, 3]], [[0, 1, 2, 3, 4]], [[0]])
    """
    items = list(items)
    if whole or not items:
        return [items]
    n = min(_v.integer("n_jobs", default_jobs() if n_jobs is None else n_jobs, 1), len(items))
    return [items[k::n] for k in range(n)]


def stacks(groups: dict, n_jobs: int | None = None, whole: bool = False) -> list[tuple]:
    """``(key, items)`` jobs for training each group of ``groups`` (``{key: items}``, empty groups left out) as
    stacks of the batched engine: one stack per group where the groups alone keep the ``n_jobs`` workers busy
    (a larger stack costs less per network), else each group's items split over the workers (:func:`batches`);
    one stack per group with ``whole`` (an accelerator).

    >>> stacks({"a": [0, 1, 2], "b": [0, 1], "c": []}, 2), stacks({"a": range(5)}, 2)
    ([('a', [0, 1, 2]), ('b', [0, 1])], [('a', [0, 2, 4]), ('a', [1, 3])])
    """
    groups = {k: list(v) for k, v in groups.items() if len(v)}
    n = _v.integer("n_jobs", default_jobs() if n_jobs is None else n_jobs, 1)
    one = whole or len(groups) >= n
    return [(k, part) for k, items in groups.items() for part in ([items] if one else batches(items, n))]


def call(fn: Callable, *args, **kwargs) -> tuple:
    """One job for :func:`run_calls`: ``fn(*args, **kwargs)``."""
    return fn, args, kwargs


def _in_runtime(rt: _runtime.Runtime, job: tuple, keep: bool):
    """The job ``(fn, args, kwargs)`` under the caller's runtime ``rt`` (in a worker process, which may not
    share its environment); its result, or ``None`` if not ``keep``."""
    fn, args, kwargs = job
    with _runtime.use(rt):
        out = fn(*args, **kwargs)
    return out if keep else None


@contextlib.contextmanager
def _backend(name: str):
    from joblib import parallel_config
    if name == "loky":
        with parallel_config(backend="loky"):
            yield
        return
    address = _runtime.current().scheduler
    if name == "dask":
        try:
            from dask.distributed import Client, get_client
        except ImportError:
            raise RuntimeError("REPTHEORY_BACKEND=dask needs dask.distributed: pip install 'dask[distributed]'") from None
        try:
            get_client()
        except ValueError:                      # no client yet: connect (or start a local cluster)
            Client(address)
        with parallel_config(backend="dask"):
            yield
        return
    try:
        import ray
        from ray.util.joblib import register_ray
    except ImportError:
        raise RuntimeError("REPTHEORY_BACKEND=ray needs ray: pip install 'ray[default]'") from None
    if not ray.is_initialized():
        ray.init(address=address)
    register_ray()
    with parallel_config(backend="ray"):
        yield


def run(fn: Callable, jobs: list, n_jobs: int | None = None, progress: bool | None = None, desc: str = "",
        keep: bool = True) -> list:
    """``[fn(*job) for job in jobs]``, in ``n_jobs`` workers of the configured backend, in order: the one way
    the package runs independent jobs (:func:`run_calls` with the same function for every job).

    ``n_jobs`` defaults to :func:`default_jobs`, ``progress`` to the runtime's. One job, or ``n_jobs == 1``,
    runs in this process (no backend). Each worker runs its jobs under this process's runtime
    (:func:`reptheory.runtime.current`), passed with the job. ``keep=False``: the workers send nothing back
    (a list of ``None``), for jobs whose results go to the cache and are read from there.

    >>> run(pow, [(2, 3), (3, 2)], n_jobs=1)
    [8, 9]
    """
    return run_calls([call(fn, *job) for job in jobs], n_jobs, progress, desc, keep)


def run_calls(calls: list, n_jobs: int | None = None, progress: bool | None = None, desc: str = "",
              keep: bool = True) -> list:
    """:func:`run` for jobs of different functions: each of ``calls`` is :func:`call`'s ``(fn, args, kwargs)``.

    >>> run_calls([call(pow, 2, 3), call(divmod, 7, 2)], n_jobs=1)
    [8, (3, 1)]
    """
    n_jobs = default_jobs() if n_jobs is None else n_jobs
    n_jobs = _v.integer("n_jobs", n_jobs, 1)
    progress = progress_enabled() if progress is None else bool(progress)
    rt = _runtime.current()
    name = rt.backend
    if rt.progress == "terminal":      # a text bar on stderr (the command line relays it)
        from tqdm.std import tqdm
        bar = tqdm(total=len(calls), disable=not progress, desc=desc, file=sys.stderr, mininterval=2.0)
    else:
        from tqdm.auto import tqdm
        bar = tqdm(total=len(calls), disable=not progress, desc=desc)
    out = []
    if n_jobs == 1 or len(calls) <= 1:
        for job in calls:
            out.append(_in_runtime(rt, job, keep))
            bar.update()
    else:
        from joblib import Parallel, delayed
        with _backend(name):
            if name == "ray":               # Ray's joblib backend returns lists only: the bar moves at the end
                out = Parallel(n_jobs=n_jobs)(delayed(_in_runtime)(rt, job, keep) for job in calls)
                bar.update(len(out))
            else:
                for r in Parallel(n_jobs=n_jobs, return_as="generator")(delayed(_in_runtime)(rt, job, keep)
                                                                        for job in calls):
                    out.append(r)
                    bar.update()
    bar.close()
    return out
