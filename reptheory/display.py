"""Rounded printing, so that notebook outputs compare equal across CPUs (nbval).

Float results from torch and BLAS differ between CPUs in the 8th significant digit; every number a checked
notebook prints goes through :func:`fmt` with 4 significant digits or fewer.
"""
from __future__ import annotations

import numpy as np


def fmt(x, sig: int = 4) -> str:
    """``x`` rounded to ``sig`` significant digits as a string (``-0`` printed as ``0``); arrays elementwise."""
    if not isinstance(sig, int) or not 1 <= sig <= 12:
        raise ValueError(f"sig must be an integer in [1, 12], got {sig!r}")
    arr = np.asarray(x)
    if arr.ndim > 0:
        return "[" + ", ".join(fmt(v, sig) for v in arr.ravel()) + "]"
    if arr.dtype == bool:
        return str(bool(arr))
    v = float(arr)
    if not np.isfinite(v):
        return str(v)
    s = f"{v:.{sig}g}"
    return "0" if float(s) == 0 else s


def table(rows: list[dict], sig: int = 4) -> str:
    """A Markdown table from a list of dicts with equal keys; floats rounded with :func:`fmt`."""
    if not rows:
        raise ValueError("rows must hold at least one row")
    keys = list(rows[0])
    cell = lambda v: fmt(v, sig) if isinstance(v, (float, np.floating)) else str(v)
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(cell(r[k]) for k in keys) + " |" for r in rows]
    return "\n".join(lines)
