"""A small content-addressed cache for experiment results on disk.

An entry's key is the SHA-256 of a JSON description (the setting, the seed, what is computed) together
with a hash of the source of the modules that decide the result (:func:`code_version`), so that a change to
any of them recomputes. A run on another device than the CPU (``$REPTHEORY_DEVICE``) gets its own entries.
The location is ``$REPTHEORY_CACHE`` or ``~/.cache/reptheory``; it is never committed.

No finished result is lost to the cache:

* the folder is checked for writing *before* the computation starts (:class:`CacheError` if it cannot be);
* entries are ``.npz`` files written atomically (temporary file, then ``os.replace``);
* if the write fails anyway (disk full, say), the result is still returned, and a warning names the file
  it was saved to instead (in the system's temporary folder), or says that it could not be saved at all;
* an entry that cannot be read back (truncated, corrupt) is recomputed, with a one-line warning naming it.
"""
from __future__ import annotations

import hashlib
import json
import os
import pathlib
import tempfile
import warnings
from functools import lru_cache
from typing import Callable

import numpy as np

__all__ = ["CacheError", "cache_dir", "code_version", "cached", "exists"]


class CacheError(OSError):
    """The cache folder cannot be created or written to (raised before anything is computed)."""


def cache_dir() -> pathlib.Path:
    return pathlib.Path(os.environ.get("REPTHEORY_CACHE", pathlib.Path.home() / ".cache" / "reptheory"))


#: the modules whose code decides a cached result (plotting, display, benchmarks and the cache's own code do
#: not: an entry the cache cannot read back is recomputed)
RESULT_MODULES = ("configs", "data", "experiments", "fit", "measure", "models", "parity", "parity_batch",
                  "structure", "theory", "train", "validate")
#: kinds of entry that hold trained networks' records and never call the fitter or the ODE solvers: an edit to
#: ``fit`` or ``theory`` keeps them (the fits, which do call them, are recomputed)
TRAINING_KINDS = ("two_point_run", "fig5_grid_run", "xor_run", "blobs_run", "mnist_run", "parity_run",
                  "parity_run_batched")
_NOT_TRAINING = ("fit", "theory")


@lru_cache(maxsize=None)
def code_version(kind: str | None = None) -> str:
    """Hash of the modules in :data:`RESULT_MODULES` that decide entries of ``kind``: all of them, except
    ``fit`` and ``theory`` for the :data:`TRAINING_KINDS`. An edit to any of those modules invalidates the
    kind's entries."""
    skip = _NOT_TRAINING if kind in TRAINING_KINDS else ()
    h = hashlib.sha256()
    for p in sorted(pathlib.Path(__file__).parent / f"{m}.py" for m in RESULT_MODULES if m not in skip):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def _key(kind: str, description: dict) -> str:
    extra = {}
    dev = os.environ.get("REPTHEORY_DEVICE", "cpu")
    if dev != "cpu":                     # runs on a GPU differ from CPU runs in rounding: keep them apart
        extra["device"] = dev
    text = json.dumps({"kind": kind, "code": code_version(kind), **description, **extra}, sort_keys=True,
                      default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _path(kind: str, description: dict) -> pathlib.Path:
    return cache_dir() / kind / f"{_key(kind, description)}.npz"


def exists(kind: str, description: dict) -> bool:
    """Whether an entry for ``description`` is on disk (it may still turn out unreadable)."""
    return _path(kind, description).exists()


def _writable(folder: pathlib.Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, suffix=".probe")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise CacheError(f"the result cache folder {folder} cannot be written to ({exc.strerror or exc}); "
                         "nothing was computed. Point $REPTHEORY_CACHE (or --cache) at a writable folder") from None


def _save(path: pathlib.Path, result: dict) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **result)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def cached(kind: str, description: dict, compute: Callable[[], dict]) -> dict:
    """Return the arrays ``compute()`` produced for ``description``, from disk when present.

    ``compute`` returns a dict of numpy arrays or scalars; the same dict (as arrays) comes back. Raises
    :class:`CacheError` before calling ``compute`` if the entry's folder cannot be written to. Example (the
    second call loads what the first computed): ``cached("demo", {"x": 1}, lambda: {"y": 2.0})["y"]``.
    """
    path = _path(kind, description)
    if path.exists():
        try:
            with np.load(path, allow_pickle=False) as f:
                return {k: f[k] for k in f.files}
        except Exception as exc:          # truncated or corrupt entry: recompute below
            warnings.warn(f"result cache: the entry {path} could not be read ({type(exc).__name__}); "
                          "recomputing it", RuntimeWarning, stacklevel=2)
            path.unlink(missing_ok=True)
    _writable(path.parent)
    result = {k: np.asarray(v) for k, v in compute().items()}
    try:
        _save(path, result)
    except OSError as exc:
        rescue = pathlib.Path(tempfile.gettempdir()) / "reptheory-unsaved" / kind / path.name
        try:
            rescue.parent.mkdir(parents=True, exist_ok=True)
            _save(rescue, result)
            where = f"it was saved to {rescue} instead"
        except OSError:
            where = "it could not be saved anywhere, but is returned"
        warnings.warn(f"result cache: writing {path} failed ({exc.strerror or exc}); {where}",
                      RuntimeWarning, stacklevel=2)
    return result
