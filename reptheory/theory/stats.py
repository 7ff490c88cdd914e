"""Statistics over seeds: a claim that one chaotic run could tip is checked on the mean over independent
seeds with its confidence interval, not on a single run's value.

>>> m, lo, hi = mean_interval([0.40, 0.41, 0.43, 0.42])
>>> round(m, 3), round(lo, 3), round(hi, 3)
(0.415, 0.394, 0.436)
"""
from __future__ import annotations

import numpy as np

__all__ = ["mean_interval"]


def mean_interval(values, level: float = 0.95) -> tuple[float, float, float]:
    """Mean of ``values`` (one per seed) and its two-sided Student-t confidence interval at ``level``:
    ``mean ± t_{(1+level)/2, n-1} · s / √n`` with ``s`` the sample standard deviation. Needs at least 2 finite
    values; NaN (a failed seed) is an error here, to be counted by the caller, never averaged."""
    from scipy.stats import t as student_t

    x = np.asarray(values, dtype=float)
    if x.ndim != 1 or x.size < 2:
        raise ValueError(f"values must be a 1-D sequence of at least 2 numbers, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"values must be finite (count failed seeds separately), got {x.tolist()}")
    if not isinstance(level, float) or not 0 < level < 1:
        raise ValueError(f"level must be a float in (0, 1), got {level!r}")
    m, s = float(x.mean()), float(x.std(ddof=1))
    half = float(student_t.ppf(0.5 + level / 2, x.size - 1)) * s / np.sqrt(x.size)
    return m, float(m - half), float(m + half)
