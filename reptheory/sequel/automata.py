"""Automata from hidden states (arXiv:2507.09897, Sec. 2.2 and App. A).

Every prefix ``x`` of the training strings is a state ``q_x = h(x)``. States closer than
``eps = eps_factor · ||per-dimension std of all states||`` are merged greedily (a state joins the first group
whose representative, its first member, is within ``eps``). Transitions are ``δ(q_x, σ) = q_{xσ}``; a state's
output is the readout's class. The automaton is **finite** when every group has a transition for both
symbols (the longest prefixes have none, so their groups must have merged with shorter ones); a group's
transitions are its representative's. A finite
automaton is minimised by partition refinement (Moore's algorithm, which gives the same result as
Hopcroft's) and compared with a reference DFA on every string up to a given length.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Automaton", "extract", "minimise", "PARITY_DFA", "run_dfa", "equivalent_up_to", "states_at",
           "mean_pairwise_distance"]


@dataclass(frozen=True)
class Automaton:
    """``group[i]``: the state of prefix ``i``; ``delta[g, σ]``: next state (-1 if missing); ``output[g]``;
    ``conflicts``: member transitions that disagree with their group's (the first member's, the group's
    representative, is kept, as in the paper's extraction; they are reported, and the minimised automaton is
    then checked against the task on every string, which is what decides)."""

    group: np.ndarray
    delta: np.ndarray
    output: np.ndarray
    start: int
    conflicts: int

    @property
    def n_states(self) -> int:
        return int(self.delta.shape[0])

    @property
    def finite(self) -> bool:
        return bool(np.all(self.delta >= 0))


def _groups(states: np.ndarray, eps: float) -> np.ndarray:
    group = np.empty(len(states), dtype=np.int64)
    reps = np.empty_like(states)
    n = 0
    for i, h in enumerate(states):
        close = np.flatnonzero(((reps[:n] - h) ** 2).sum(1) < eps * eps) if n else ()
        if len(close):
            group[i] = close[0]
        else:
            reps[n] = h
            group[i] = n
            n += 1
    return group


def extract(states: np.ndarray, prefixes: list, outputs: np.ndarray, eps_factor: float = 0.01) -> Automaton:
    """The automaton of the prefix ``states`` (rows, in the order of ``prefixes``: ``(length, value)`` pairs
    as :func:`reptheory.sequel.parity.prefix_index` gives them, starting with the empty prefix) with the readout
    classes ``outputs``, merging within ``eps_factor`` × the representational std."""
    states = np.asarray(states, dtype=np.float64)
    if states.ndim != 2 or len(states) != len(prefixes) or len(outputs) != len(prefixes):
        raise ValueError(f"states (n, d), prefixes (n) and outputs (n) must agree, got {states.shape}, "
                         f"{len(prefixes)}, {len(outputs)}")
    if not (isinstance(eps_factor, (int, float)) and eps_factor > 0):
        raise ValueError(f"eps_factor must be a number > 0, got {eps_factor!r}")
    eps = eps_factor * float(np.linalg.norm(states.std(axis=0)))
    group = _groups(states, eps)
    n = int(group.max()) + 1
    where = {p: i for i, p in enumerate(prefixes)}
    delta = np.full((n, 2), -1, dtype=np.int64)
    conflicts = 0
    for i, (t, v) in enumerate(prefixes):          # prefixes come shortest first: representatives first
        for sym in (0, 1):
            j = where.get((t + 1, 2 * v + sym))
            if j is None:
                continue
            g, h = group[i], group[j]
            if delta[g, sym] < 0:
                delta[g, sym] = h
            elif delta[g, sym] != h:
                conflicts += 1
    output = np.zeros(n, dtype=np.int64)
    seen = np.zeros(n, dtype=bool)
    for i in range(len(prefixes)):
        if not seen[group[i]]:
            output[group[i]] = outputs[i]
            seen[group[i]] = True
    return Automaton(group, delta, output, int(group[where[(0, 0)]]), conflicts)


def minimise(a: Automaton) -> Automaton:
    """Moore's partition refinement on the states reachable from the start (needs a finite automaton)."""
    if not a.finite:
        raise ValueError("minimise needs a finite automaton (every state with both transitions)")
    reach, todo = {a.start}, [a.start]
    while todo:
        g = todo.pop()
        for h in a.delta[g]:
            if int(h) not in reach:
                reach.add(int(h))
                todo.append(int(h))
    states = sorted(reach)
    block = {g: int(a.output[g]) for g in states}
    while True:
        sig = {g: (block[g], block[int(a.delta[g, 0])], block[int(a.delta[g, 1])]) for g in states}
        ids = {s: k for k, s in enumerate(sorted(set(sig.values())))}
        new = {g: ids[sig[g]] for g in states}
        if len(set(new.values())) == len(set(block.values())):
            block = new
            break
        block = new
    n = len(set(block.values()))
    delta = np.full((n, 2), -1, dtype=np.int64)
    output = np.zeros(n, dtype=np.int64)
    for g in states:
        b = block[g]
        delta[b] = [block[int(a.delta[g, 0])], block[int(a.delta[g, 1])]]
        output[b] = a.output[g]
    group = np.array([block.get(int(g), -1) for g in a.group])
    return Automaton(group, delta, output, block[a.start], 0)


#: the 2-state parity automaton: state 0 even (start), 1 odd
PARITY_DFA = Automaton(np.array([0]), np.array([[0, 1], [1, 0]]), np.array([0, 1]), 0, 0)


def run_dfa(a: Automaton, x: np.ndarray) -> np.ndarray:
    """Output of ``a`` after reading each row of ``x`` (0/1 symbols)."""
    q = np.full(len(x), a.start)
    for t in range(x.shape[1]):
        q = a.delta[q, x[:, t]]
    return a.output[q]


def equivalent_up_to(a: Automaton, b: Automaton, max_len: int) -> bool:
    """Do ``a`` and ``b`` give the same output on every string of length 0 … ``max_len``?"""
    from reptheory.sequel.parity import strings
    return all(np.array_equal(run_dfa(a, strings(L)), run_dfa(b, strings(L))) for L in range(max_len + 1))


def states_at(states: np.ndarray, prefixes: list, outputs: np.ndarray, factors=(0.01, 0.03, 0.1, 0.3)) -> dict:
    """State count and finiteness at several merge thresholds: ``{factor: (n_states, finite)}``."""
    out = {}
    for f in factors:
        a = extract(states, prefixes, outputs, f)
        out[f] = (a.n_states, a.finite)
    return out


def merged_fraction(group: np.ndarray, prefixes: list, max_len: int) -> tuple[np.ndarray, int]:
    """Per (length₁, length₂), the fraction of prefix pairs with the **same** parity that share a state, and
    the number of merged pairs with **different** parity (which the theory says cannot merge). Pairs of
    equal prefixes are excluded; length 0 is the empty prefix."""
    lengths = np.array([t for t, _ in prefixes])
    par = np.array([bin(v).count("1") % 2 for _, v in prefixes])
    frac = np.full((max_len + 1, max_len + 1), np.nan)
    wrong = 0
    for l1 in range(max_len + 1):
        for l2 in range(l1, max_len + 1):
            i, j = np.flatnonzero(lengths == l1), np.flatnonzero(lengths == l2)
            same_state = group[i][:, None] == group[j][None, :]
            same_par = par[i][:, None] == par[j][None, :]
            if l1 == l2:
                off = ~np.eye(len(i), dtype=bool)
                same_state, same_par = same_state & off, same_par & off
            wrong += int(np.sum(same_state & ~same_par)) * (1 if l1 != l2 else 1)
            n = int(np.sum(same_par))
            if n:
                frac[l1, l2] = frac[l2, l1] = np.sum(same_state & same_par) / n
    return frac, wrong


def mean_pairwise_distance(states: np.ndarray) -> float:
    """Mean Euclidean distance over all pairs of rows (Fig. 12 of the sequel: it should not shrink)."""
    x = np.asarray(states, dtype=np.float64)
    sq = (x**2).sum(1)
    d2 = np.clip(sq[:, None] + sq[None, :] - 2 * x @ x.T, 0, None)
    n = len(x)
    return float(np.sqrt(d2).sum() / (n * (n - 1)))
