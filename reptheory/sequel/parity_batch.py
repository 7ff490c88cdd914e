"""The sequel's one parity engine: streaming-parity trials trained as one batched model, each recorded and cached
on its own (the App. C.1 runs recorded along training, the phase diagrams and grids recorded at their ends).

Trials that share the network, the optimiser, the stopping rule and the record schedule, and differ only in the
initial gain and the seed, are trained together: their parameters are stacked along a leading trial axis and one
batched recurrence (``torch.baddbmm``) steps all of them, so that the per-step overhead of a small RNN is paid
once per group instead of once per trial (2-2.5x fewer seconds per trial-epoch at small data fractions, 1.5x on
all the data, for 6 trials on this machine's CPUs). One trial is a group of one (:func:`train`).

Each trial sees the minibatches of App. C.1: its own training subset (a fixed random subset per seed), its own
generator for the per-length shuffles, batches of ``batch_size`` strings of one length, lengths in
increasing order. A trial with fewer batches of a length than another of its group sits the extra steps out: its
parameters and its optimiser's moments stay as they are (plain SGD: a zero gradient; Adam: the step is skipped and
the trial's step count does not advance), so a trial's run does not depend on its group. The update is
``torch.optim.SGD``'s (no momentum) or ``torch.optim.Adam``'s with its defaults; the recurrence is
``h ← φ(W_ih x + b_ih + W_hh h + b_hh)`` with φ = ReLU or tanh, as ``torch.nn.RNN``. A unit test holds the engine
against a plain ``torch.nn.RNN`` loop with ``torch.optim`` to float32 rounding.

After every epoch the training loss of every trial is computed exactly from the hidden states of the prefix tree
(each training string's state is its full-length node), and the stop and divergence rule of
:mod:`reptheory.networks.stop` is applied to it: a trial that converges (below ``stop_loss``) or diverges leaves
the batch with a last record. Records: epoch 0, every ``track_every`` epochs, and the last epoch; each holds the
training loss, the hidden state of every prefix, the readout and, at the first and last record (at every record
when ``track_long``), the loss and accuracy on the long test strings. ``seconds`` is the group's wall time until
the trial ended, shared equally among the group's trials.
"""
from __future__ import annotations

import time

import numpy as np
import torch

from reptheory import validate as _v
from reptheory.configs import ParitySetting
from reptheory.networks import stop as _stop
from reptheory.sequel import parity as _P

__all__ = ["group_key", "train_batch", "train", "runs"]

#: torch.optim.Adam's defaults (betas, eps), the update of a setting with ``optimizer = "adam"``
_ADAM = (0.9, 0.999, 1e-8)


def group_key(s: ParitySetting) -> tuple:
    """The fields that trials trained together must share: everything but the name, note, gain and seeds."""
    d = s.run_fields()
    del d["gain"]
    return tuple(sorted(d.items()))


def _check(trials) -> list:
    trials = list(trials)
    if not trials:
        raise ValueError("trials must be a non-empty list of (ParitySetting, seed) pairs")
    for s, seed in trials:
        if not isinstance(s, ParitySetting):
            raise TypeError(f"trials must hold ParitySetting objects, got {type(s).__name__}")
        _v.integer("seed", seed, 0)
    keys = {group_key(s) for s, _ in trials}
    if len(keys) != 1:
        raise ValueError("trials trained together must differ only in gain and seed (and name); "
                         f"got {len(keys)} different groups")
    return trials


class _Stack:
    """The stacked parameters of the active trials (leaf tensors, one row per trial) and, for Adam, their moments
    and step counts."""

    NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "out_w", "out_b")

    def __init__(self, nets, nonlinearity: str):
        rows = [(r.weight_ih_l0, r.weight_hh_l0, r.bias_ih_l0, r.bias_hh_l0, o.weight, o.bias) for r, o in nets]
        self.p = [torch.stack([row[i].detach() for row in rows]).clone().requires_grad_() for i in range(6)]
        self.act = torch.relu if nonlinearity == "relu" else torch.tanh
        self.m = [torch.zeros_like(q) for q in self.p]
        self.v = [torch.zeros_like(q) for q in self.p]
        self.t = torch.zeros(len(nets), dtype=torch.float64)

    def keep(self, rows: torch.Tensor) -> None:
        self.p = [q.detach()[rows].clone().requires_grad_() for q in self.p]
        self.m, self.v, self.t = [m[rows] for m in self.m], [v[rows] for v in self.v], self.t[rows]

    def step(self, h: torch.Tensor, x_t: torch.Tensor) -> torch.Tensor:
        """One recurrence for every trial: ``h (K, B, H)``, ``x_t (K, B, 2)``."""
        w_ih, w_hh, b_ih, b_hh, _, _ = self.p
        return self.act(torch.baddbmm((b_ih + b_hh).unsqueeze(1), h, w_hh.transpose(1, 2))
                        + torch.bmm(x_t, w_ih.transpose(1, 2)))

    def readout(self, h: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(self.p[5].unsqueeze(1), h, self.p[4].transpose(1, 2))

    def adam(self, lr: float, moving: torch.Tensor) -> None:
        """``torch.optim.Adam``'s step (its defaults, :data:`_ADAM`) for the trials where ``moving`` (``(K,)``
        bool) is true; the others keep their parameters, moments and step counts."""
        b1, b2, eps = _ADAM
        with torch.no_grad():
            self.t += moving.double()
            t = self.t.clamp(min=1.0)
            size, root = (lr / (1 - b1 ** t)).float(), ((1 - b2 ** t) ** 0.5).float()
            for q, m, v in zip(self.p, self.m, self.v):
                shape = (-1,) + (1,) * (q.dim() - 1)
                on, g = moving.view(shape), q.grad
                m.copy_(torch.where(on, torch.lerp(m, g, 1 - b1), m))
                v.copy_(torch.where(on, v * b2 + (1 - b2) * g * g, v))
                q.copy_(torch.where(on, q - size.view(shape) * (m / (v.sqrt() / root.view(shape) + eps)), q))

    def tree(self, h0: float, max_len: int) -> list[torch.Tensor]:
        """Hidden states of every prefix, level by level: ``[(K, 2^t, H) for t = 0 … max_len]`` (no gradient)."""
        with torch.no_grad():
            w_ih, w_hh, b_ih, b_hh, _, _ = self.p
            K, H = w_hh.shape[0], w_hh.shape[1]
            levels = [torch.full((K, 1, H), float(h0))]
            for _ in range(max_len):
                pre = torch.baddbmm((b_ih + b_hh).unsqueeze(1), levels[-1], w_hh.transpose(1, 2))
                kids = torch.stack([pre + w_ih[:, None, :, 0], pre + w_ih[:, None, :, 1]], dim=2)   # value 2v + σ
                levels.append(self.act(kids.reshape(K, -1, H)))
            return levels

    def to_modules(self, k: int, s: ParitySetting):
        """Trial ``k``'s parameters as the ``(torch.nn.RNN, torch.nn.Linear)`` pair of :func:`parity.build`."""
        rnn, out = _P.build(s, 0)
        with torch.no_grad():
            for mod, name, q in ((rnn, "weight_ih_l0", self.p[0]), (rnn, "weight_hh_l0", self.p[1]),
                                 (rnn, "bias_ih_l0", self.p[2]), (rnn, "bias_hh_l0", self.p[3]),
                                 (out, "weight", self.p[4]), (out, "bias", self.p[5])):
                getattr(mod, name).copy_(q[k])
        return rnn, out


def _loss(y: torch.Tensor, target: torch.Tensor, kind: str) -> torch.Tensor:
    """Per-string loss ``(K, B)`` of logits/outputs ``y (K, B, 2)`` against parities ``target (K, B)``."""
    if kind == "ce":
        return torch.nn.functional.cross_entropy(y.transpose(1, 2), target, reduction="none")
    return ((y - torch.nn.functional.one_hot(target, 2).float()) ** 2).mean(2)


def _assemble(s: ParitySetting, seed: int, recs: list, stopped: str, seconds: float) -> _P.ParityRun:
    long = {L: np.array([r["long"][L] for r in recs]) for L in _P.LONG_LENGTHS}
    return _P.ParityRun(s, seed, np.array([r["epoch"] for r in recs]), np.array([r["train"] for r in recs]),
                        {L: v[:, 0] for L, v in long.items()}, {L: v[:, 1] for L, v in long.items()},
                        np.stack([r["states"] for r in recs]), np.stack([r["w"] for r in recs]),
                        np.stack([r["b"] for r in recs]), stopped, seconds)


def train_batch(trials, done=None) -> list[_P.ParityRun]:
    """Train every ``(setting, seed)`` of ``trials`` together (see the module docstring) and return their
    :class:`reptheory.sequel.parity.ParityRun` records in order. ``done(j, run)``, if given, is called with the
    index in ``trials`` and the run as each trial ends (its stop, its divergence or the epoch cap).

    >>> from reptheory.configs import ParitySetting
    >>> s = ParitySetting(width=4, max_len=2, epochs=4, track_every=2, track_long=False)
    >>> [r.epochs.tolist() for r in train_batch([(s, 0), (s, 1)])]
    [[0, 2, 4], [0, 2, 4]]
    """
    trials = _check(trials)
    torch.set_num_threads(1)
    s0 = trials[0][0]
    t0 = time.perf_counter()
    K, L_max = len(trials), s0.max_len
    nets = [_P.build(s, seed) for s, seed in trials]
    stack = _Stack(nets, s0.nonlinearity)
    X = {L: _P._onehot(_P.strings(L)) for L in range(1, L_max + 1)}
    Y = {L: torch.from_numpy(_P.parity(_P.strings(L))) for L in range(1, L_max + 1)}
    weights = 2 ** np.arange(L_max - 1, -1, -1)
    member = {L: torch.zeros(K, 2**L) for L in range(1, L_max + 1)}    # 1 where a string is a trial's training string
    index = {L: [] for L in range(1, L_max + 1)}
    for k, (s, seed) in enumerate(trials):
        for L, x in _P._train_sets(s, seed).items():
            v = torch.from_numpy(x @ weights[L_max - L:])
            member[L][k, v] = 1.0
        for L in range(1, L_max + 1):
            index[L].append(torch.nonzero(member[L][k]).flatten())
    n_train = torch.stack([member[L].sum(1) for L in member]).sum(0)
    gens = [torch.Generator().manual_seed(seed) for _, seed in trials]
    tests = _P.long_strings()
    active = list(range(K))                       # trial numbers still training, in stack order
    recs: list = [[] for _ in range(K)]
    result: list = [None] * K

    def train_loss() -> torch.Tensor:
        levels = stack.tree(s0.h0, L_max)
        rows = torch.tensor(active)
        total = torch.zeros(len(active))
        with torch.no_grad():
            for L in range(1, L_max + 1):
                y = stack.readout(levels[L])
                total += (_loss(y, Y[L].expand(len(active), -1), s0.loss) * member[L][rows]).sum(1)
        return total / n_train[rows]

    def record(pos: int, k: int, epoch: int, loss: float, long: bool) -> None:
        s, _ = trials[k]
        rnn, out = stack.to_modules(pos, s)
        recs[k].append({"epoch": epoch, "train": loss, "states": _P._prefix_states(rnn, s.h0, L_max),
                        "w": out.weight.detach().numpy().copy(), "b": out.bias.detach().numpy().copy(),
                        "long": {L: _P.evaluate(rnn, out, s.h0, x, s.loss) if long else (np.nan, np.nan)
                                 for L, x in tests.items()}})

    start = train_loss()
    first = {k: float(start[pos]) for pos, k in enumerate(active)}
    for pos, k in enumerate(active):
        record(pos, k, 0, first[k], True)

    def finish(pos: int, k: int, epoch: int, loss: float, stopped: str) -> None:
        record(pos, k, epoch, loss, True)
        s, seed = trials[k]
        result[k] = _assemble(s, seed, recs[k], stopped, (time.perf_counter() - t0) / K)
        recs[k] = None
        if done is not None:
            done(k, result[k])

    for e in range(1, s0.epochs + 1):
        for L in range(1, L_max + 1):
            perms = [index[L][k][torch.randperm(len(index[L][k]), generator=gens[k])] for k in active]
            n_batches = max((len(q) + s0.batch_size - 1) // s0.batch_size for q in perms)
            for j in range(n_batches):
                chunks = [q[j * s0.batch_size:(j + 1) * s0.batch_size] for q in perms]
                B = max(len(c) for c in chunks)
                ind = torch.zeros(len(active), B, dtype=torch.long)
                scale = torch.zeros(len(active), B)
                for pos, c in enumerate(chunks):
                    ind[pos, :len(c)] = c
                    scale[pos, :len(c)] = 1.0 / max(len(c), 1)
                x, y = X[L][ind], Y[L][ind]
                h = torch.full((len(active), B, s0.width), float(s0.h0))
                for t in range(L):
                    h = stack.step(h, x[:, :, t])
                loss = (_loss(stack.readout(h), y, s0.loss) * scale).sum()
                for q in stack.p:
                    q.grad = None
                loss.backward()
                if s0.optimizer == "adam":
                    stack.adam(s0.lr, torch.tensor([len(c) > 0 for c in chunks]))
                    continue
                with torch.no_grad():
                    for q in stack.p:
                        q -= s0.lr * q.grad
        cur = train_loss()
        ended = []
        for pos, k in enumerate(active):
            c = float(cur[pos])
            stopped = _stop.verdict(c, first[k], s0.stop_loss)
            if stopped or e == s0.epochs:
                finish(pos, k, e, c, stopped)
                ended.append(pos)
            elif e % s0.track_every == 0:
                record(pos, k, e, c, s0.track_long)
        if ended:
            keep = [pos for pos in range(len(active)) if pos not in ended]
            active = [active[pos] for pos in keep]
            if not active:
                break
            stack.keep(torch.tensor(keep))
    return result


def train(s: ParitySetting, seed: int) -> _P.ParityRun:
    """One trial: :func:`train_batch` on ``[(s, seed)]``.

    >>> from reptheory.configs import ParitySetting
    >>> r = train(ParitySetting(width=4, max_len=2, epochs=3, track_every=1, track_long=False), 0)
    >>> r.epochs.tolist(), r.states.shape
    ([0, 1, 2, 3], (4, 7, 4))
    """
    return train_batch([(s, seed)])[0]


_KIND = "parity_run"


def _train_group(trials) -> None:
    """Train the trials of one group that the cache lacks, in one batch, and store each as it ends."""
    from reptheory import cache
    cache.fill(_KIND, [_P._description(s, seed) for s, seed in trials],
               lambda todo, done: train_batch([trials[i] for i in todo], done), lambda r: r.to_arrays())


def runs(settings, group_size: int = 6, n_jobs: int | None = None, progress: bool | None = None) -> dict:
    """Every seed of every setting, trained with :func:`train_batch` in groups of at most ``group_size`` trials
    that share :func:`group_key` (groups run in parallel), each trial cached on its own; ``{(name, seed): run}``."""
    from reptheory import cache, parallel
    settings = [settings] if isinstance(settings, ParitySetting) else list(settings)
    group_size = _v.integer("group_size", group_size, 1)
    groups: dict = {}
    for s in settings:
        for seed in s.seeds:
            groups.setdefault(group_key(s), []).append((s, seed))
    jobs = [(g[i:i + group_size],) for g in groups.values() for i in range(0, len(g), group_size)]
    # longest first, so that the workers finish together: cost ~ epoch cap × training strings × trials
    jobs.sort(key=lambda job: -sum(s.epochs * s.frac * 2**s.max_len for s, _ in job[0]))
    parallel.run(_train_group, jobs, n_jobs, progress, "parity trials", keep=False)
    out = {}
    for s in settings:
        for seed in s.seeds:
            a = cache.cached(_KIND, _P._description(s, seed), lambda: train(s, seed).to_arrays())
            out[s.name, seed] = _P.ParityRun.from_arrays(a, s, seed)
    return out
