"""Why the Fig. 5 CNN sticks: a controlled experiment on the paper's CNN (Table 1, "convolution").

The CNN (:class:`reptheory.networks.models.TwoPointNet` with ``arch="cnn"``) sends its signal through one
convolution with a single output channel (20 → 1 channels) before the read-out, followed, like every hidden
layer, by the leaky ReLU (negative slope 0.01). That channel's units share one bias. If every one of its
pre-activations is negative for both points, the gradient reaching everything below it is multiplied by 0.01,
and the outputs of the two points can only separate about 100 times more slowly: the network sits on the
mean-only plateau (both outputs at the targets' mean, loss ``||Δy||²/8``).

The experiment trains the same networks (seed by seed the same initial weights, from
:func:`reptheory.networks.models.build`) in three forms, :data:`VARIANTS`: as in the paper; with the
activation after the one-channel convolution removed (the identity there, and only there); and, as the control,
with the activation after a middle convolution removed instead. Each run is the Fig. 5 fit run
(``configs.PAPER["fig5_fit/convolution"]``: ``||Δx||² = 1``, ``||Δy||² = 0.5``, its lr and 6000 epochs of
full-batch SGD), through :func:`reptheory.lab.probe_many`, stopped once its loss is below
``configs.FIG5_PROTOCOL.stop_loss`` (below the bar, so a stopped run counts as escaped). A run is
*stuck* when its final loss is above ``configs.FIG5_PROTOCOL.fit_max_loss``, the bar at which Fig. 5
discards a fit. The paired comparison (same seeds, two forms) is an exact McNemar test: a one-sided binomial
test on the seeds whose outcome differs.

>>> import dataclasses, torch
>>> s = dataclasses.replace(CONVOLUTION, width=120)
>>> x = torch.tensor([[-1.0], [0.5]])
>>> bool(torch.equal(CNN(s, seed=0)(x), _models.build(s, 1, 1, 0)(x)[0]))
True
"""
from __future__ import annotations

import dataclasses

import torch
from scipy import stats
from torch import nn

from reptheory import configs as _configs
from reptheory import parallel as _par
from reptheory import validate as _v
from reptheory.networks import data as _data
from reptheory.networks import models as _models

__all__ = ["CONVOLUTION", "VARIANTS", "CHUNK", "CNN", "linear_at", "runs", "stuck_counts", "paired_test"]

#: the Fig. 5 fit runs of the CNN (Table 1's row with 50 seeds, width 500, 6000 epochs)
CONVOLUTION = _configs.PAPER["fig5_fit/convolution"]
#: the three forms of the network: which hidden activation is replaced by the identity (see :func:`linear_at`)
VARIANTS = ("as in the paper", "linear one-channel layer", "linear middle layer")


def linear_at(setting: _configs.Setting, variant: str) -> int | None:
    """The index of the hidden activation that ``variant`` makes linear (``None``: none). The one-channel
    convolution's output is the last hidden activation; the middle one is the setting's tracked layer."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    return {VARIANTS[0]: None, VARIANTS[1]: setting.hidden_layers + 1, VARIANTS[2]: setting.layer}[variant]


class CNN(nn.Module):
    """The paper's CNN with the initial weights of ``models.build(setting, 1, 1, seed)``, mapping points to
    outputs, with the activation after hidden activation ``linear`` (0 = after the first linear map) replaced by
    the identity (``None``: the network as built, output for output)."""

    def __init__(self, setting: _configs.Setting, seed: int, linear: int | None = None):
        super().__init__()
        if setting.arch != "cnn":
            raise ValueError(f"setting.arch must be 'cnn', got {setting.arch!r}")
        net = _models.build(setting, 1, 1, seed)
        self.layers, self.act = net.layers, net.act
        last = len(self.layers) - 1
        if linear is not None:
            linear = _v.integer("linear", linear, 0, last - 1)
        self.linear = linear

    def forward(self, x):
        last = len(self.layers) - 1
        a = x
        for n, layer in enumerate(self.layers):
            if n == 1:
                a = a.unsqueeze(1)                  # (points, 1 channel, width)
            if n == last:
                a = a.flatten(1)
            a = layer(a)
            if n < last and n != self.linear:
                a = self.act(a)
        return a


def runs(width: int = CONVOLUTION.width, seeds=tuple(range(16)), variants=VARIANTS, epochs: int = CONVOLUTION.epochs,
         n_jobs: int | None = None) -> list[dict]:
    """Train every seed of ``seeds`` in every form of ``variants`` at the Fig. 5 fit settings of the CNN (at
    ``width``, the first linear map's output; the paper's 500) and return one row per run, variant by variant
    in the order of ``seeds``: variant, seed, final loss, epochs run, whether it diverged and whether it is
    stuck (diverged, or final loss above ``configs.FIG5_PROTOCOL.fit_max_loss``). Jobs of up to :data:`CHUNK`
    seeds each go to ``n_jobs`` workers (:func:`reptheory.parallel.run`); each job's runs are cached (kind
    ``probe_many``). A
    stuck run at width 150 takes about 25 CPU-seconds in a batch of 4, at 500 about three times that; an
    escaped run stops early."""
    s = dataclasses.replace(CONVOLUTION, width=_v.integer("width", width, 10 * (CONVOLUTION.hidden_layers + 1) + 1))
    seeds = _v.seeds("seeds", seeds)
    for v in variants:
        linear_at(s, v)
    _v.integer("epochs", epochs, 2)
    n, k = len(seeds), -(-len(seeds) // CHUNK)       # k nearly equal batches: none of one seed among several
    chunks = [seeds[i * n // k:(i + 1) * n // k] for i in range(k)]
    jobs = [(s, chunk, v, epochs) for v in variants for chunk in chunks]
    return [row for rows in _par.run(_runs, jobs, n_jobs, desc="CNN forms") for row in rows]


#: most seeds per job of :func:`runs` (a job trains its seeds in one batch of :func:`reptheory.lab.probe_many`). A
#: run's numbers do not depend on the batch while all of its networks train (tested); once some have stopped, the
#: batch shrinks, and the runs left can round differently from there: a run can move in the last digits of its
#: loss, or by an epoch, with the batch it was in (24 seeds at width 150 in batches of 12 against 4: 7 of the 72
#: rows moved so, none changed whether it is stuck). At width 150 a batch of 12 takes 2.05 ms a trial-epoch, one
#: of 4 3.3 ms (300 epochs, one core of the CI machine), and the book page's 72 runs 269 s against 416 s on 2
#: workers
CHUNK = 12


def _runs(s: _configs.Setting, seeds: tuple, variant: str, epochs: int) -> list[dict]:
    from reptheory.lab.probing import probe_many
    X, Y = _data.two_points(s.dx2, s.dy2)
    rs = probe_many([CNN(s, seed, linear_at(s, variant)) for seed in seeds], X, Y, f"layers.{s.layer}", lr=s.lr,
                    epochs=epochs, stop_loss=_configs.FIG5_PROTOCOL.stop_loss, fit=False, n_jobs=1, progress=False)
    rows = []
    for seed, r in zip(seeds, rs):
        loss = float(r.loss[-1])
        stuck = r.diverged or not loss <= _configs.FIG5_PROTOCOL.fit_max_loss
        rows.append({"variant": variant, "seed": seed, "final loss": loss, "epochs": int(r.measured.traj.t[-1]),
                     "diverged": bool(r.diverged), "stuck": bool(stuck)})
    return rows


def stuck_counts(rows: list[dict]) -> dict[str, tuple[int, int]]:
    """``variant -> (stuck runs, runs)`` over the rows of :func:`runs`."""
    out: dict[str, tuple[int, int]] = {}
    for r in rows:
        k, n = out.get(r["variant"], (0, 0))
        out[r["variant"]] = (k + r["stuck"], n + 1)
    return out


def paired_test(rows: list[dict], variant: str, against: str = VARIANTS[0]) -> dict:
    """Exact McNemar test over the seeds both forms ran: of the seeds whose outcome differs, how many are stuck
    in ``against`` and free in ``variant`` (``freed``) and the reverse (``caught``); ``p``: the one-sided
    binomial probability of at least ``freed`` of the ``freed + caught`` discordant seeds if either form were
    as likely to stick (1.0 without discordant seeds); ``p_min``: the smallest ``p`` that many seeds allow."""
    a = {r["seed"]: r["stuck"] for r in rows if r["variant"] == against}
    b = {r["seed"]: r["stuck"] for r in rows if r["variant"] == variant}
    seeds = sorted(set(a) & set(b))
    if not seeds:
        raise ValueError(f"no seed ran in both {against!r} and {variant!r}")
    freed = sum(a[k] and not b[k] for k in seeds)
    caught = sum(b[k] and not a[k] for k in seeds)
    d = freed + caught
    p = float(stats.binomtest(freed, d, 0.5, alternative="greater").pvalue) if d else 1.0
    return {"seeds": len(seeds), "freed": freed, "caught": caught, "p": p, "p_min": float(0.5 ** max(len(seeds), 1))}

