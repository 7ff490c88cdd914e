"""Streaming parity (van Rossem & Saxe, ICML 2025, arXiv:2507.09897, Sec. 2 and App. C.1).

Task: read a binary string one symbol at a time (one-hot, 2-d) and output, after the last symbol, the parity
of the number of 1s (one-hot, 2-d: index 0 even, 1 odd); many-to-one, MSE. Training data: every string of
length 1 … ``max_len`` (2046 for 10). Model: one ``torch.nn.RNN`` layer (ReLU, ``width`` hidden units) and a
linear readout, Xavier-normal weights of gain ``gain``, zero biases, a fixed initial state ``h0`` (all
ones in the paper: with zeros the net stays at the zero fixed point). SGD (or Adam) on minibatches of ``batch_size``
strings of one length at a time (one shuffled loader per length, lengths in increasing order every epoch).

This module holds the task, the network's construction, its evaluation and a run's record (:class:`ParityRun`);
the one engine that trains runs, one trial or many at once, is :mod:`reptheory.sequel.parity_batch`. A run records
every ``track_every`` epochs: the training loss, the loss and accuracy on random strings of :data:`LONG_LENGTHS`,
and the hidden states of every prefix of the training strings (float32), from which
:mod:`reptheory.sequel.automata` extracts the automaton.

Its settings are :class:`reptheory.configs.ParitySetting` objects, named in the one registry
(``configs.get("parity")``; the sequel's tables are :mod:`reptheory.configs.sequel`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from reptheory import validate as _v
from reptheory.configs import ParitySetting
from reptheory.configs.sequel import PARITY_PAPER

__all__ = ["strings", "parity", "prefix_index", "build", "ParityRun", "LONG_LENGTHS", "long_strings", "evaluate",
           "initial_scale"]

#: test lengths for the loss and accuracy curves (the paper's Fig. 1 and 6 go to 10,000)
LONG_LENGTHS = (25, 100, 1000, 10000)


def strings(length: int) -> np.ndarray:
    """All ``2**length`` binary strings of ``length`` in lexicographic order (first symbol most significant),
    shape ``(2**length, length)``, dtype int64."""
    length = _v.integer("length", length, 0, 20)
    n = np.arange(2**length)
    return ((n[:, None] >> np.arange(length - 1, -1, -1)[None, :]) & 1).astype(np.int64)


def parity(s: np.ndarray) -> np.ndarray:
    """Parity (0 even, 1 odd) of each row of ``s``."""
    return (np.asarray(s).sum(axis=-1) % 2).astype(np.int64)


def prefix_index(max_len: int) -> list[tuple[int, int]]:
    """The prefixes of the training strings as ``(length, value)`` pairs, length 0 (the empty prefix) to
    ``max_len``, in the order ``ParityRun.states`` uses; ``value`` is the prefix read as a binary number."""
    return [(t, v) for t in range(max_len + 1) for v in range(2**t)]


def build(s: ParitySetting, seed: int) -> tuple[torch.nn.RNN, torch.nn.Linear]:
    """The RNN and its readout, initialised as in App. C.1 (Xavier-normal with ``s.gain``, zero biases)."""
    g = torch.Generator().manual_seed(seed)
    rnn = torch.nn.RNN(2, s.width, nonlinearity=s.nonlinearity, batch_first=True)
    out = torch.nn.Linear(s.width, 2)
    with torch.no_grad():
        for w in (rnn.weight_ih_l0, rnn.weight_hh_l0, out.weight):
            fan_out, fan_in = w.shape
            std = s.gain * np.sqrt(2.0 / (fan_in + fan_out))
            w.copy_(torch.randn(w.shape, generator=g) * std)
        for b in (rnn.bias_ih_l0, rnn.bias_hh_l0, out.bias):
            b.zero_()
    return rnn, out


def initial_scale(s: ParitySetting | None = None, seed: int = 0, statistic: str = "authors") -> float:
    """The scale at which the sequel's fixed-expansion model starts, from the untrained network's hidden states
    for the two length-1 inputs ("0" and "1"), for the net of setting ``s`` (default :data:`PARITY_PAPER`)
    built from ``seed``.

    ``statistic="authors"`` (the default) is the authors' definition: the standard deviation, over the hidden
    units, of each unit's standard deviation over the two inputs (both with ``ddof = 1``, as pandas computes
    ``DataFrame.std().std()`` on a table of inputs × units). It measures how far the two states differ along
    a typical unit. ``statistic="all entries"`` is the standard deviation of all ``2 × width`` entries, which
    also counts the part both states share (6.6 to 11 times larger for the book's ReLU network at gain 0.1,
    seeds 0-2, as parity_theory prints).

    >>> round(initial_scale(), 4), round(initial_scale(statistic="all entries"), 3)
    (0.0058, 0.061)
    """
    s = PARITY_PAPER if s is None else s
    if not isinstance(s, ParitySetting):
        raise TypeError(f"s must be a ParitySetting, got {type(s).__name__}")
    seed = _v.integer("seed", seed, 0)
    if statistic not in ("authors", "all entries"):
        raise ValueError(f"statistic must be 'authors' or 'all entries', got {statistic!r}")
    rnn, _ = build(s, int(seed))
    with torch.no_grad():
        h = _hidden(rnn, _onehot(np.array([[0], [1]])), s.h0)[:, -1].double()
    if statistic == "all entries":
        return float(h.std())
    return float(h.std(dim=0, unbiased=True).std(unbiased=True))


def _onehot(x: np.ndarray) -> torch.Tensor:
    return torch.nn.functional.one_hot(torch.from_numpy(np.asarray(x, dtype=np.int64)), 2).float()


def long_strings(seed: int = 12345) -> dict[int, np.ndarray]:
    """Fixed random test strings: 100 of length 25, 100 and 1000, 20 of length 10,000."""
    rng = np.random.default_rng(seed)
    return {L: rng.integers(0, 2, size=(20 if L >= 10000 else 100, L)) for L in LONG_LENGTHS}


def _hidden(rnn, x: torch.Tensor, h0: float) -> torch.Tensor:
    h_init = torch.full((1, x.shape[0], rnn.hidden_size), float(h0))
    seq, _ = rnn(x, h_init)
    return seq


def _loss(y: torch.Tensor, target: torch.Tensor, kind: str) -> torch.Tensor:
    """Mean loss of the outputs ``y`` against the parity ``target`` (0/1): MSE on the one-hot target, or
    cross-entropy with ``y`` as logits."""
    if kind == "ce":
        return torch.nn.functional.cross_entropy(y, target)
    return torch.mean((y - torch.nn.functional.one_hot(target, 2).float()) ** 2)


def evaluate(rnn, out, h0: float, x: np.ndarray, loss: str = "mse") -> tuple[float, float]:
    """(loss against the parity, accuracy) of the net on the strings ``x`` (rows); ``loss`` is ``"mse"`` (on the
    one-hot target) or ``"ce"`` (cross-entropy)."""
    with torch.no_grad():
        seq = _hidden(rnn, _onehot(x), h0)
        y = out(seq[:, -1])
        t = torch.from_numpy(parity(x))
        return float(_loss(y, t, loss)), float(torch.mean((y.argmax(1) == t).float()))


def _prefix_states(rnn, h0: float, max_len: int) -> np.ndarray:
    """Hidden states of every prefix (order of :func:`prefix_index`), from one pass over the longest strings."""
    full = strings(max_len)
    with torch.no_grad():
        seq = _hidden(rnn, _onehot(full), h0).numpy()
    rows = [np.full((1, rnn.hidden_size), h0, dtype=np.float32)]
    for t in range(1, max_len + 1):
        rows.append(seq[:: 2 ** (max_len - t), t - 1])
    return np.concatenate(rows).astype(np.float32)


@dataclass(frozen=True)
class ParityRun:
    """A trained streaming-parity net with its record. ``epochs[k]`` is the epoch of record ``k``."""

    setting: ParitySetting
    seed: int
    epochs: np.ndarray                 # (K,)
    train_loss: np.ndarray             # (K,) loss (the setting's kind) over all training strings
    long_loss: dict                    # length -> (K,) (NaN between the ends when track_long is False)
    long_acc: dict                     # length -> (K,)
    states: np.ndarray                 # (K, n_prefixes, width) float32
    readout_w: np.ndarray              # (K, 2, width): the readout at each record (outputs of states)
    readout_b: np.ndarray              # (K, 2)
    stopped: str                       # "", "converged" (stop_loss) or "diverged"
    seconds: float

    def outputs(self, k: int) -> np.ndarray:
        """Readout class (0 even, 1 odd) of every prefix state at record ``k``."""
        return (self.states[k] @ self.readout_w[k].T + self.readout_b[k]).argmax(1)

    def to_arrays(self) -> dict:
        """The run as the flat dict of arrays the cache stores (:meth:`from_arrays` reads it back): every
        record, the long-string curves as ``loss_<length>`` and ``acc_<length>``."""
        arrays = {"epochs": self.epochs, "train_loss": self.train_loss, "states": self.states,
                  "readout_w": self.readout_w, "readout_b": self.readout_b, "stopped": self.stopped,
                  "seconds": self.seconds}
        for L in LONG_LENGTHS:
            arrays[f"loss_{L}"], arrays[f"acc_{L}"] = self.long_loss[L], self.long_acc[L]
        return arrays

    @classmethod
    def from_arrays(cls, a: dict, setting: ParitySetting, seed: int) -> "ParityRun":
        """The run of ``setting`` and ``seed`` from the arrays of :meth:`to_arrays`."""
        return cls(setting, seed, a["epochs"], a["train_loss"], {L: a[f"loss_{L}"] for L in LONG_LENGTHS},
                   {L: a[f"acc_{L}"] for L in LONG_LENGTHS}, a["states"], a["readout_w"], a["readout_b"],
                   str(a["stopped"]), float(a["seconds"]))


def _train_sets(s: ParitySetting, seed: int) -> dict[int, np.ndarray]:
    rng = np.random.default_rng(10_000 + seed)
    out = {}
    for L in range(1, s.max_len + 1):
        x = strings(L)
        if s.frac < 1:
            x = x[rng.random(len(x)) < s.frac]
        if len(x):
            out[L] = x
    if not out:
        raise ValueError(f"frac = {s.frac} leaves no training strings")
    return out


def _description(s: ParitySetting, seed: int) -> dict:
    """The cache description of one run: every setting that decides it, and the seed."""
    return {"setting": s.run_fields(), "seed": seed}
