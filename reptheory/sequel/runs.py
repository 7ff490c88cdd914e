"""The one way the sequel's pages get trained streaming-parity RNNs: :func:`parity_runs` takes any settings and
trains (or loads from :mod:`reptheory.cache`) every seed of each on the one parity engine,
:mod:`reptheory.sequel.parity_batch`: trials that differ only in gain and seed are trained as one batched model,
each recorded and cached on its own (kind ``parity_run``).
"""
from __future__ import annotations

from reptheory import validate as _v
from reptheory.configs import ParitySetting
from reptheory.sequel import parity_batch as _B

__all__ = ["parity_runs"]


def parity_runs(settings, n_jobs: int | None = None, progress: bool | None = None, group_size: int = 16) -> dict:
    """Every seed of every setting in ``settings`` (one :class:`~reptheory.configs.ParitySetting` or several),
    trained on the one parity engine (see the module docstring) in ``n_jobs`` worker processes, or loaded:
    ``{(name, seed): ParityRun}`` in the order of ``settings`` and their seeds. ``group_size``: at most this many
    trials trained together.

    >>> from reptheory.configs import ParitySetting
    >>> s = ParitySetting(name="tiny", width=4, max_len=2, epochs=2, track_every=2, track_long=False, seeds=(0,))
    >>> list(parity_runs([s], n_jobs=1, progress=False))
    [('tiny', 0)]
    """
    group_size = _v.integer("group_size", group_size, 1)
    settings = [settings] if isinstance(settings, ParitySetting) else list(settings)
    for s in settings:
        if not isinstance(s, ParitySetting):
            raise TypeError(f"settings must hold ParitySetting objects, got {type(s).__name__}")
    got = _B.runs(settings, group_size, n_jobs, progress)
    return {(s.name, seed): got[s.name, seed] for s in settings for seed in s.seeds}
