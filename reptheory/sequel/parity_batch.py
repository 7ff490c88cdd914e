"""Many streaming-parity trials trained as one batched model (the sequel's phase diagrams).

Trials that share the network, the optimiser and the stopping rule, and differ only in the initial gain, the data
fraction and the seed, are trained together: their parameters are stacked along a leading trial axis and one
batched recurrence (``torch.baddbmm``) steps all of them, so that the per-step overhead of a small RNN is paid
once per group instead of once per trial (2-2.5x fewer seconds per trial-epoch at small data fractions, 1.5x on
all the data, for 6 trials on this machine's CPUs).

Each trial sees exactly the minibatches that :func:`reptheory.sequel.parity.train` gives it: its own training subset,
its own generator for the per-length shuffles, batches of ``batch`` strings of one length, lengths in increasing
order. A trial with fewer batches of a length sits the extra steps out (zero gradient; plain SGD without
momentum then leaves it unchanged). The two engines therefore agree to float32 rounding (tested). Every epoch the
training loss of every trial is computed exactly from the hidden states of the prefix tree (each string's state
is its full-length node), a trial stops once it is below ``stop_loss`` or diverges (the rule of
:func:`reptheory.sequel.parity.train`), and it leaves the batch.

Records: the first epoch and each trial's last (the settings must have ``track_every >= epochs`` and
``track_long = False``); ``seconds`` is the group's wall time shared equally among its trials.
"""
from __future__ import annotations

import time

import numpy as np
import torch

from reptheory import validate as _v
from reptheory.configs import ParitySetting
from reptheory.networks import stop as _stop
from reptheory.sequel import parity as _P

__all__ = ["group_key", "unbatchable", "train_batch", "runs"]


def group_key(s: ParitySetting) -> tuple:
    """The fields that trials trained together must share: everything but the name, note, gain and seeds."""
    d = s.run_fields()
    del d["gain"]
    return tuple(sorted(d.items()))


def unbatchable(s: ParitySetting) -> str:
    """Why the batched engine cannot train ``s`` (``""`` if it can): it covers plain SGD on the ReLU RNN,
    recording the first and the last epoch only.

    >>> from reptheory.configs import ParitySetting
    >>> unbatchable(ParitySetting(epochs=100, track_every=100, track_long=False))
    ''
    >>> unbatchable(ParitySetting(epochs=100, track_every=10, track_long=False))[:40]
    'the batched engine records only the firs'
    """
    if s.optimizer != "sgd":
        return f"the batched engine covers plain SGD only, not optimizer = {s.optimizer!r}"
    if s.nonlinearity != "relu":
        return f"the batched engine covers the ReLU RNN only, not nonlinearity = {s.nonlinearity!r}"
    if s.track_every < s.epochs or s.track_long:
        return ("the batched engine records only the first and last epoch: it needs "
                f"track_every >= epochs and track_long = False (setting {s.name!r})")
    return ""


def _check(trials) -> list:
    trials = list(trials)
    if not trials:
        raise ValueError("trials must be a non-empty list of (ParitySetting, seed) pairs")
    for s, seed in trials:
        if not isinstance(s, ParitySetting):
            raise TypeError(f"trials must hold ParitySetting objects, got {type(s).__name__}")
        _v.integer("seed", seed, 0)
        if unbatchable(s):
            raise ValueError(unbatchable(s))
    keys = {group_key(s) for s, _ in trials}
    if len(keys) != 1:
        raise ValueError("trials trained together must differ only in gain and seed (and name); "
                         f"got {len(keys)} different groups")
    return trials


class _Stack:
    """The stacked parameters of the active trials (leaf tensors, one row per trial)."""

    NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "out_w", "out_b")

    def __init__(self, nets):
        rows = [(r.weight_ih_l0, r.weight_hh_l0, r.bias_ih_l0, r.bias_hh_l0, o.weight, o.bias) for r, o in nets]
        self.p = [torch.stack([row[i].detach() for row in rows]).clone().requires_grad_() for i in range(6)]

    def keep(self, rows: torch.Tensor) -> None:
        self.p = [q.detach()[rows].clone().requires_grad_() for q in self.p]

    def step(self, h: torch.Tensor, x_t: torch.Tensor) -> torch.Tensor:
        """One ReLU recurrence for every trial: ``h (K, B, H)``, ``x_t (K, B, 2)``."""
        w_ih, w_hh, b_ih, b_hh, _, _ = self.p
        return torch.relu(torch.baddbmm((b_ih + b_hh).unsqueeze(1), h, w_hh.transpose(1, 2))
                          + torch.bmm(x_t, w_ih.transpose(1, 2)))

    def readout(self, h: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(self.p[5].unsqueeze(1), h, self.p[4].transpose(1, 2))

    def tree(self, h0: float, max_len: int) -> list[torch.Tensor]:
        """Hidden states of every prefix, level by level: ``[(K, 2^t, H) for t = 0 … max_len]`` (no gradient)."""
        with torch.no_grad():
            w_ih, w_hh, b_ih, b_hh, _, _ = self.p
            K, H = w_hh.shape[0], w_hh.shape[1]
            levels = [torch.full((K, 1, H), float(h0))]
            for _ in range(max_len):
                pre = torch.baddbmm((b_ih + b_hh).unsqueeze(1), levels[-1], w_hh.transpose(1, 2))
                kids = torch.stack([pre + w_ih[:, None, :, 0], pre + w_ih[:, None, :, 1]], dim=2)   # value 2v + σ
                levels.append(torch.relu(kids.reshape(K, -1, H)))
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


def train_batch(trials) -> list[_P.ParityRun]:
    """Train every ``(setting, seed)`` of ``trials`` together (see the module docstring) and return their
    :class:`reptheory.sequel.parity.ParityRun` records in order: the first epoch and the last one."""
    trials = _check(trials)
    torch.set_num_threads(1)
    s0 = trials[0][0]
    t0 = time.perf_counter()
    K, L_max = len(trials), s0.max_len
    nets = [_P.build(s, seed) for s, seed in trials]
    stack = _Stack(nets)
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
    result: list = [None] * K
    first = {}

    def train_loss() -> torch.Tensor:
        levels = stack.tree(s0.h0, L_max)
        rows = torch.tensor(active)
        total = torch.zeros(len(active))
        with torch.no_grad():
            for L in range(1, L_max + 1):
                y = stack.readout(levels[L])
                total += (_loss(y, Y[L].expand(len(active), -1), s0.loss) * member[L][rows]).sum(1)
        return total / n_train[rows]

    def record(pos: int, k: int, epoch: int, loss: float) -> dict:
        s, _ = trials[k]
        rnn, out = stack.to_modules(pos, s)
        long = {L: _P.evaluate(rnn, out, s.h0, x, s.loss) for L, x in tests.items()}
        return {"epoch": epoch, "train": loss, "states": _P._prefix_states(rnn, s.h0, L_max),
                "w": out.weight.detach().numpy().copy(), "b": out.bias.detach().numpy().copy(), "long": long}

    start = train_loss()
    for pos, k in enumerate(active):
        first[k] = record(pos, k, 0, float(start[pos]))

    def finish(pos: int, k: int, epoch: int, loss: float, stopped: str) -> None:
        result[k] = (first[k], record(pos, k, epoch, loss), stopped)

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
                with torch.no_grad():
                    for q in stack.p:
                        q -= s0.lr * q.grad
        cur = train_loss()
        done = []
        for pos, k in enumerate(active):
            c = float(cur[pos])
            stopped = _stop.verdict(c, first[k]["train"], s0.stop_loss)
            if stopped or e == s0.epochs:
                finish(pos, k, e, c, stopped)
                done.append(pos)
        if done:
            keep = [pos for pos in range(len(active)) if pos not in done]
            active = [active[pos] for pos in keep]
            if not active:
                break
            stack.keep(torch.tensor(keep))
    seconds = (time.perf_counter() - t0) / K
    runs = []
    for k, (s, seed) in enumerate(trials):
        a, b, stopped = result[k]
        recs = (a, b)
        runs.append(_P.ParityRun(
            s, seed, np.array([r["epoch"] for r in recs]), np.array([r["train"] for r in recs]),
            {L: np.array([r["long"][L][0] for r in recs]) for L in _P.LONG_LENGTHS},
            {L: np.array([r["long"][L][1] for r in recs]) for L in _P.LONG_LENGTHS},
            np.stack([r["states"] for r in recs]), np.stack([r["w"] for r in recs]),
            np.stack([r["b"] for r in recs]), stopped, seconds))
    return runs


_KIND = "parity_run_batched"


def _train_group(trials) -> None:
    """Train the trials of one group that the cache lacks, in one batch, and store each."""
    from reptheory import cache
    todo = [(s, seed) for s, seed in trials if not cache.exists(_KIND, _P._description(s, seed))]
    if not todo:
        return
    for r in train_batch(todo):
        cache.cached(_KIND, _P._description(r.setting, r.seed), lambda r=r: r.to_arrays())


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
    parallel.run(_train_group, jobs, n_jobs, progress, "parity trials (batched)", keep=False)
    out = {}
    for s in settings:
        for seed in s.seeds:
            a = cache.cached(_KIND, _P._description(s, seed), lambda: train_batch([(s, seed)])[0].to_arrays())
            out[s.name, seed] = _P.ParityRun.from_arrays(a, s, seed)
    return out
