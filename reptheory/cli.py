"""Command line: reproduce any figure of the book at the paper's settings, outside the book.

``python -m reptheory list`` names the figures. ``python -m reptheory reproduce fig2 --profile paper`` runs
the figure's notebook (``book/fig02_architectures.ipynb``, the single definition of the figure) in a fresh
kernel with the chosen profile and writes, under ``--out`` (default ``reproduce/<figure>-<profile>/``):

* ``<notebook>.ipynb`` – the executed notebook, every output included;
* ``figure-<k>.png`` – each figure it drew;
* ``checks.json`` – status (``passed``, ``failed`` with the failing check, or ``interrupted``), the numbers the
  checks cell recorded (:func:`reptheory.presentation.report.record`), the text the checks cells printed, time per cell,
  the profile, backend, device and versions.

Every training run and fit goes to the result cache (``--cache``, default ``$REPTHEORY_CACHE`` or
``~/.cache/reptheory``) the moment it finishes, so an interrupted command rerun with the same arguments
resumes where it stopped. Progress: a bar over the notebook's cells, and the sweeps' own bars in the
terminal. Scale: ``--jobs`` worker processes (one torch thread each), ``--backend dask|ray`` with
``--scheduler ADDRESS`` for a cluster (see :mod:`reptheory.parallel`), ``--device cuda`` for a GPU (see
:mod:`reptheory.networks.train`).

Before a kernel starts, every option is checked (the figure, ``--jobs``, ``--timeout``, the device, that the
backend's package imports, that ``--out`` and ``--cache`` are writable folders). Ctrl-C, SIGTERM (for example
from ``timeout``) and SIGHUP all stop the run the same way: the kernel and its workers are shut down, the
executed part of the notebook and ``checks.json`` (status ``interrupted``, with the result-cache entries the
run finished) are written. Text in ``checks.json`` is plain (no terminal colour codes).

A run estimated to take more than an hour from an empty cache (:func:`estimate`; Fig. 5 and the parity phase
diagram in the paper profile) prints the estimate and starts only with ``--yes``.

Exit status: 0 every check passed; 1 a check failed (an ``AssertionError`` in a cell); 2 bad usage or setup
(the message names the option and what it allows); 3 an error while running (any other exception in a cell,
or the kernel died); 130 interrupted.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import pathlib
import platform
import re
import signal
import sys
import time

__all__ = ["main", "figures", "book_dir", "estimate"]


def book_dir() -> pathlib.Path:
    """The book's notebooks: the runtime's (``$REPTHEORY_BOOK``), else ``book/`` beside the package (a source
    checkout)."""
    from reptheory import runtime
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
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the figures and their notebooks")
    rp = sub.add_parser("reproduce", help="run one figure's notebook and write its figures and checked numbers")
    rp.add_argument("figure", help="figure name, e.g. fig2 (see `list`)")
    rp.add_argument("--profile", default="default", choices=("paper", "default"),
                    help="default: the book's CI settings (the default, as in the library); paper: the paper's "
                         "exact settings")
    rp.add_argument("--out", type=pathlib.Path, help="output directory (default reproduce/<figure>-<profile>)")
    rp.add_argument("--jobs", type=int, default=None, help="worker processes (default $REPTHEORY_N_JOBS or 2)")
    rp.add_argument("--backend", choices=parallel.BACKENDS, default=None,
                    help="joblib backend for the sweeps (default loky: processes on this machine)")
    rp.add_argument("--scheduler", default=None, help="dask scheduler or ray address for --backend dask|ray")
    rp.add_argument("--device", default=None, help="torch device: cpu (default), cuda, cuda:N, mps or auto")
    rp.add_argument("--cache", type=pathlib.Path, default=None, help="result cache directory")
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


def estimate(figure: str, profile: str, n_jobs: int) -> float:
    """Estimated wall-clock seconds of ``figure`` from an empty cache with ``n_jobs`` workers: its entry of
    :data:`CPU_SECONDS` (the default profile's where the paper profile has none; 600 CPU-seconds for a page
    without one, above every such page measured) divided by the workers. The cache makes a rerun cheaper.

    >>> round(estimate("fig5", "paper", 2) / 3600, 1)
    4.5
    >>> estimate("fig1", "default", 2) < CONFIRM_ABOVE
    True
    """
    cpu = CPU_SECONDS.get(profile, {}).get(figure, CPU_SECONDS["default"].get(figure, 600))
    return cpu / max(1, n_jobs)


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


def _writable_dir(option: str, path: pathlib.Path) -> str | None:
    """``None`` if ``path`` is (or can be made) a folder this process can write to, else the error message."""
    if path.exists() and not path.is_dir():
        return f"{option} {path} is a file, not a folder"
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        return f"{option} {path} is not a writable folder ({exc.strerror or exc})"
    return None


def _backend_importable(name: str | None) -> str | None:
    """``None`` if the package behind ``--backend name`` imports (or none is needed), else the error message."""
    modules = {"dask": ("dask.distributed", "pip install 'dask[distributed]'"), "ray": ("ray", "pip install ray")}
    if name not in modules:
        return None
    mod, how = modules[name]
    try:
        __import__(mod)
    except ImportError:
        return f"--backend {name} needs the package {mod.split('.')[0]}, which is not installed ({how})"
    return None


class _Stop(BaseException):
    """Raised in the main thread by SIGTERM or SIGHUP: handled like Ctrl-C."""


def _raise_stop(signum, frame):
    raise _Stop(signal.Signals(signum).name)


def _cached_since(t: float) -> dict:
    """Result-cache entries written since the wall-clock time ``t``, counted per kind."""
    from reptheory import cache
    out = {}
    root = cache.cache_dir()
    if root.is_dir():
        for p in root.glob("*/*.npz"):
            try:
                if p.stat().st_mtime >= t:
                    out[p.parent.name] = out.get(p.parent.name, 0) + 1
            except OSError:
                pass
    return out


def _images(nb) -> list[bytes]:
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            data = o.get("data", {})
            if "image/png" in data:
                out.append(base64.b64decode(data["image/png"]))
    return out


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
            if msg.get("msg_type") == "stream" and c.get("name") == "stderr" and "WARNING" not in c.get("text", ""):
                sys.stderr.write(c["text"])
                sys.stderr.flush()
            return super().output(outs, msg, display_id, cell_index)

    return Relay(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})


def reproduce(args) -> int:
    """The ``reproduce`` command. Its flags change the runtime (:mod:`reptheory.runtime`), which is in force in
    this process while the command runs and is the environment of the kernel that executes the notebook."""
    import dataclasses

    from reptheory import runtime
    from reptheory.networks import train

    figs = figures()
    if args.figure not in figs:
        return _fail(f"unknown figure {args.figure!r}; allowed: {', '.join(figs)}")
    if args.jobs is not None and args.jobs < 1:
        return _fail(f"--jobs must be an integer >= 1, got {args.jobs}")
    if args.timeout is not None and args.timeout < 1:
        return _fail(f"--timeout must be >= 1 second, got {args.timeout}")
    changes = {"profile": args.profile, "progress": "0" if args.no_progress else "terminal"}
    for field in ("jobs", "backend", "scheduler", "device"):
        if getattr(args, field):
            changes[field] = getattr(args, field)
    try:                                # the device and the size of the run before anything is written
        rt = dataclasses.replace(runtime.current(), **changes)
        rt = dataclasses.replace(rt, device=train.device(rt.device))
    except ValueError as exc:
        return _fail(str(exc))
    n_jobs = rt.jobs
    wall = estimate(args.figure, args.profile, n_jobs)
    if wall > CONFIRM_ABOVE and not args.yes:
        return _fail(f"{args.figure} with --profile {args.profile} is estimated at {wall / 3600:.1f} hours on "
                     f"{n_jobs} workers from an empty cache ({wall * n_jobs / 3600:.0f} CPU-hours; finished runs "
                     "are cached, so a rerun resumes). Add --yes to start it, or more --jobs, or a cluster "
                     "(--backend dask)")
    out = args.out or pathlib.Path("reproduce") / f"{args.figure}-{args.profile}"
    for problem in (_backend_importable(args.backend), _writable_dir("--out", out),
                    args.cache and _writable_dir("--cache", args.cache)):
        if problem:
            return _fail(problem)
    path = figs[args.figure]
    rep = out / "checks.recorded.jsonl"
    rep.unlink(missing_ok=True)
    rt = dataclasses.replace(rt, cache_dir=str(args.cache.resolve()) if args.cache else rt.cache_dir,
                             report=str(rep.resolve()))
    with runtime.use(rt):
        return _run_notebook(args, rt, path, out, rep)


def _run_notebook(args, rt, path: pathlib.Path, out: pathlib.Path, rep: pathlib.Path) -> int:
    """Execute the notebook ``path`` in a kernel whose environment gives it the runtime ``rt`` (its
    ``REPTHEORY_*`` variables), and write its outputs, figures and ``checks.json`` to ``out``."""
    import nbformat
    from nbclient.exceptions import CellExecutionError
    from tqdm.auto import tqdm

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
    previous = {sig: signal.signal(sig, _raise_stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        with client.setup_kernel(env={**os.environ, **rt.environ()}):   # shut down on every way out
            for i in bar:
                t = time.perf_counter()
                client.execute_cell(nb.cells[i], i)
                cell_seconds.append({"cell": i, "seconds": round(time.perf_counter() - t, 2)})
    except CellExecutionError as exc:
        status = "failed" if exc.ename == "AssertionError" else "error"
        error = {"cell": i, "source": nb.cells[i].source, "error": plain(str(exc)).strip().splitlines()[-1]}
    except (KeyboardInterrupt, _Stop) as exc:
        status = "interrupted"
        error = {"cell": i, "source": None, "error": f"stopped by {exc or 'SIGINT (Ctrl-C)'}"}
    except Exception as exc:               # the kernel did not start or died
        status = "error"
        error = {"cell": i, "source": None if i is None else nb.cells[i].source,
                 "error": plain(f"kernel: {type(exc).__name__}: {exc}")}
    finally:
        bar.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    seconds = time.perf_counter() - t0
    nbformat.write(nb, out / path.name)
    for k, png in enumerate(_images(nb), 1):
        (out / f"figure-{k}.png").write_bytes(png)
    import torch
    result = {
        "figure": args.figure, "notebook": str(path), "profile": args.profile, "status": status, "error": error,
        "seconds": round(seconds, 1), "cells": cell_seconds, "numbers": report.read(rep),
        "checks_output": [plain(t) for t in _checks_text(nb)], "cached_during_run": _cached_since(wall0),
        "n_jobs": n_jobs, "backend": backend, "device": device,
        "machine": {"python": platform.python_version(), "torch": torch.__version__, "cpu_count": os.cpu_count(),
                    "platform": platform.platform()},
    }
    (out / "checks.json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    rep.unlink(missing_ok=True)
    print(f"{args.figure}: {status} in {seconds:.0f} s; wrote {out}/checks.json, the executed notebook and "
          f"{len(_images(nb))} figure(s)", file=sys.stderr)
    if status == "failed":
        print(f"failed check in cell {error['cell']}: {error['error']}", file=sys.stderr)
        return CHECK_FAILED
    if status == "error":
        print(f"error while running cell {error['cell']}: {error['error']}", file=sys.stderr)
        return RUN_ERROR
    if status == "interrupted":
        print(f"interrupted ({error['error']}): the kernel is shut down; {sum(result['cached_during_run'].values())} "
              "results were cached during the run; rerun the same command to resume", file=sys.stderr)
        return INTERRUPTED
    return PASSED


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "list":
        try:
            figs = figures()
        except FileNotFoundError as exc:
            return _fail(str(exc))
        for name, p in figs.items():
            print(f"{name:18s} {p}")
        return 0
    try:
        return reproduce(args)
    except FileNotFoundError as exc:
        return _fail(str(exc))
