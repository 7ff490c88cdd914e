"""A small content-addressed cache for experiment results on disk.

An entry's key is the SHA-256 of a JSON description (the setting, the seed, what is computed) together
with a hash of the package's source code, so that a change to any module recomputes. Entries are ``.npz``
files written atomically (temporary file, then ``os.replace``); an entry that cannot be read is
recomputed. A run on another device than the CPU (``$REPTHEORY_DEVICE``) gets its own entries. The location is ``$REPTHEORY_CACHE`` or ``~/.cache/reptheory``; it is never committed.
"""
from __future__ import annotations

import hashlib
import json
import os
import pathlib
import tempfile
from functools import lru_cache
from typing import Callable

import numpy as np

__all__ = ["cache_dir", "code_version", "cached", "exists"]


def cache_dir() -> pathlib.Path:
    return pathlib.Path(os.environ.get("REPTHEORY_CACHE", pathlib.Path.home() / ".cache" / "reptheory"))


#: the modules whose code decides a cached result (plotting, display and benchmarks do not)
RESULT_MODULES = ("cache", "configs", "data", "experiments", "fit", "measure", "models", "parity", "parity_batch",
                  "structure", "theory", "train", "validate")


@lru_cache(maxsize=None)
def code_version() -> str:
    """Hash of the modules in :data:`RESULT_MODULES` (an edit to any of them invalidates every entry)."""
    h = hashlib.sha256()
    for p in sorted(pathlib.Path(__file__).parent / f"{m}.py" for m in RESULT_MODULES):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def _key(kind: str, description: dict) -> str:
    extra = {}
    dev = os.environ.get("REPTHEORY_DEVICE", "cpu")
    if dev != "cpu":                     # runs on a GPU differ from CPU runs in rounding: keep them apart
        extra["device"] = dev
    text = json.dumps({"kind": kind, "code": code_version(), **description, **extra}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def exists(kind: str, description: dict) -> bool:
    """Whether an entry for ``description`` is on disk (it may still turn out unreadable)."""
    return (cache_dir() / kind / f"{_key(kind, description)}.npz").exists()


def cached(kind: str, description: dict, compute: Callable[[], dict]) -> dict:
    """Return the arrays ``compute()`` produced for ``description``, from disk when present.

    ``compute`` returns a dict of numpy arrays or scalars; the same dict (as arrays) comes back."""
    path = cache_dir() / kind / f"{_key(kind, description)}.npz"
    if path.exists():
        try:
            with np.load(path, allow_pickle=False) as f:
                return {k: f[k] for k in f.files}
        except Exception:          # truncated or corrupt entry: recompute below
            path.unlink(missing_ok=True)
    result = {k: np.asarray(v) for k, v in compute().items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **result)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return result
