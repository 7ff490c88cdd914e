"""Statistics over seeds shared by the layers: how a quantity measured on several seeds at each of several sizes
scales with the size (a power law fitted to the medians over seeds) and how sure that exponent is (a bootstrap
that resamples the seeds).

>>> import numpy as np
>>> widths = np.array([16, 64, 256])
>>> v = np.array([[1.0, 1.1, 0.9], [0.5, 0.55, 0.45], [0.25, 0.27, 0.23]])    # (width, seed): ~ width^(-1/2)
>>> round(log_slope(widths, v), 3)
-0.5
>>> lo, hi = log_slope_interval(widths, v)
>>> bool(lo < -0.5 < hi and hi < 0)
True
"""
from __future__ import annotations

import warnings

import numpy as np

__all__ = ["log_slope", "log_slope_interval"]


def _checked(x, v) -> tuple[np.ndarray, np.ndarray]:
    x, v = np.asarray(x, dtype=float), np.asarray(v, dtype=float)
    if x.ndim != 1 or x.size < 2 or np.any(x <= 0):
        raise ValueError(f"x must hold at least two positive sizes, got {x.tolist()}")
    if v.ndim != 2 or v.shape[0] != x.size or v.shape[1] < 1:
        raise ValueError(f"v must be (size, seed) with {x.size} rows, got shape {v.shape}")
    return x, v


def log_slope(x, v) -> float:
    """The exponent ``a`` of ``median_seeds(v) ∝ x^a``: the least-squares slope of log(median over the seeds of
    ``v[i]``) against log ``x[i]``. ``v``: ``(len(x), seeds)``, positive; NaN entries (runs without a value) are
    left out of their median."""
    x, v = _checked(x, v)
    return float(np.polyfit(np.log(x), np.log(np.nanmedian(v, axis=1)), 1)[0])


def log_slope_interval(x, v, level: float = 0.95, n_boot: int = 2000, seed: int = 0) -> tuple[float, float]:
    """A bootstrap interval of :func:`log_slope` at ``level``: what it resamples is the seeds, with replacement,
    at each size independently (runs at different sizes are independent); the percentiles of the resampled
    slopes. NaN entries stay NaN in a resample and are left out of its medians."""
    x, v = _checked(x, v)
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, v.shape[1], size=(n_boot, *v.shape))
    with warnings.catch_warnings():     # a resample with no value at a size: all-NaN, dropped below
        warnings.simplefilter("ignore", RuntimeWarning)
        med = np.nanmedian(np.take_along_axis(v[None], picks, axis=2), axis=2)      # (boot, size)
    ok = np.all(np.isfinite(med) & (med > 0), axis=1)
    slopes = np.polyfit(np.log(x), np.log(med[ok]).T, 1)[0]
    lo, hi = np.percentile(slopes, [50 * (1 - level), 50 * (1 + level)])
    return float(lo), float(hi)
