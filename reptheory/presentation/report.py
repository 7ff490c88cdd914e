"""Checked numbers of a figure, for the command line's JSON report.

A figure notebook's checks cell calls :func:`record` with the numbers it asserts on. In the book (no
``$REPTHEORY_REPORT``) the call does nothing and prints nothing; under ``python -m reptheory reproduce`` it
appends them, as one JSON object per call, to the file ``$REPTHEORY_REPORT`` that the command collects.
"""
from __future__ import annotations

import json

import numpy as np

from reptheory import runtime as _runtime

__all__ = ["record", "read"]


def _plain(v):
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, np.ndarray):
        return _plain(v.tolist())
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer, int)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        v = float(v)
        return v if np.isfinite(v) else str(v)
    return str(v)


def record(**numbers) -> None:
    """Append ``numbers`` (names -> numbers, lists or dicts of them) to the runtime's report file
    (``$REPTHEORY_REPORT``) if it has one."""
    path = _runtime.current().report
    if not path:
        return
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(_plain(numbers), ensure_ascii=False) + "\n")


def read(path) -> dict:
    """Merge the objects :func:`record` wrote to ``path`` (later names win); ``{}`` if there is no file."""
    out = {}
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    out.update(json.loads(line))
    except FileNotFoundError:
        pass
    return out
