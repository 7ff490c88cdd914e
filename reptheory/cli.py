"""Command line: reproduce any figure of the book at the paper's settings, outside the book.

``python -m reptheory list`` names the figures. ``python -m reptheory reproduce fig2 --profile paper`` runs
the figure's notebook (``book/fig02_architectures.ipynb``, the single definition of the figure) in a fresh
kernel with the chosen profile and writes, under ``--out`` (default ``reproduce/<figure>-<profile>/``):

* ``<notebook>.ipynb`` – the executed notebook, every output included;
* ``figure-<k>.png`` – each figure it drew; ``kernel.log`` – what the kernel's process and its workers wrote
  outside the notebook (the terminal shows the notebook's own stderr: the sweeps' bars);
* ``checks.json`` – status (``passed``, ``failed`` with the failing check, or ``interrupted``), the numbers the
  checks cell recorded (:func:`reptheory.presentation.report.record`), the text the checks cells printed, time per cell,
  the profile, backend, device and versions.

Every training run and fit goes to the result cache (``--cache``, default ``$REPTHEORY_CACHE`` or
``~/.cache/reptheory``) the moment it finishes, so an interrupted command rerun with the same arguments
resumes where it stopped. Progress: a bar over the notebook's cells, and the sweeps' own bars in the
terminal. Scale: ``--jobs`` worker processes (one torch thread each), ``--backend dask|ray`` with
``--scheduler ADDRESS`` for a cluster (see :mod:`reptheory.parallel`), ``--device cuda`` for a GPU (see
:mod:`reptheory.networks.train`).

Before a kernel starts, every option is checked (the figure, ``--jobs`` from 1 to 4 per CPU, or 4096 on a
cluster, ``--timeout``, the device, the ``REPTHEORY_*`` variables, the backend's package, that ``--out`` and the
cache are writable folders), and ``--out`` is locked (``.reproduce.lock``): a second run on it is refused. Ctrl-C,
SIGTERM (say from ``timeout``) and SIGHUP stop the run alike: the kernel and its workers are shut down, the
executed part of the notebook and ``checks.json`` (status ``interrupted``, with the result-cache entries the
run finished) are written, and one line says so. Text in ``checks.json`` is plain (no terminal colour codes).

A run estimated to take more than an hour from an empty cache (:func:`estimate`; Fig. 5 and the parity phase
diagram in the paper profile) prints the estimate and starts only with ``--yes``.

Exit status: 0 every check passed; 1 a check failed (an ``AssertionError`` in a cell); 2 bad usage or setup
(the message names the option or variable and what it allows), or ``--out`` in use by another run; 3 an error
while running (any other exception in a cell, or the kernel died); 130 interrupted.
"""
from __future__ import annotations

import argparse
import base64
import contextlib
import importlib.metadata
import json
import os
import pathlib
import platform
import re
import signal
import sys
import time

from reptheory import _version, runtime

__all__ = ["main", "figures", "book_dir", "estimate", "CPU_SECONDS"]


def book_dir() -> pathlib.Path:
    """The book's notebooks: the runtime's (``$REPTHEORY_BOOK``), else ``book/`` beside the package (a source
    checkout)."""
    d = pathlib.Path(runtime.current().book or pathlib.Path(__file__).resolve().parent.parent / "book")
    if not d.is_dir():
        raise FileNotFoundError(f"no book directory at {d}: run from a source checkout of reptheory or set "
                                "REPTHEORY_BOOK to its book/ directory")
    return d


def figures(directory: pathlib.Path | None = None) -> dict[str, pathlib.Path]:
    """Figure name -> notebook: ``figN`` for ``figNN_*.ipynb``, the file stem for the other notebooks."""
    out = {}
    for p in sorted((directory or book_dir()).glob("*.ipynb")):
        m = re.match(r"fig(\d+)_", p.name)
        out[f"fig{int(m.group(1))}" if m else p.stem] = p
    return out


def _parser() -> argparse.ArgumentParser:
    from reptheory import parallel
    ap = argparse.ArgumentParser(prog="python -m reptheory", description=__doc__.split("\n\n")[0])
    ap.add_argument("--version", action="version", version=f"reptheory {_version.__version__}")
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the figures and their notebooks")
    rp = sub.add_parser("reproduce", help="run one figure's notebook and write its figures and checked numbers")
    rp.add_argument("figure", help="figure name, e.g. fig2 (see `list`)")
    rp.add_argument("--profile", default="default", choices=("paper", "default"),
                    help="default: the book's CI settings (the default, as in the library); paper: the paper's "
                         "exact settings")
    rp.add_argument("--out", help="output directory (default reproduce/<figure>-<profile>)")
    rp.add_argument("--jobs", type=int, default=None,
                    help=f"worker processes (default $REPTHEORY_N_JOBS or 2): 1 to 4 per CPU "
                         f"({runtime.max_jobs('loky')} here) with the local backend, up to {runtime.CLUSTER_JOBS} "
                         "with dask or ray")
    rp.add_argument("--backend", choices=parallel.BACKENDS, default=None,
                    help="joblib backend for the sweeps (default loky: processes on this machine)")
    rp.add_argument("--scheduler", default=None, help="dask scheduler or ray address for --backend dask|ray")
    rp.add_argument("--device", default=None, help="torch device: cpu (default), cuda, cuda:N, mps or auto")
    rp.add_argument("--cache", default=None, help="result cache directory (default $REPTHEORY_CACHE or "
                                                  "~/.cache/reptheory)")
    rp.add_argument("--timeout", type=int, default=None, help="seconds allowed per notebook cell (default: none)")
    rp.add_argument("--no-progress", action="store_true", help="no progress bars")
    rp.add_argument("--yes", action="store_true",
                    help="start even when the estimated time from an empty cache exceeds an hour")
    return ap


#: CPU-seconds of a figure from an empty cache, measured on the slower CPU of the Reproduce page (2 worker
#: processes: the notebook's wall time there × 2). The paper profile costs the same where its settings equal
#: the default profile's; the pages whose paper settings differ have their own entry (estimates from the
#: per-run costs on the Reproduce page, not end-to-end measurements).
CPU_SECONDS = {"default": {"fig2": 516, "fig4": 638, "fig5": 1170, "fig13": 346, "fig16": 302,
                           "parity_phase": 2124, "parity_theory": 478},
               "paper": {"fig4": 2 * 638 * 10 // 4, "fig5": 9 * 3600, "parity_phase": 15 * 3600,
                         "parity_tree_merge": 2 * 80 * 5 // 4}}
#: above this many estimated wall-clock seconds a run needs ``--yes``
CONFIRM_ABOVE = 3600


def estimate(figure: str, profile: str, n_jobs: int, backend: str = "loky") -> float:
    """Estimated wall-clock seconds of ``figure`` from an empty cache with ``n_jobs`` workers: its entry of
    :data:`CPU_SECONDS` (the default profile's where the paper profile has none; 600 CPU-seconds for a page
    without one, above every such page measured) divided by the workers, never more of them than ``backend``
    allows (:func:`reptheory.runtime.max_jobs`). The cache makes a rerun cheaper.

    >>> round(estimate("fig5", "paper", 2) / 3600, 1)
    4.5
    >>> estimate("fig1", "default", 2) < CONFIRM_ABOVE
    True
    """
    cpu = CPU_SECONDS.get(profile, {}).get(figure, CPU_SECONDS["default"].get(figure, 600))
    return cpu / min(max(1, n_jobs), runtime.max_jobs(backend))


#: exit statuses
PASSED, CHECK_FAILED, BAD_SETUP, RUN_ERROR, INTERRUPTED = 0, 1, 2, 3, 130
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _fail(msg: str) -> int:
    print(f"error: {msg}", file=sys.stderr)
    return BAD_SETUP


def plain(text: str) -> str:
    """``text`` without terminal colour and cursor codes (tracebacks from the kernel carry them).

    >>> plain("\x1b[0;31mAssertionError\x1b[0m: x")
    'AssertionError: x'
    """
    return _ANSI.sub("", text)


#: the lock file of an output folder: an exclusive ``flock`` on it, with the holder's pid, marks a running command
LOCK = ".reproduce.lock"


def _lock(out: pathlib.Path) -> int | None:
    """Lock the folder ``out``: the descriptor of its :data:`LOCK`, locked until it is closed or this process ends
    (``None`` without ``flock``: Windows); ``BlockingIOError`` naming the folder if another run holds it."""
    if os.name != "posix":
        return None
    import fcntl
    fd = os.open(out / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode(errors="replace").strip()
        os.close(fd)
        raise BlockingIOError(f"--out {out} is in use by another reproduce run{f' (pid {holder})' * bool(holder)}: "
                              "wait for it to finish, or give another --out") from None
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    return fd


def _backend_importable(name: str | None) -> str | None:
    """``None`` if the package behind ``--backend name`` imports (or none is needed), else the error message."""
    mod, how = {"dask": ("dask.distributed", "pip install 'dask[distributed]'"),
                "ray": ("ray", "pip install ray")}.get(name, (None, None))
    try:
        mod and __import__(mod)
    except ImportError:
        return (f"the backend {name} (--backend or REPTHEORY_BACKEND) needs the package {mod.split('.')[0]}, which "
                f"is not installed ({how})")
    return None


class _Stop(BaseException):
    """Raised in the main thread by SIGTERM or SIGHUP: handled like Ctrl-C."""


def _raise_stop(signum, frame):
    raise _Stop(signal.Signals(signum).name)


def _drop_cell_task(loop, context) -> None:
    """The event loop's exception handler after a stop: drops the traceback of the cell the shutdown ended."""
    coro = getattr(context.get("task") or context.get("future"), "get_coro", lambda: None)()
    if not getattr(coro, "__qualname__", "").startswith("NotebookClient."):
        loop.default_exception_handler(context)


def _images(nb) -> list[bytes]:
    return [base64.b64decode(o["data"]["image/png"]) for cell in nb.cells for o in cell.get("outputs", [])
            if "image/png" in o.get("data", {})]


def _checks_text(nb) -> list[str]:
    """Text printed by the code cells under a ``## Checks`` heading (until the next heading)."""
    out, inside = [], False
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            heads = re.findall(r"^#+\s*(.+)$", cell.source, flags=re.M)
            if heads:
                inside = heads[-1].strip().lower().startswith("check")
            continue
        if inside:
            for o in cell.get("outputs", []):
                if o.get("output_type") == "stream" and o.get("name") == "stdout":
                    out.extend(l for l in o["text"].splitlines() if l.strip())
    return out


def _client(nb, timeout, path):
    """An nbclient that also relays the kernel's stderr (the sweeps' progress bars) to this terminal."""
    from nbclient import NotebookClient

    class Relay(NotebookClient):
        def output(self, outs, msg, display_id, cell_index):
            c = msg.get("content", {})
            if msg.get("msg_type") == "stream" and c.get("name") == "stderr" and "WARNING" not in c.get("text", "") \
                    and not getattr(self.km, "shutting_down", False):    # workers stopped by the shutdown: no news
                sys.stderr.write(c["text"])
                sys.stderr.flush()
            return super().output(outs, msg, display_id, cell_index)

    return Relay(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})


def reproduce(args) -> int:
    """The ``reproduce`` command. Its flags change the runtime (:mod:`reptheory.runtime`), which is in force in
    this process while the command runs and is the environment of the kernel that executes the notebook."""
    import dataclasses

    from reptheory import cache

    figs = figures()
    if args.figure not in figs:
        return _fail(f"unknown figure {args.figure!r}; allowed: {', '.join(figs)}")
    for option, value in (("--out", args.out), ("--cache", args.cache)):
        if value is not None and not value.strip():
            return _fail(f"{option} must name a folder, got {value!r} (an empty path would be the working folder)")
    out, cache_dir = (value and pathlib.Path(value).expanduser() for value in (args.out, args.cache))
    env = runtime.current()                 # the REPTHEORY_* variables, checked by main
    option, n = ("--jobs", args.jobs) if args.jobs is not None else (runtime.ENV["jobs"], env.jobs)
    limit = runtime.max_jobs(backend := args.backend or env.backend)
    if not 1 <= n <= limit:
        allowed = (f"4 per CPU, {os.cpu_count()} CPUs here, for local worker processes; --backend dask or ray "
                   f"allows up to {runtime.CLUSTER_JOBS}") if backend == "loky" else f"--backend {backend}"
        return _fail(f"{option} must be an integer from 1 to {limit} ({allowed}), got {n}")
    if args.timeout is not None and args.timeout < 1:
        return _fail(f"--timeout must be >= 1 second, got {args.timeout}")
    changes = {"profile": args.profile, "progress": "0" if args.no_progress else "terminal",
               **{f: getattr(args, f) for f in ("jobs", "backend", "scheduler", "device") if getattr(args, f)}}
    try:                                # the device and the size of the run before anything is written
        rt = dataclasses.replace(env, **changes)
        if rt.device != "cpu":          # another device is checked with torch (seconds to import)
            from reptheory.networks import train
            rt = dataclasses.replace(rt, device=train.device(rt.device))
    except ValueError as exc:
        return _fail(str(exc))
    n_jobs = rt.jobs
    wall = estimate(args.figure, args.profile, n_jobs, rt.backend)
    if wall > CONFIRM_ABOVE and not args.yes:
        return _fail(f"{args.figure} with --profile {args.profile} is estimated at {wall / 3600:.1f} hours on "
                     f"{n_jobs} workers from an empty cache ({wall * n_jobs / 3600:.0f} CPU-hours; finished runs "
                     "are cached, so a rerun resumes). Add --yes to start it, or more --jobs, or a cluster "
                     "(--backend dask)")
    out = out or pathlib.Path("reproduce") / f"{args.figure}-{args.profile}"
    cache_option = "--cache" if cache_dir else runtime.ENV["cache_dir"] if os.environ.get(runtime.ENV["cache_dir"]) \
        else "the default cache folder"
    cache_dir = (cache_dir or pathlib.Path(rt.cache_dir)).resolve()     # the kernel runs in the book's folder
    for problem in (_backend_importable(rt.backend), cache.unwritable(out, "--out"),
                    cache.unwritable(cache_dir, cache_option)):
        if problem:
            return _fail(problem)
    try:
        out.mkdir(parents=True, exist_ok=True)
        lock = _lock(out)
    except OSError as exc:              # BlockingIOError: another run holds the lock
        return _fail(str(exc) if isinstance(exc, BlockingIOError) else f"--out {out} cannot be created or locked "
                     f"({exc.strerror or exc})")
    try:
        rep = out / "checks.recorded.jsonl"
        rep.unlink(missing_ok=True)
        rt = dataclasses.replace(rt, cache_dir=str(cache_dir), report=str(rep.resolve()))
        with runtime.use(rt):
            return _run_notebook(args, rt, figs[args.figure], out, rep)
    finally:
        if lock is not None:
            os.close(lock)                      # releases the folder


def _run_notebook(args, rt, path: pathlib.Path, out: pathlib.Path, rep: pathlib.Path) -> int:
    """Execute the notebook ``path`` in a kernel whose environment gives it the runtime ``rt`` (its
    ``REPTHEORY_*`` variables), and write its outputs, figures and ``checks.json`` to ``out``."""
    import nbformat
    from nbclient.exceptions import CellExecutionError
    from tqdm.auto import tqdm

    from reptheory import cache
    from reptheory.presentation import report

    n_jobs, backend, device = rt.jobs, rt.backend, rt.device
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    client = _client(nb, args.timeout, path)
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    print(f"{args.figure}: {path.name}, profile {args.profile}, {n_jobs} workers ({backend}), device {device}, "
          f"cache {rt.cache_dir}", file=sys.stderr)
    status, error, cell_seconds, i = "passed", None, [], None
    t0, wall0 = time.perf_counter(), time.time()
    bar = tqdm(code, desc=f"{args.figure} cells", disable=args.no_progress, file=sys.stderr)
    args.stage = "running"
    try:
        with open(out / "kernel.log", "w") as log, \
                client.setup_kernel(env={**os.environ, **rt.environ()}, stdout=log, stderr=log):   # shut down always
            for i in bar:
                t = time.perf_counter()
                client.execute_cell(nb.cells[i], i)
                cell_seconds.append({"cell": i, "seconds": round(time.perf_counter() - t, 2)})
    except CellExecutionError as exc:
        status = "failed" if exc.ename == "AssertionError" else "error"
        error = {"cell": i, "source": nb.cells[i].source, "error": plain(str(exc)).strip().splitlines()[-1]}
    except (KeyboardInterrupt, _Stop) as exc:
        status = "interrupted"
        error = {"cell": i, "source": None, "error": f"stopped by {str(exc) or 'SIGINT (Ctrl-C)'}"}
        from jupyter_core.utils import ensure_event_loop
        ensure_event_loop().set_exception_handler(_drop_cell_task)
    except Exception as exc:               # the kernel did not start or died
        status = "error"
        error = {"cell": i, "source": None if i is None else nb.cells[i].source,
                 "error": plain(f"kernel: {type(exc).__name__}: {exc}")}
    finally:
        bar.close()
        if getattr(client, "km", None) is not None and client.km.has_kernel:   # stopped while it started
            with contextlib.suppress(Exception):
                client._cleanup_kernel()
    args.stage = "writing"
    seconds = time.perf_counter() - t0
    nbformat.write(nb, out / path.name)
    for k, png in enumerate(_images(nb), 1):
        (out / f"figure-{k}.png").write_bytes(png)
    result = {
        "figure": args.figure, "notebook": str(path), "profile": args.profile, "status": status, "error": error,
        "seconds": round(seconds, 1), "cells": cell_seconds, "numbers": report.read(rep),
        "checks_output": [plain(t) for t in _checks_text(nb)], "cached_during_run": cache.written_since(wall0),
        "n_jobs": n_jobs, "backend": backend, "device": device,
        "machine": {"python": platform.python_version(), "torch": importlib.metadata.version("torch"),
                    "cpu_count": os.cpu_count(), "platform": platform.platform()},
    }
    (out / "checks.json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    rep.unlink(missing_ok=True)
    if status == "interrupted":
        where = "before the first cell" if i is None else f"in cell {i}"
        print(f"{args.figure}: {error['error']} {where} after {seconds:.0f} s; the kernel is shut down; the "
              f"{sum(result['cached_during_run'].values())} runs it finished are in the result cache {rt.cache_dir} "
              f"(rerun the same command to resume); wrote {out}/checks.json", file=sys.stderr)
        return INTERRUPTED
    print(f"{args.figure}: {status} in {seconds:.0f} s; wrote {out}/checks.json, the executed notebook and "
          f"{len(_images(nb))} figure(s)", file=sys.stderr)
    if status != "passed":
        print(f"{'failed check in' if status == 'failed' else 'error while running'} cell {error['cell']}: "
              f"{error['error']}", file=sys.stderr)
    return {"passed": PASSED, "failed": CHECK_FAILED}.get(status, RUN_ERROR)


def main(argv: list[str] | None = None) -> int:
    """``python -m reptheory`` with the arguments ``argv`` (default: the command line); returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        runtime.current()                  # bad REPTHEORY_* variables: the variable, its value, what is allowed
        if args.command == "list":
            for name, p in figures().items():
                print(f"{name:18s} {p}")
            return 0
    except (ValueError, FileNotFoundError) as exc:
        return _fail(str(exc))
    args.stage = "setup"
    previous = {sig: signal.signal(sig, _raise_stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        return reproduce(args)
    except FileNotFoundError as exc:
        return _fail(str(exc))
    except (KeyboardInterrupt, _Stop) as exc:   # before the kernel started, or while the outputs were written
        when = "before the notebook started: nothing ran" if args.stage == "setup" else "while stopping the kernel " \
            "or writing the outputs, which may be incomplete"
        print(f"{args.figure}: stopped by {str(exc) or 'SIGINT (Ctrl-C)'} {when}", file=sys.stderr)
        return INTERRUPTED
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
