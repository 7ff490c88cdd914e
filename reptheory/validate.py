"""Argument checks shared by the public functions.

Every check raises ``ValueError`` (or ``TypeError``) whose message names the argument and the allowed
range, so that bad input never surfaces as a traceback from deep inside numpy, scipy or torch.
"""
from __future__ import annotations

import numpy as np


def _as_array(name: str, value) -> np.ndarray:
    """The input rule: int, float, numpy real scalars and arrays of them; bools and strings are refused
    (``True`` is not a learning rate, ``"0.1"`` is not a number)."""
    kind = np.asarray(value).dtype.kind if not isinstance(value, (str, bytes)) else "U"
    if isinstance(value, (bool, np.bool_, str, bytes, complex, np.complexfloating)) or kind in "bcmMUSOV":
        raise TypeError(f"{name} must be a real number or an array of real numbers, got {_brief(value)}")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a real number or an array of real numbers, got {_brief(value)}") from exc
    return arr


def scalar(name: str, value) -> float:
    """``value`` as a Python float: a real number (int, float or numpy scalar), not an array."""
    arr = _as_array(name, value)
    if arr.ndim != 0:
        raise TypeError(f"{name} must be a single real number, got an array of shape {arr.shape}")
    return float(arr)


def integer(name: str, value, low: int, high: int | None = None) -> int:
    """``value`` as a Python int in ``[low, high]`` (``high=None``: no upper bound): an int or numpy integer (a
    bool or a float is refused)."""
    allowed = f">= {low}" if high is None else f"in [{low}, {high}]"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer {allowed}, got {value!r}")
    if value < low or (high is not None and value > high):
        raise ValueError(f"{name} must be an integer {allowed}, got {value!r}")
    return int(value)


def seeds(name: str, value) -> tuple[int, ...]:
    """``value``, a non-empty sequence of seeds, as a tuple of Python ints >= 0. The kind of mistake decides the
    exception: a string, a bare number or another non-sequence, or a seed that is not an integer (a bool, a
    float), is a ``TypeError``; an empty sequence or a negative seed a ``ValueError``.

    >>> seeds("seeds", range(3)), seeds("seeds", [np.int64(7)])
    ((0, 1, 2), (7,))
    """
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise TypeError(f"{name} must be a non-empty sequence of integers >= 0, got {_brief(value)}")
    out = tuple(integer(f"{name}[{k}]", x, 0) for k, x in enumerate(value))
    if not out:
        raise ValueError(f"{name} must be a non-empty sequence of integers >= 0, got {_brief(value)}")
    return out


def _brief(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def finite(name: str, value) -> np.ndarray:
    """``value`` as a float array; every entry must be finite."""
    arr = _as_array(name, value)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return arr


def positive(name: str, value) -> np.ndarray:
    """``value`` as a float array; every entry must lie in (0, inf)."""
    arr = finite(name, value)
    if not np.all(arr > 0):
        raise ValueError(f"{name} must be > 0 (allowed range: (0, inf)), got {_show(value)}")
    return arr


def nonnegative(name: str, value) -> np.ndarray:
    """``value`` as a float array; every entry must lie in [0, inf)."""
    arr = finite(name, value)
    if not np.all(arr >= 0):
        raise ValueError(f"{name} must be >= 0 (allowed range: [0, inf)), got {_show(value)}")
    return arr


def time_grid(name: str, value) -> np.ndarray:
    """A 1-D, finite, non-negative, strictly increasing array of times (epochs)."""
    arr = finite(name, value)
    if arr.ndim != 1 or arr.size < 1:
        raise ValueError(f"{name} must be a 1-D array of times with at least one entry, got shape {arr.shape}")
    if arr[0] < 0 or np.any(np.diff(arr) <= 0):
        raise ValueError(f"{name} must be non-negative and strictly increasing")
    return arr


def same_length(names: tuple[str, ...], arrays: tuple[np.ndarray, ...], n: int, against: str) -> None:
    """Each array must be 1-D with ``n`` entries, the length of ``against``."""
    for name, arr in zip(names, arrays):
        if arr.ndim != 1 or arr.shape[0] != n:
            raise ValueError(f"{name} must be 1-D with the same length as {against} ({n}), got shape {arr.shape}")


def _show(value) -> str:
    arr = np.asarray(value)
    if arr.ndim == 0:
        return repr(float(arr))
    bad = arr.ravel()
    return f"an array with min {bad.min():.3g}"
