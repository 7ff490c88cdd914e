"""The one way the sequel's pages get trained streaming-parity RNNs: :func:`parity_runs` takes any settings and
trains (or loads from :mod:`reptheory.cache`) every seed of each on the engine that covers it.

A setting that records only its first and last epoch with plain SGD on the ReLU RNN (the phase diagrams, the
training-length grid) goes to the batched engine (:func:`reptheory.sequel.parity_batch.runs`: trials that differ
only in gain and seed trained as one model), every other setting (the runs recorded along training: App. C.1's
run, its ``h0 = 0`` variant) to the one-trial engine (:func:`reptheory.sequel.parity.runs`). The two engines
give a trial the same run to float32 rounding (a unit test holds them against each other); each caches under
its own kind, so a setting always comes from the engine that trained it.
"""
from __future__ import annotations

from reptheory import validate as _v
from reptheory.configs import ParitySetting
from reptheory.sequel import parity as _P
from reptheory.sequel import parity_batch as _B

__all__ = ["parity_runs"]


def parity_runs(settings, n_jobs: int | None = None, progress: bool | None = None, group_size: int = 16) -> dict:
    """Every seed of every setting in ``settings`` (one :class:`~reptheory.configs.ParitySetting` or several),
    trained on the engine that covers it (see the module docstring) in ``n_jobs`` worker processes, or loaded:
    ``{(name, seed): ParityRun}`` in the order of ``settings`` and their seeds. ``group_size``: at most this many
    trials trained together by the batched engine.

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
    batched = [s for s in settings if not _B.unbatchable(s)]
    single = [s for s in settings if _B.unbatchable(s)]
    got = {}
    if batched:
        got |= _B.runs(batched, group_size, n_jobs, progress)
    if single:
        got |= _P.runs(single, n_jobs, progress)
    return {(s.name, seed): got[s.name, seed] for s in settings for seed in s.seeds}
