"""Streaming parity (van Rossem & Saxe, ICML 2025, arXiv:2507.09897, Sec. 2 and App. C.1).

Task: read a binary string one symbol at a time (one-hot, 2-d) and output, after the last symbol, the parity
of the number of 1s (one-hot, 2-d: index 0 even, 1 odd); many-to-one, MSE. Training data: every string of
length 1 … ``max_len`` (2046 for 10). Model: one ``torch.nn.RNN`` layer (ReLU, ``hidden`` units) and a
linear readout, Xavier-normal weights of gain ``gain``, zero biases, a fixed initial state ``h0`` (all
ones in the paper: with zeros the net stays at the zero fixed point). SGD on minibatches of ``batch`` strings
of one length at a time (one shuffled loader per length, lengths in increasing order every epoch).

A run records every ``track_every`` epochs: the training loss, the loss and accuracy on random strings of
:data:`LONG_LENGTHS`, and the hidden states of every prefix of the training strings (float32), from which
:mod:`reptheory.sequel.automata` extracts the automaton.
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np
import torch

from reptheory.networks import stop as _stop

__all__ = ["ParitySetting", "PARITY_PAPER", "PROFILES", "get", "settings_table", "settings_rows", "GRID_MAX_LEN",
           "GRID_GAINS", "GRID_GAINS_FRACTION", "GRID_LONG_MAX_LEN", "PHASE_GRID", "PHASE_LOSSES", "phase_grid",
           "phase_names", "strings", "parity", "prefix_index", "build", "ParityRun", "train", "run", "runs",
           "LONG_LENGTHS", "long_strings", "evaluate", "initial_scale"]

#: test lengths for the loss and accuracy curves (the paper's Fig. 1 and 6 go to 10,000)
LONG_LENGTHS = (25, 100, 1000, 10000)


@dataclass(frozen=True)
class ParitySetting:
    """One streaming-parity run (App. C.1 defaults). ``frac``: fraction of each length's strings kept for
    training (each string kept with probability ``frac``, so a length keeps Binomial(2^L, frac) strings, a fixed
    random subset per seed); ``loss``: ``"mse"`` (App. C.1: MSE on the one-hot parity) or ``"ce"`` (cross-entropy,
    the sequel's Fig. 9 grid); ``stop_loss``: stop once the training loss (of that kind) is below it."""

    name: str = "parity"               # the run's name in a profile
    hidden: int = 100                  # RNN hidden units
    act: str = "relu"                  # activation of the recurrence
    gain: float = 0.1                  # Xavier-normal gain of every weight: std = gain·sqrt(2/(fan-in + fan-out))
    h0: float = 1.0                    # initial hidden state (every unit)
    lr: float = 0.02                   # step size of SGD or Adam (per minibatch)
    batch: int = 128                   # strings per minibatch
    epochs: int = 800                  # passes over the training strings
    max_len: int = 10                  # longest training string (lengths 1 ... max_len)
    frac: float = 1.0                  # fraction of each length's strings kept for training
    optimizer: str = "sgd"             # "sgd" or "adam"
    loss: str = "mse"                  # "mse" (on the one-hot parity) or "ce" (cross-entropy)
    stop_loss: float | None = None     # stop once the training loss is below it; None: run every epoch
    track_every: int = 10              # epochs between records
    track_long: bool = True            # False: the long-string losses only at the first and last record
    seeds: tuple = (0, 1, 2)           # one run per seed (initialisation, data subset, minibatch order)
    note: str = dataclasses.field(default="", compare=False)   # why the profile changed the run

    def __post_init__(self):
        def bad(f, allowed):
            raise ValueError(f"parity setting {self.name!r}: {f} = {getattr(self, f)!r} is not allowed "
                             f"(allowed: {allowed})")
        for f, lo, hi in (("hidden", 1, 4096), ("batch", 1, 1 << 20), ("epochs", 1, 10**7), ("max_len", 1, 16),
                          ("track_every", 1, 10**7)):
            v = getattr(self, f)
            if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
                bad(f, f"an integer in [{lo}, {hi}]")
        for f in ("gain", "lr"):
            v = getattr(self, f)
            if not isinstance(v, (int, float)) or not 0 < v < float("inf"):
                bad(f, "a finite number > 0")
        if not isinstance(self.h0, (int, float)) or not abs(self.h0) < float("inf"):
            bad("h0", "a finite number")
        if not isinstance(self.frac, (int, float)) or not 0 < self.frac <= 1:
            bad("frac", "a number in (0, 1]")
        if self.act not in ("relu", "tanh"):
            bad("act", "relu, tanh")
        if self.optimizer not in ("sgd", "adam"):
            bad("optimizer", "sgd, adam")
        if self.loss not in ("mse", "ce"):
            bad("loss", "mse, ce")
        if self.stop_loss is not None and not (isinstance(self.stop_loss, (int, float)) and self.stop_loss > 0):
            bad("stop_loss", "None or a number > 0")
        if not self.seeds or not all(isinstance(s, int) and s >= 0 for s in self.seeds):
            bad("seeds", "a non-empty tuple of integers >= 0")


#: App. C.1 exactly: ReLU, 100 units, gain 0.1, h0 = 1, SGD lr 0.02, batch 128, strings of length 1-10, 1000 epochs
PARITY_PAPER = ParitySetting(name="parity", epochs=1000, seeds=(0, 1, 2))

_GRID_NOTE = ("not in the paper: the cheap stand-in for its Fig. 9 (which varies the data fraction and the gain "
              "with a cross-entropy loss on a GPU): all strings up to max_len, MSE, stop at MSE < 1e-4")


def _profiles() -> dict:
    default = dataclasses.replace(PARITY_PAPER, epochs=800,
                                  note="CI budget: 800 epochs (paper: 1000; the transition is near epoch 550)")
    extra = {"parity_h0_zero": dataclasses.replace(default, name="parity_h0_zero", h0=0.0, seeds=(0,),
                                                   track_every=50, track_long=False,
                                                   note="not in the paper: h0 = 0 instead of all ones")}
    for L in GRID_MAX_LEN:
        for g in GRID_GAINS:
            extra[f"grid/L{L}/g{g:g}"] = ParitySetting(
                name=f"grid/L{L}/g{g:g}", max_len=L, gain=g, epochs=4000, stop_loss=1e-4, track_every=4000,
                track_long=False, seeds=(0, 1, 2, 3), note=_GRID_NOTE)
    for L in GRID_LONG_MAX_LEN:
        name = f"grid_long/L{L}/g{GRID_GAINS[0]:g}"
        extra[name] = dataclasses.replace(
            extra[f"grid/L{L}/g{GRID_GAINS[0]:g}"], name=name, stop_loss=None,
            note="not in the paper: the smallest gain's grid runs trained for the whole 4000 epochs instead of "
                 "stopping at MSE < 1e-4 (is the stopping rule what holds it back?)")
    for g in GRID_GAINS_FRACTION:
        extra[f"fraction/g{g:g}"] = ParitySetting(
            name=f"fraction/g{g:g}", frac=0.5, gain=g, epochs=2000, stop_loss=1e-4, track_every=2000,
            track_long=False, seeds=(0, 1, 2), note="not in the paper: half of each length's strings (a point of "
                                                     "its Fig. 9's data-fraction axis), MSE, at most 2000 epochs")
    profiles = {}
    for prof, base in (("paper", PARITY_PAPER), ("default", default)):
        table = {"parity": base} | extra
        gains, fractions, cap = PHASE_GRID[prof]
        for loss in PHASE_LOSSES:
            for g in gains:
                for p in fractions:
                    name = f"phase/{loss}/g{g:g}/p{p:g}"
                    table[name] = ParitySetting(
                        name=name, gain=g, frac=p, loss=loss, epochs=cap, stop_loss=1e-3, track_every=cap,
                        track_long=False, seeds=(0, 1, 2), note=_PHASE_NOTE[loss] + _PHASE_CAP[prof])
        profiles[prof] = table
    return profiles


#: Chapter S2's grid: longest training length × initial gain (4 seeds each), and two data-fraction points
GRID_MAX_LEN = (2, 3, 4, 5, 6, 8)
GRID_GAINS = (0.1, 0.3, 0.5, 1.0)
GRID_GAINS_FRACTION = (0.1, 1.0)
GRID_LONG_MAX_LEN = (6,)
#: the sequel's Fig. 9 as the authors drew it: initial gain × data fraction, per profile (gains, fractions,
#: epoch cap); both losses; 3 seeds per cell (the authors ran one)
PHASE_GRID = {"default": ((0.1, 1.0), (0.3, 0.5, 0.7), 3000),
              "paper": (tuple(round(float(g), 4) for g in np.linspace(0.1, 1.0, 20)),
                        tuple(round(float(p), 4) for p in np.linspace(0.1, 1.0, 20)), 10**6)}
PHASE_LOSSES = ("ce", "mse")
_PHASE_NOTE = {"ce": "the sequel's Fig. 9 protocol: cross-entropy, stop at training loss < 1e-3; 3 seeds (the authors "
                     "ran 1); accuracy on 100 random strings of length 100 (theirs: 30)",
               "mse": "the book's variant of the Fig. 9 protocol: MSE on the one-hot parity (as App. C.1), stop at "
                      "training loss < 1e-3; 3 seeds; accuracy on 100 random strings of length 100"}
_PHASE_CAP = {"default": (f"; CI budget: at most {PHASE_GRID['default'][2]} epochs (the authors: 10^6) on a "
                          f"{len(PHASE_GRID['default'][0])} × {len(PHASE_GRID['default'][1])} grid (theirs: 20 × 20)"),
              "paper": ""}
PROFILES = _profiles()


def phase_grid(profile: str | None = None) -> tuple:
    """The data-fraction × gain grid of ``profile``: ``(gains, fractions, epoch cap)``."""
    from reptheory.configs import profile_name
    return PHASE_GRID[profile_name(profile)]


def phase_names(loss: str, profile: str | None = None) -> dict:
    """The names of the data-fraction × gain grid's settings for ``loss``: ``{(gain, fraction): name}``."""
    if loss not in PHASE_LOSSES:
        raise ValueError(f"loss must be one of {', '.join(PHASE_LOSSES)}, got {loss!r}")
    gains, fractions, _ = phase_grid(profile)
    return {(g, p): f"phase/{loss}/g{g:g}/p{p:g}" for g in gains for p in fractions}


def get(name: str, profile: str | None = None) -> ParitySetting:
    """A parity setting by name in ``profile`` (default ``$REPTHEORY_PROFILE`` or ``default``)."""
    from reptheory.configs import profile_name
    table = PROFILES[profile_name(profile)]
    if name not in table:
        raise KeyError(f"unknown parity setting {name!r}; known: {', '.join(table)}")
    return table[name]


_SHOWN = ("hidden", "act", "gain", "h0", "lr", "batch", "epochs", "max_len", "frac", "optimizer", "loss", "stop_loss",
          "seeds")


def settings_table(names, profile: str | None = None) -> str:
    """Markdown table of parity settings beside App. C.1's values (``value (paper: x)`` where they differ)."""
    lines = ["| setting | " + " | ".join(_SHOWN) + " | deviation from the paper |", "|---|" + "---|" * (len(_SHOWN) + 1)]
    for n in names:
        st = get(n, profile)
        paper = PARITY_PAPER if n == "parity" else None
        cells = []
        for f in _SHOWN:
            v = getattr(st, f)
            cells.append(f"**{v}** (paper: {getattr(paper, f)})" if paper is not None and v != getattr(paper, f)
                         else str(v))
        lines.append(f"| {n} | " + " | ".join(cells) + f" | {st.note or 'none'} |")
    lines += ["", "Paper's exact settings: set `REPTHEORY_PROFILE=paper` before running the notebook."]
    return "\n".join(lines)


def _paper_counterpart(name: str, st: ParitySetting) -> ParitySetting | None:
    """What the paper ran in place of ``st``: App. C.1 for the main run, the authors' Fig. 9 protocol (their cap
    and stopping rule, at this cell's gain and fraction) for a phase-diagram cell, nothing for the book's own."""
    if name == "parity":
        return PARITY_PAPER
    if name.startswith("phase/"):
        ref = next(v for k, v in PROFILES["paper"].items() if k.startswith(f"phase/{st.loss}/"))
        return dataclasses.replace(ref, name=name, gain=st.gain, frac=st.frac)
    return None


def settings_rows(names, profile: str | None = None) -> list[dict]:
    """The settings ``names`` as table rows (for :func:`reptheory.presentation.display.html_table`): each field's value, with
    the paper's beside it where they differ (``3000 (paper: 1000000)``), and the stated deviation."""
    rows = []
    for n in names:
        st = get(n, profile)
        paper = _paper_counterpart(n, st)
        row = {"setting": n}
        for f in _SHOWN:
            v, ref = getattr(st, f), None if paper is None else getattr(paper, f)
            row[f] = f"{v} (paper: {ref})" if paper is not None and v != ref else str(v)
        row["deviation from the paper"] = st.note or "none"
        rows.append(row)
    return rows


def strings(length: int) -> np.ndarray:
    """All ``2**length`` binary strings of ``length`` in lexicographic order (first symbol most significant),
    shape ``(2**length, length)``, dtype int64."""
    if not isinstance(length, int) or not 0 <= length <= 20:
        raise ValueError(f"length must be an integer in [0, 20], got {length!r}")
    n = np.arange(2**length)
    return ((n[:, None] >> np.arange(length - 1, -1, -1)[None, :]) & 1).astype(np.int64)


def parity(s: np.ndarray) -> np.ndarray:
    """Parity (0 even, 1 odd) of each row of ``s``."""
    return (np.asarray(s).sum(axis=-1) % 2).astype(np.int64)


def prefix_index(max_len: int) -> list[tuple[int, int]]:
    """The prefixes of the training strings as ``(length, value)`` pairs, length 0 (the empty prefix) to
    ``max_len``, in the order :func:`ParityRun.states` uses; ``value`` is the prefix read as a binary number."""
    return [(t, v) for t in range(max_len + 1) for v in range(2**t)]


def build(s: ParitySetting, seed: int) -> tuple[torch.nn.RNN, torch.nn.Linear]:
    """The RNN and its readout, initialised as in App. C.1 (Xavier-normal with ``s.gain``, zero biases)."""
    g = torch.Generator().manual_seed(seed)
    rnn = torch.nn.RNN(2, s.hidden, nonlinearity=s.act, batch_first=True)
    out = torch.nn.Linear(s.hidden, 2)
    with torch.no_grad():
        for w in (rnn.weight_ih_l0, rnn.weight_hh_l0, out.weight):
            fan_out, fan_in = w.shape
            std = s.gain * np.sqrt(2.0 / (fan_in + fan_out))
            w.copy_(torch.randn(w.shape, generator=g) * std)
        for b in (rnn.bias_ih_l0, rnn.bias_hh_l0, out.bias):
            b.zero_()
    return rnn, out


def initial_scale(s: ParitySetting | None = None, seed: int = 0) -> float:
    """The standard deviation of the untrained network's hidden states for the two length-1 inputs ("0" and
    "1"): the std over all ``2 × hidden`` entries, for the net of setting ``s`` (default :data:`PARITY_PAPER`)
    built from ``seed``. The sequel's fixed-expansion model starts at this scale.

    >>> round(initial_scale(), 3)
    0.061
    """
    s = PARITY_PAPER if s is None else s
    if not isinstance(s, ParitySetting):
        raise TypeError(f"s must be a ParitySetting, got {type(s).__name__}")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    rnn, _ = build(s, int(seed))
    with torch.no_grad():
        h = _hidden(rnn, _onehot(np.array([[0], [1]])), s.h0)[:, -1]
    return float(h.std())


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
    states: np.ndarray                 # (K, n_prefixes, hidden) float32
    readout_w: np.ndarray              # (K, 2, hidden): the readout at each record (outputs of states)
    readout_b: np.ndarray              # (K, 2)
    stopped: str                       # "", "converged" (stop_loss) or "diverged"
    seconds: float

    def outputs(self, k: int) -> np.ndarray:
        """Readout class (0 even, 1 odd) of every prefix state at record ``k``."""
        return (self.states[k] @ self.readout_w[k].T + self.readout_b[k]).argmax(1)


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


def train(s: ParitySetting, seed: int) -> ParityRun:
    """Train ``s`` from seed ``seed`` (one torch thread), recording every ``s.track_every`` epochs and at the
    end. A non-finite or exploding loss stops the run as ``diverged``."""
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    rnn, out = build(s, seed)
    params = list(rnn.parameters()) + list(out.parameters())
    opt = (torch.optim.SGD if s.optimizer == "sgd" else torch.optim.Adam)(params, lr=s.lr)
    data = _train_sets(s, seed)
    tensors = {L: (_onehot(x), torch.from_numpy(parity(x))) for L, x in data.items()}
    all_x = [x for x in data.values()]
    tests = long_strings()
    gen = torch.Generator().manual_seed(seed)
    rec = {"epoch": [], "train": [], "states": [], "w": [], "b": []}
    long_loss = {L: [] for L in LONG_LENGTHS}
    long_acc = {L: [] for L in LONG_LENGTHS}
    t0 = time.perf_counter()

    def record(e, final=False):
        n = sum(len(x) for x in all_x)
        loss = sum(evaluate(rnn, out, s.h0, x, s.loss)[0] * len(x) for x in all_x) / n
        rec["epoch"].append(e)
        rec["train"].append(loss)
        rec["states"].append(_prefix_states(rnn, s.h0, s.max_len))
        rec["w"].append(out.weight.detach().numpy().copy())
        rec["b"].append(out.bias.detach().numpy().copy())
        for L, x in tests.items():
            ls, acc = evaluate(rnn, out, s.h0, x, s.loss) if (s.track_long or e == 0 or final) else (np.nan, np.nan)
            long_loss[L].append(ls)
            long_acc[L].append(acc)
        return loss

    stopped = ""
    first = record(0)
    for e in range(1, s.epochs + 1):
        for L, (x, y) in tensors.items():
            for idx in torch.randperm(len(x), generator=gen).split(s.batch):
                h = _hidden(rnn, x[idx], s.h0)[:, -1]
                loss = _loss(out(h), y[idx], s.loss)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
        last = e == s.epochs
        if e % s.track_every == 0 or last or s.stop_loss is not None:
            cur = sum(evaluate(rnn, out, s.h0, x, s.loss)[0] * len(x) for x in all_x) / sum(len(x) for x in all_x)
            stopped = _stop.verdict(cur, first, s.stop_loss) or stopped
            if stopped or last:
                record(e, final=True)
                break
            if e % s.track_every == 0:
                record(e)
    return ParityRun(s, seed, np.array(rec["epoch"]), np.array(rec["train"]),
                     {L: np.array(v) for L, v in long_loss.items()}, {L: np.array(v) for L, v in long_acc.items()},
                     np.stack(rec["states"]), np.stack(rec["w"]), np.stack(rec["b"]), stopped,
                     time.perf_counter() - t0)


def _desc(s: ParitySetting) -> dict:
    d = dataclasses.asdict(s)
    del d["name"], d["note"], d["seeds"]
    return d


def _description(s: ParitySetting, seed: int) -> dict:
    """The cache description of one run: every setting that decides it, and the seed."""
    return {"setting": _desc(s), "seed": seed}


def _arrays(r: ParityRun) -> dict:
    """A run as the flat dict of arrays the cache stores."""
    arrays = {"epochs": r.epochs, "train_loss": r.train_loss, "states": r.states, "readout_w": r.readout_w,
              "readout_b": r.readout_b, "stopped": r.stopped, "seconds": r.seconds}
    for L in LONG_LENGTHS:
        arrays[f"loss_{L}"], arrays[f"acc_{L}"] = r.long_loss[L], r.long_acc[L]
    return arrays


def _from_arrays(s: ParitySetting, seed: int, a: dict) -> ParityRun:
    return ParityRun(s, seed, a["epochs"], a["train_loss"], {L: a[f"loss_{L}"] for L in LONG_LENGTHS},
                     {L: a[f"acc_{L}"] for L in LONG_LENGTHS}, a["states"], a["readout_w"], a["readout_b"],
                     str(a["stopped"]), float(a["seconds"]))


def run(s: ParitySetting, seed: int) -> ParityRun:
    """:func:`train`, cached on disk (:mod:`reptheory.cache`) by the setting and the seed."""
    from reptheory import cache
    return _from_arrays(s, seed, cache.cached("parity_run", _description(s, seed), lambda: _arrays(train(s, seed))))


def runs(settings, n_jobs: int | None = None, progress: bool | None = None) -> dict:
    """Every seed of every setting in ``settings`` (trained in parallel, then loaded): ``{(name, seed): run}``."""
    from reptheory import parallel
    settings = [settings] if isinstance(settings, ParitySetting) else list(settings)
    jobs = [(s, seed) for s in settings for seed in s.seeds]
    parallel.run(run, jobs, n_jobs, progress, "parity runs", keep=False)
    return {(s.name, seed): run(s, seed) for s, seed in jobs}
