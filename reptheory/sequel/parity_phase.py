"""The sequel's phase diagrams (arXiv:2507.09897, Sec. 4.4, Fig. 9): outcomes of many parity runs, grids of them,
and where the transition to infinite generalisation lies.

A run's outcome is read at its last record: the accuracy on the fixed random strings of one length (100, as the
authors), the number of automaton states over **all** prefixes of the strings up to ``max_len`` at a merge
threshold of ``threshold`` × the representational std (0.1, as the authors' grid; 2047 states = nothing merged),
whether it converged (training loss below its ``stop_loss``) and after how many epochs.

The transition along a data axis (the data fraction ``p``, or the longest training length) is bracketed per seed:
``(lo, hi]`` where ``hi`` is the smallest grid value from which the run generalises (accuracy ≥ ``acc_bar``) at it
and at every larger grid value, and ``lo`` the grid value below it (``lo = 0`` when even the smallest value
generalises; ``hi = inf`` when the largest does not). Per gain the transition is the mean of the seeds' bracket
midpoints, with the union of the brackets as its error bar.

>>> t = transitions({(0.1, 0.3, 0): 0.5, (0.1, 0.5, 0): 1.0, (0.1, 0.3, 1): 1.0, (0.1, 0.5, 1): 1.0})
>>> t[0.1].brackets, t[0.1].estimate, (t[0.1].low, t[0.1].high)
(((0.3, 0.5), (0.0, 0.3)), 0.275, (0.0, 0.5))
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reptheory.configs.bars import PARITY
from reptheory.sequel import automata as _A
from reptheory.sequel import parity as _P

__all__ = ["Outcome", "outcome", "outcomes", "Transition", "transitions", "grid"]


@dataclass(frozen=True)
class Outcome:
    """One run's end state: accuracy at ``length``, automaton states at ``threshold``·std, convergence."""

    acc: float
    states: int
    converged: bool
    stopped: str                 # "converged", "diverged" or "" (reached the epoch cap)
    epochs: int
    final_loss: float
    n_train: int                 # training strings the run saw


def outcome(run: _P.ParityRun, length: int = 100, threshold: float = 0.1) -> Outcome:
    """The :class:`Outcome` of ``run`` at its last record."""
    if length not in _P.LONG_LENGTHS:
        raise ValueError(f"length must be one of {_P.LONG_LENGTHS}, got {length!r}")
    P = _P.prefix_index(run.setting.max_len)
    a = _A.extract(run.states[-1], P, run.outputs(-1), threshold)
    n_train = sum(len(x) for x in _P._train_sets(run.setting, run.seed).values())
    return Outcome(float(run.long_acc[length][-1]), a.n_states, run.stopped == "converged", run.stopped,
                   int(run.epochs[-1]), float(run.train_loss[-1]), n_train)


def outcomes(runs: dict, cells: dict, length: int = 100, threshold: float = 0.1) -> dict:
    """``{(*key, seed): Outcome}`` for every seed of every setting of ``cells = {key: ParitySetting}`` (a family's
    cells keyed by their fields, as :func:`reptheory.configs.phase_diagram` gives them; a key that is not a tuple
    counts as one field), read from ``runs = {(name, seed): ParityRun}``. A diverged run is kept with its status
    (count it, never average it).

    >>> from reptheory.configs import ParitySetting
    >>> s = ParitySetting(name="tiny", width=4, max_len=2, epochs=1, track_every=1, track_long=False, seeds=(0,))
    >>> from reptheory.sequel import parity_batch
    >>> out = outcomes({("tiny", 0): parity_batch.train(s, 0)}, {("mse", 0.1): s})
    >>> list(out), out["mse", 0.1, 0].n_train
    ([('mse', 0.1, 0)], 6)
    """
    out = {}
    for key, s in cells.items():
        key = key if isinstance(key, tuple) else (key,)
        for seed in s.seeds:
            if (s.name, seed) not in runs:
                raise KeyError(f"no run of setting {s.name!r}, seed {seed}: train it first")
            out[(*key, seed)] = outcome(runs[s.name, seed], length, threshold)
    return out


@dataclass(frozen=True)
class Transition:
    """Where the runs of one gain start to generalise along the data axis."""

    gain: float
    brackets: tuple              # per seed: (lo, hi], the transition lies in it
    estimate: float              # mean of the brackets' midpoints (inf if a seed never generalises)
    low: float                   # the union of the brackets: the error bar
    high: float

    def __str__(self) -> str:
        seeds = ", ".join(f"({lo:g}, {hi:g}]" for lo, hi in self.brackets)
        return f"gain {self.gain:g}: {self.estimate:.2f}, error bar ({self.low:g}, {self.high:g}]; seeds {seeds}"


def transitions(acc: dict, acc_bar: float = PARITY["generalises"]) -> dict:
    """Per gain, the :class:`Transition` of ``acc = {(gain, x, seed): accuracy}`` along the data axis ``x``."""
    if not acc:
        raise ValueError("acc must map (gain, x, seed) to an accuracy; got nothing")
    out = {}
    for g in sorted({k[0] for k in acc}):
        xs = sorted({k[1] for k in acc if k[0] == g})
        brackets = []
        for seed in sorted({k[2] for k in acc if k[0] == g}):
            ok = [acc[g, x, seed] >= acc_bar for x in xs if (g, x, seed) in acc]
            if len(ok) != len(xs):
                raise ValueError(f"gain {g}, seed {seed}: a run is missing on the data axis {xs}")
            i = len(ok)
            while i > 0 and ok[i - 1]:
                i -= 1
            hi = xs[i] if i < len(xs) else float("inf")
            lo = xs[i - 1] if i > 0 else 0.0
            brackets.append((lo, hi))
        mids = [(lo + hi) / 2 for lo, hi in brackets]
        out[g] = Transition(g, tuple(brackets), float(np.mean(mids)), min(b[0] for b in brackets),
                            max(b[1] for b in brackets))
    return out


def grid(values: dict, gains, xs, agg=np.median) -> np.ndarray:
    """``agg`` over seeds of ``values = {(gain, x, seed): number}`` as an array ``(len(xs), len(gains))``."""
    arr = np.full((len(xs), len(gains)), np.nan)
    for j, g in enumerate(gains):
        for i, x in enumerate(xs):
            v = [val for (gg, xx, _), val in values.items() if gg == g and xx == x]
            if v:
                arr[i, j] = agg(v)
    return arr
