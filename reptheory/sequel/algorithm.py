"""What a streaming-parity run learned (arXiv:2507.09897, Sec. 2-3): the automaton in its hidden states over
training, its minimisation, and which prefix pairs merged.

Built on :mod:`reptheory.sequel.parity` (the runs) and :mod:`reptheory.sequel.automata` (extraction). Accuracy "at a length"
is over the fixed random strings of :func:`reptheory.sequel.parity.long_strings`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reptheory import validate as _v
from reptheory.sequel import automata as _A
from reptheory.sequel import parity as _P

__all__ = ["RunSummary", "summarise", "prefix_label", "state_counts", "pair_distance", "example_pairs", "smallest_finite_factor",
           "length_pair_distance", "merged_pair_distances", "median_relative"]

FACTORS = (0.01, 0.03, 0.1, 0.3)


def prefix_label(length: int, value: int) -> str:
    """The prefix ``(length, value)`` of :func:`reptheory.sequel.parity.prefix_index` written as its bits,
    ``"∅"`` for the empty one.

    >>> prefix_label(3, 6), prefix_label(0, 0)
    ('110', '∅')
    """
    return "".join(map(str, _P.strings(length)[value])) or "∅"


def state_counts(run: _P.ParityRun, eps_factor: float = 0.01) -> np.ndarray:
    """Number of automaton states (prefix groups) at every record of ``run``."""
    P = _P.prefix_index(run.setting.max_len)
    return np.array([_A.extract(run.states[k], P, run.outputs(k), eps_factor).n_states
                     for k in range(len(run.epochs))])


def smallest_finite_factor(run: _P.ParityRun, k: int = -1, factors=FACTORS) -> float:
    """The smallest merge threshold (× the representational std) at which record ``k``'s automaton is finite
    (``inf`` if none of ``factors``)."""
    P = _P.prefix_index(run.setting.max_len)
    for f in factors:
        if _A.extract(run.states[k], P, run.outputs(k), f).finite:
            return float(f)
    return float("inf")


@dataclass(frozen=True)
class RunSummary:
    """One run's outcome (final record unless stated)."""

    seed: int
    final_loss: float
    counts: np.ndarray              # states at ε = 0.01 std per record
    peak: int
    peak_epoch: int
    final_states: int
    states_by_factor: dict          # factor -> (n_states, finite)
    finite: bool
    conflicts: int
    minimised_states: int | None    # None if the automaton is not finite
    is_parity: bool                 # minimised automaton == parity on all strings up to length 14
    acc: dict                       # length -> final accuracy
    generalised_epoch: int | None   # first record with accuracy 1.0 at length 1000 from which it stays 1.0
    merged_fraction: np.ndarray     # (max_len+1, max_len+1)
    merged_different: int           # merged pairs with different parity
    mean_distance: tuple            # mean pairwise distance at the first and last record


def summarise(run: _P.ParityRun, max_check_len: int = 14) -> RunSummary:
    """What one parity run learned (:class:`RunSummary`): its state counts over training and their peak, the
    automaton extracted from its final hidden states and whether, minimised, it is the parity automaton
    (checked on every string up to ``max_check_len``), its accuracy on long sequences and when it first
    generalised, and how far its prefixes merged."""
    P = _P.prefix_index(run.setting.max_len)
    counts = state_counts(run)
    k = int(np.argmax(counts))
    a = _A.extract(run.states[-1], P, run.outputs(-1))
    m = _A.minimise(a) if a.finite else None
    acc1000 = run.long_acc[1000]
    ok = np.isfinite(acc1000) & (acc1000 == 1.0)
    gen = None
    if ok[-1]:
        last_bad = np.flatnonzero(~ok)
        gen = int(run.epochs[last_bad[-1] + 1]) if len(last_bad) else int(run.epochs[0])
    frac, wrong = _A.merged_fraction(a.group, P, run.setting.max_len)
    return RunSummary(run.seed, float(run.train_loss[-1]), counts, int(counts[k]), int(run.epochs[k]),
                      int(counts[-1]), _A.states_at(run.states[-1], P, run.outputs(-1), FACTORS), a.finite,
                      a.conflicts, None if m is None else m.n_states,
                      m is not None and _A.equivalent_up_to(m, _A.PARITY_DFA, max_check_len),
                      {L: float(v[-1]) for L, v in run.long_acc.items()}, gen, frac, wrong,
                      (_A.mean_pairwise_distance(run.states[0]), _A.mean_pairwise_distance(run.states[-1])))


def pair_distance(run: _P.ParityRun, i: int, j: int) -> np.ndarray:
    """``||h_i − h_j||`` of prefixes ``i``, ``j`` (indices into :func:`reptheory.sequel.parity.prefix_index`) per record."""
    return np.linalg.norm(run.states[:, i].astype(np.float64) - run.states[:, j], axis=1)


def example_pairs(run: _P.ParityRun, lengths=(4, 9)) -> tuple[tuple[int, int], tuple[int, int]]:
    """A same-parity pair of prefixes of ``lengths`` that shares a state at the end, and a different-parity pair
    of the same lengths (which must not): the first of each in prefix order."""
    P = _P.prefix_index(run.setting.max_len)
    group = _A.extract(run.states[-1], P, run.outputs(-1)).group
    idx = {L: [n for n, (t, _) in enumerate(P) if t == L] for L in lengths}
    par = {n: bin(P[n][1]).count("1") % 2 for L in lengths for n in idx[L]}
    merged = next(((i, j) for i in idx[lengths[0]] for j in idx[lengths[1]]
                   if par[i] == par[j] and group[i] == group[j]), None)
    if merged is None:
        raise ValueError(f"no merged same-parity pair with lengths {lengths}")
    i = merged[0]
    other = next(j for j in idx[lengths[1]] if par[j] != par[i])
    return merged, (i, other)


def length_pair_distance(run: _P.ParityRun, len1: int, len2: int) -> dict[str, np.ndarray]:
    """Mean squared distance ``⟨||h_a − h_b||²⟩`` per record over the pairs of training prefixes ``a`` of length
    ``len1`` and ``b`` of length ``len2`` (``a ≠ b``), split into pairs with the same parity (``"agree"``: they
    need the same output on every continuation) and with different parity (``"disagree"``).

    Computed from group moments, ``⟨||a − b||²⟩ = ⟨||a||²⟩ + ⟨||b||²⟩ − 2 ⟨a⟩·⟨b⟩`` (the self-pairs removed when
    the lengths are equal), so a million pairs cost as little as one.
    """
    len1, len2 = (_v.integer(name, v, 0, run.setting.max_len) for name, v in (("len1", len1), ("len2", len2)))
    P = _P.prefix_index(run.setting.max_len)
    by = {}
    for L in {len1, len2}:
        for q in (0, 1):
            idx = [n for n, (t, v) in enumerate(P) if t == L and bin(v).count("1") % 2 == q]
            by[L, q] = run.states[:, idx].astype(np.float64)

    def mean_sq(A, B, same):
        n = A.shape[1]
        sq_a, sq_b = (A**2).sum(2).mean(1), (B**2).sum(2).mean(1)
        cross = (A.mean(1) * B.mean(1)).sum(1)
        d = sq_a + sq_b - 2 * cross
        return d * n / (n - 1) if same and n > 1 else d

    res = {}
    for key, flip in (("agree", 0), ("disagree", 1)):
        total, count = 0.0, 0
        for q in (0, 1):
            A, B = by[len1, q], by[len2, q ^ flip]
            same = len1 == len2 and not flip
            n_pairs = A.shape[1] * (B.shape[1] - same)
            if n_pairs > 0:
                total = total + mean_sq(A, B, same) * n_pairs
                count += n_pairs
        if not count:
            raise ValueError(f"no {key}ing pairs of prefixes with lengths {len1} and {len2}")
        res[key] = total / count
    return res


def merged_pair_distances(run: _P.ParityRun, len1: int, len2: int, eps_factor: float = 0.01,
                          max_pairs: int = 300) -> np.ndarray:
    """Squared distances ``||h_a − h_b||²`` per record, ``(pairs, records)``, of the same-parity prefix pairs of
    lengths ``len1`` and ``len2`` that share a state of the final automaton (merged at ``eps_factor`` × the
    representational std). At most ``max_pairs`` of them, a fixed random sample (``numpy`` seed 0); an empty
    array when no such pair merged."""
    len1, len2 = (_v.integer(name, v, 0, run.setting.max_len) for name, v in (("len1", len1), ("len2", len2)))
    P = _P.prefix_index(run.setting.max_len)
    group = _A.extract(run.states[-1], P, run.outputs(-1), eps_factor).group
    par = np.array([bin(v).count("1") % 2 for _, v in P])
    length = np.array([t for t, _ in P])
    pairs = [(i, j) for i in np.flatnonzero(length == len1) for j in np.flatnonzero(length == len2)
             if i != j and par[i] == par[j] and group[i] == group[j]]
    if not pairs:
        return np.zeros((0, len(run.epochs)))
    if len(pairs) > max_pairs:
        pairs = [pairs[k] for k in np.sort(np.random.default_rng(0).choice(len(pairs), max_pairs, replace=False))]
    X = run.states.astype(np.float64)
    return np.stack([((X[:, i] - X[:, j]) ** 2).sum(1) for i, j in pairs])


def median_relative(d: np.ndarray) -> np.ndarray:
    """The median over pairs (rows of ``d``, ``(pairs, records)``) of each pair's distance over its start, per
    record; pairs that start at exactly 0 (float32 ties) are left out."""
    d = np.asarray(d, dtype=float)
    if d.ndim != 2 or d.shape[0] == 0:
        raise ValueError(f"d must be a non-empty (pairs, records) array, got shape {d.shape}")
    d = d[d[:, 0] > 0]
    if not len(d):
        raise ValueError("every pair starts at distance 0: no ratio to take")
    return np.median(d / d[:, :1], axis=0)
