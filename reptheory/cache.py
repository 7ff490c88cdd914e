"""A small content-addressed cache for experiment results on disk, in ``$REPTHEORY_CACHE`` or
``~/.cache/reptheory`` (never committed). An entry's key is the SHA-256 of a JSON description (the setting, the seed,
what is computed), of the device off the CPU, and of the code that decides the result (:func:`code_version`; comments
and docstrings excluded): a change to what runs recomputes, and :func:`reptheory.compare.compare` sets a changed
checkout's entries beside the old code's for the same runs. No finished result is lost:

* the folder is checked for writing *before* the computation starts (:class:`CacheError` if it cannot be);
* entries are ``.npz`` files written atomically (temporary file, then ``os.replace``); if the write fails anyway
  (disk full, say), the result is still returned, and a warning names where it was saved instead, if anywhere;
* an entry that cannot be read back (truncated, empty, corrupt, or not a file at all) is removed and recomputed,
  with a one-line warning naming it;
* one process at a time computes an entry, holding its lock (a file beside it, by the ``filelock`` package):
  another that asks for it meanwhile waits and loads it (:func:`cached`); a batch computed together is held as
  a whole (:func:`claim`, :func:`fill`). A wait past :data:`LOCK_WAIT` is named in a warning and the entry
  computed all the same (the last ``os.replace`` wins).
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pathlib
import shutil
import tempfile
import time
import warnings
from functools import lru_cache
from typing import Callable

import filelock
import numpy as np

from reptheory import runtime as _runtime

__all__ = ["CacheError", "SOURCES", "FIT_SOURCES", "LOCK_WAIT", "cache_dir", "source_files", "code_version", "cached",
           "claim", "fill", "exists",
           "unwritable", "written_since"]


class CacheError(OSError):
    """The cache folder cannot be created or written to (raised before anything is computed)."""


def cache_dir() -> pathlib.Path:
    """The runtime's cache folder (the ``cache_dir`` of :class:`reptheory.runtime.Runtime`, ``~`` expanded)."""
    return pathlib.Path(_runtime.current().cache_dir).expanduser()


_TRAIN = ("networks", "configs/fields.py", "validate.py")
_PROBE_TRAIN = ("lab/engines.py", "lab/inputs.py", "lab/key.py", "lab/probing.py", "networks/stack.py",
                "networks/stop.py", "validate.py")
#: the code that decides each kind of cached entry: packages of reptheory (every module in them) and single modules, as
#: paths inside the package. A trained run is keyed on the code that trains and records it and on its description, which
#: holds every value of its setting (for a feed-forward setting ``networks.models.key_fields``: its fields and the
#: values of the architecture it names, so that the architectures' table keys no run), its seed and its data: the
#: feed-forward runs on the networks (engines, models, data), the settings' class and the input checks (what an entry of
#: each kind holds is the run's own: ``Run.to_arrays``, ``final_distance_arrays``, ...; no module of ``experiments``
#: keys a run); the sequel's parity runs on its one parity engine (``sequel/parity_batch.py``), the network and the
#: records (``sequel/parity.py``) and its settings' class, not on the sequel's analyses (automata, phase diagrams,
#: theory), which read runs after loading; the probes' runs on the lab's modules that train and record them (the
#: engines, the run's checks, the key, the probe's entry point; a probed network's own code, from the lab's zoo or the
#: user's, is keyed by the model's digest, ``lab/key.py``, and the fits, verdicts and protocols of ``lab/result.py``,
#: ``experiments/result.py``, ``protocol.py``, ``width.py`` are computed after loading); all of them on the shared stop
#: rule; the Langevin chains of the weight-sharing tests on their sampler alone. The settings' registry
#: (``configs/paper.py``: rows, notes, profiles), the experiments (sweeps, summaries, tables, scheduling), the
#: presentation, the infrastructure that moves results (this module, the runner, the runtime) and the command line
#: decide none: a reworded note, a new row or a new summary leaves every trained run valid.
SOURCES = {
    **dict.fromkeys(("two_point_run", "xor_run", "fig5_grid_run", "blobs_run", "mnist_run"), _TRAIN),
    "parity_run": ("sequel/parity.py", "sequel/parity_batch.py", "configs/fields.py", "networks/stop.py",
                   "validate.py"),
    **dict.fromkeys(("probe_run", "probe_many"), _PROBE_TRAIN),
    "langevin_run": ("sequel/langevin.py",),
}
#: every other kind (the fits of Eq. 7 and Eq. 9 to a two-point run): the code that trains and the theory's (the
#: ODE, its solvers, the fitter, whose ``fit_pair`` is the entry)
FIT_SOURCES = _TRAIN + ("theory",)


def source_files(kind: str | None = None) -> list[pathlib.Path]:
    """The source files whose content keys entries of ``kind`` (:data:`SOURCES`, else :data:`FIT_SOURCES`)."""
    root = pathlib.Path(__file__).parent
    files = set()
    for entry in SOURCES.get(kind, FIT_SOURCES):
        files |= {root / entry} if entry.endswith(".py") else set((root / entry).rglob("*.py"))
    return sorted(files)


def _facade(tree) -> bool:
    """Whether a module's top level holds nothing but a docstring, imports and ``__all__``: a package's public
    entry point, which re-exports names and runs none of its own code."""
    import ast
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            continue
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["__all__"]:
            continue
        return False
    return True


def _code(source: bytes) -> bytes:
    """A module's code without its comments, docstrings and layout: its syntax tree with every docstring
    removed, dumped. An edit to the prose of a module leaves it unchanged; an edit to what runs does not. A
    facade (:func:`_facade`: only a docstring, imports and ``__all__``) counts as empty: what it re-exports
    is keyed where it is defined, so a name added to a package's entry point leaves every entry valid."""
    import ast
    tree = ast.parse(source)
    if _facade(tree):
        return b""
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
                    and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree, include_attributes=False).encode()


@lru_cache(maxsize=None)
def code_version(kind: str | None = None) -> str:
    """Hash of the code of the packages and modules that decide entries of ``kind`` (:func:`source_files`),
    without comments and docstrings (``_code``): an edit to what runs in any of them invalidates the
    kind's entries, and only those; an edit to their prose invalidates nothing."""
    root = pathlib.Path(__file__).parent
    h = hashlib.sha256()
    for p in source_files(kind):
        h.update(p.relative_to(root).as_posix().encode())
        h.update(_code(p.read_bytes()))
    return h.hexdigest()[:16]


def _key(kind: str, description: dict) -> str:
    """The entry's file name: the SHA-256 of its kind, the code version and its description (and the device,
    off the CPU)."""
    extra = {}
    dev = _runtime.current().device
    if dev != "cpu":                     # runs on a GPU differ from CPU runs in rounding: keep them apart
        extra["device"] = dev
    text = json.dumps({"kind": kind, "code": code_version(kind), **description, **extra}, sort_keys=True,
                      default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _path(kind: str, description: dict) -> pathlib.Path:
    return cache_dir() / kind / f"{_key(kind, description)}.npz"


def exists(kind: str, description: dict) -> bool:
    """Whether an entry for ``description`` is on disk as a file (it may still turn out unreadable)."""
    return _path(kind, description).is_file()


def _writable(folder: pathlib.Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, suffix=".probe")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise CacheError(f"the result cache folder {folder} cannot be written to ({exc.strerror or exc}); "
                         "nothing was computed. Point $REPTHEORY_CACHE (or --cache) at a writable folder") from None


def unwritable(folder: pathlib.Path, name: str = "the folder") -> str | None:
    """Why ``folder`` (``name`` in the message) cannot be, or be made, a folder this process writes to; ``None``
    if it can. Creates nothing: a probe file goes to the nearest folder that exists, and is removed."""
    if folder.exists() and not folder.is_dir():
        return f"{name} {folder} is a file, not a folder"
    base = folder
    while not base.exists() and base.parent != base:
        base = base.parent
    if not base.is_dir():
        return f"{name} {folder} cannot be created: {base} is a file, not a folder"
    try:
        fd, probe = tempfile.mkstemp(dir=base, prefix=".write-test-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        return f"{name} {folder} is not a writable folder ({exc.strerror or exc})"
    return None


def written_since(t: float) -> dict[str, int]:
    """Entries written since the wall-clock time ``t``, counted per kind."""
    out = {}
    for p in cache_dir().glob("*/*.npz"):
        with contextlib.suppress(OSError):
            if p.stat().st_mtime >= t:
                out[p.parent.name] = out.get(p.parent.name, 0) + 1
    return out


_META = "__entry__"


def _digest(result: dict) -> str:
    h = hashlib.sha256()
    for k in sorted(result):
        a = np.ascontiguousarray(result[k])
        h.update(f"{k}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _meta(kind: str, description: dict, result: dict) -> np.ndarray:
    """What an entry must match when it is loaded: its kind and description, and each array's key, dtype and
    shape, with a SHA-256 over their bytes."""
    return np.asarray(json.dumps({"kind": kind, "description": description, "digest": _digest(result),
                                  "arrays": {k: [v.dtype.str, list(v.shape)] for k, v in sorted(result.items())}},
                                 sort_keys=True, default=str))


def _invalid(entry: dict, kind: str, description: dict) -> str:
    """Why a loaded entry cannot be used ("" if it can)."""
    if _META not in entry:
        return "it has no record of what it holds (written by an older version)"
    meta = json.loads(str(entry.pop(_META)))
    want = json.loads(json.dumps({"kind": kind, "description": description}, sort_keys=True, default=str))
    if {"kind": meta.get("kind"), "description": meta.get("description")} != want:
        return "it was computed for another description"
    arrays = {k: [v.dtype.str, list(v.shape)] for k, v in sorted(entry.items())}
    if arrays != meta.get("arrays"):
        return f"its arrays {arrays} differ from those it recorded {meta.get('arrays')}"
    if _digest(entry) != meta.get("digest"):
        return "its arrays do not match their recorded checksum"
    return ""


def _load(path: pathlib.Path, kind: str, description: dict) -> tuple[dict | None, str]:
    """The entry at ``path`` and ``""``, or ``None`` and why it cannot be used. Only a regular file is opened (a
    folder or a pipe in an entry's place is not read)."""
    if not path.is_file():
        return None, "it is a folder, not a file" if path.is_dir() else "it is not a regular file"
    try:
        if path.stat().st_size == 0:
            return None, "it is empty (0 bytes)"
        with np.load(path, allow_pickle=False) as f:
            entry = {k: f[k] for k in f.files}
        why = _invalid(entry, kind, description)
    except Exception as exc:          # truncated or corrupt file
        return None, f"it could not be read ({type(exc).__name__})"
    return (None if why else entry), why


def _remove(path: pathlib.Path) -> None:
    """Remove whatever is at ``path`` (a file, a link, a folder and its contents); a failure is left for the
    write that follows to report."""
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    except OSError:
        pass


def _save(path: pathlib.Path, result: dict, meta: np.ndarray | None = None) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **result, **({} if meta is None else {_META: meta}))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


#: seconds a process waits for another to finish an entry (or a batch) it computes, before it warns and computes the
#: entry itself; longer than any computation of the book (the longest, a batch of the sequel's, takes 12 minutes)
LOCK_WAIT = 3600.0

_LOCKS: dict = {}           # entry path -> this process's lock object for it
_PASSED: set = set()        # entries whose lock this process gave up waiting for, while that wait's block runs
os.register_at_fork(after_in_child=lambda: (_LOCKS.clear(), _PASSED.clear()))     # a forked child holds none


def _lock(path: pathlib.Path) -> filelock.FileLock:
    """The lock of the entry at ``path`` (a file ``<key>.npz.lock`` beside it), one object per entry in a process, so
    that a process that holds it may take it again (a batch's :func:`claim`, then each entry's :func:`cached`)."""
    if path not in _LOCKS:
        _LOCKS[path] = filelock.FileLock(path.with_name(path.name + ".lock"))
    return _LOCKS[path]


@contextlib.contextmanager
def _held(paths):
    """Hold the locks of the entries at ``paths``, taken in sorted order (two processes that want overlapping sets
    cannot each hold what the other waits for), waiting :data:`LOCK_WAIT` at most for all of them together. A lock
    not had by then is named in a warning and passed over, also by the block's own :func:`cached` of that entry."""
    deadline, passed = time.monotonic() + LOCK_WAIT, []
    with contextlib.ExitStack() as stack:
        for path in sorted(set(paths) - _PASSED):
            try:
                stack.enter_context(_lock(path).acquire(timeout=max(0.0, deadline - time.monotonic())))
            except filelock.Timeout:
                warnings.warn(f"result cache: another process has held the entry {path} for over {LOCK_WAIT:g} s; "
                              "computing it here too", RuntimeWarning, stacklevel=3)
                passed.append(path)
        _PASSED.update(passed)
        try:
            yield
        finally:
            _PASSED.difference_update(passed)


def _present(path: pathlib.Path, kind: str, description: dict, remove: bool = True) -> dict | None:
    """The valid entry at ``path``, or ``None``; with ``remove`` (under the entry's lock: another process may be
    writing it), an entry that is there but not valid is removed with a warning."""
    if not (path.exists() or path.is_symlink()):
        return None
    entry, why = _load(path, kind, description)
    if entry is None and remove:
        warnings.warn(f"result cache: the entry {path} is not valid: {why}; recomputing it", RuntimeWarning,
                      stacklevel=3)
        _remove(path)
    return entry


def cached(kind: str, description: dict, compute: Callable[[], dict]) -> dict:
    """Return the arrays ``compute()`` produced for ``description``, from disk when present, else computed (a dict
    of numpy arrays or scalars) and written; :class:`CacheError` before ``compute`` if the folder cannot be written
    to. A loaded entry must hold the kind and description asked for and the keys, dtypes, shapes and SHA-256 it
    recorded; one that fails (or cannot be read) is removed and recomputed with a one-line warning naming it and
    why. The entry is locked while it is computed: another process that asks for it meanwhile waits, then loads it.
    Example (the second call loads what the first computed): ``cached("demo", {"x": 1}, lambda: {"y": 2.0})["y"]``.
    """
    path = _path(kind, description)
    entry = _present(path, kind, description, remove=False)
    if entry is not None:
        return entry
    _writable(path.parent)
    with _held([path]):
        entry = _present(path, kind, description)      # written by another process while this one waited
        if entry is not None:
            return entry
        result = {k: np.asarray(v) for k, v in compute().items()}
        if _META in result:
            raise ValueError(f"a cached result may not use the key {_META!r}")
        _store(path, kind, description, result)
    return result


def _store(path: pathlib.Path, kind: str, description: dict, result: dict) -> None:
    meta = _meta(kind, description, result)
    try:
        _save(path, result, meta)
    except OSError as exc:
        rescue = pathlib.Path(tempfile.gettempdir()) / "reptheory-unsaved" / kind / path.name
        try:
            rescue.parent.mkdir(parents=True, exist_ok=True)
            _save(rescue, result, meta)
            where = f"it was saved to {rescue} instead"
        except OSError:
            where = "it could not be saved anywhere, but is returned"
        warnings.warn(f"result cache: writing {path} failed ({exc.strerror or exc}); {where}",
                      RuntimeWarning, stacklevel=3)


@contextlib.contextmanager
def claim(kind: str, descriptions: list):
    """Hold the entries of ``descriptions`` that are not on disk while this process computes them together, and
    give the indices of those still missing once held (another process may have written some meanwhile). A
    process that asks for one of them in the meantime (:func:`cached`, :func:`claim`) waits until the block ends.
    Write each inside the block with :func:`cached` (or use :func:`fill`).

    >>> import tempfile
    >>> with _runtime.use(cache_dir=tempfile.mkdtemp()), claim("demo", [{"x": 1}, {"x": 2}]) as todo:
    ...     _ = cached("demo", {"x": 1}, lambda: {"y": 0.0})
    ...     todo, exists("demo", {"x": 1}), exists("demo", {"x": 2})
    ([0, 1], True, False)
    """
    paths = [_path(kind, d) for d in descriptions]
    wanted = {p for p in paths if not p.is_file()}
    if wanted:
        _writable(next(iter(wanted)).parent)
    with _held(wanted):
        yield [k for k, p in enumerate(paths) if p in wanted and not p.is_file()]


def fill(kind: str, descriptions: list, train: Callable, arrays: Callable[..., dict]) -> None:
    """Compute in one batch the entries of ``descriptions`` that are not on disk, and write each as soon as it is
    done, so that an interrupted batch keeps what it finished: ``train(todo, done)`` computes the entries at the
    indices ``todo`` together and calls ``done(j, value)`` as the ``j``-th of them is finished; ``arrays(value)``
    is what is written. The batch holds its entries while it runs (:func:`claim`).

    >>> import tempfile
    >>> with _runtime.use(cache_dir=tempfile.mkdtemp()):
    ...     fill("demo", [{"x": 3}, {"x": 4}], lambda todo, done: [done(j, 2.0 * k) for j, k in enumerate(todo)],
    ...          lambda v: {"y": v})
    ...     float(cached("demo", {"x": 4}, lambda: {"y": -1.0})["y"])
    2.0
    """
    with claim(kind, descriptions) as todo:
        if todo:
            train(todo, lambda j, value: cached(kind, descriptions[todo[j]], lambda: arrays(value)))
