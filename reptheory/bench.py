"""Benchmark: training steps of the Default 20x500 two-point net, three ways, in one run.

(a) plain: nn.Sequential + torch.optim.SGD, the middle layer read by a forward hook;
(b) authors' style: a model returning every hidden activation, each step all of them copied to numpy into a
    Python list (the tracking pattern of the paper's public code);
(c) reptheory's trainer (:func:`reptheory.networks.train.train`: fused numba kernel, every layer's pairwise distances
    recorded each step), for 1 trial and for 16 trials (seeds) spread over 2 worker processes.

Prints trial-steps per second and the ratios (c)/(a), (c)/(b); the targets are (c) >= 2x (a) and >= 4x (b)
per trial-step. Then one Eq. 49 fit (:func:`reptheory.theory.fit.fit_rates`) of a 6000-epoch trajectory, searched with
the compiled RK4 scheme against the adaptive Radau reference, and the ratio of their times; and
:func:`reptheory.lab.probe` against :func:`reptheory.lab.probe_many` on the transformer of the chapter "Beyond the
paper's architectures"; and the blob network of Figs. 8, 12 and 15 trained one at a time against five seeds
stacked in the batched engine. Run it with ``python benchmarks/train_step.py [steps]`` (default 300; one torch
thread each).
"""
from __future__ import annotations

import dataclasses
import time

import numpy as np
import torch
from joblib import Parallel, delayed
from torch import nn

from reptheory import configs
from reptheory import validate as _v
from reptheory.networks import data, models, train
from reptheory.theory import fit, ode as theory

__all__ = ["main"]


def _setting():
    return configs.get("default", "paper")


def _init(layers, gain):
    torch.manual_seed(0)
    for m in layers:
        nn.init.xavier_normal_(m.weight, gain=gain)
        nn.init.zeros_(m.bias)


def _data():
    return (torch.from_numpy(a) for a in data.two_points())


def plain(steps: int) -> float:
    """(a): trial-steps per second of the obvious nn.Sequential loop."""
    S = _setting()
    X, Y = _data()
    dims = [1] + [S.width] * S.hidden_layers + [1]
    lins = [nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:])]
    _init(lins, S.gain)
    mods = []
    for i, layer in enumerate(lins):
        mods.append(layer)
        if i < len(lins) - 1:
            mods.append(nn.LeakyReLU())
    model = nn.Sequential(*mods)
    rec = []
    model[2 * S.layer + 1].register_forward_hook(lambda m, i, o: rec.append(o.detach().clone()))
    opt = torch.optim.SGD(model.parameters(), lr=S.lr)
    t0 = time.perf_counter()
    for _ in range(steps):
        loss = 0.5 * torch.mean((model(X) - Y) ** 2)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return steps / (time.perf_counter() - t0)


class _ListMLP(nn.ModuleList):
    def forward(self, x):
        acts, a = [], x
        for n, layer in enumerate(self):
            a = layer(a)
            if n != len(self) - 1:
                a = torch.nn.functional.leaky_relu(a)
            acts.append(a)
        return acts.pop(), acts


def authors_style(steps: int) -> float:
    """(b): trial-steps per second with a tracking pass that copies every activation each epoch."""
    S = _setting()
    X, Y = _data()
    dims = [1] + [S.width] * S.hidden_layers + [1]
    model = _ListMLP([nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:])])
    _init(model, S.gain)
    opt = torch.optim.SGD(model.parameters(), lr=S.lr)
    history = []
    t0 = time.perf_counter()
    for _ in range(steps):
        model.eval()
        with torch.no_grad():                      # tracking pass at the start of the epoch
            _, acts = model(X)
            history.append([a.numpy().copy() for a in acts])
        model.train()
        out, _ = model(X)
        loss = 0.5 * torch.mean((out - Y) ** 2)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return steps / (time.perf_counter() - t0)


def _one(seed: int, steps: int) -> float:
    X, Y = data.two_points()
    return train.train(dataclasses.replace(_setting(), epochs=steps), X, Y, seed).seconds


def reptheory_trials(steps: int, trials: int, n_jobs: int) -> float:
    """(c): trial-steps per second of :func:`reptheory.networks.train.train` over ``trials`` seeds."""
    _one(0, 2)                                     # compile or load the kernel outside the timing
    t0 = time.perf_counter()
    if n_jobs == 1:
        for s in range(trials):
            _one(s, steps)
    else:
        Parallel(n_jobs=n_jobs)(delayed(_one)(s, steps) for s in range(trials))
    return trials * steps / (time.perf_counter() - t0)


def engine_rates(steps: int, names=("skip", "dropout", "adam")) -> dict[str, tuple[float, float]]:
    """Trial-steps per second of the fused kernel and of the PyTorch engine on the Table 1 rows ``names`` (the
    skip-connection net, the dropout net, the default net with Adam; width 500, one trial each):
    ``{name: (numba, torch)}``."""
    X, Y = data.two_points()
    out = {}
    for name in names:
        s = dataclasses.replace(configs.get(name, "paper"), epochs=steps)
        rates = []
        for engine in ("numba", "torch"):
            train.train(dataclasses.replace(s, epochs=2), X, Y, 0, engine=engine)
            rates.append(steps / train.train(s, X, Y, 0, engine=engine).seconds)
        out[name] = tuple(rates)
    return out


def cnn_batch_rates(steps: int, trials: int = 12) -> tuple[float, float]:
    """Trial-steps per second of the CNN of Table 1 (paper profile, Fig. 5's fit setting, width 500) on the CPU:
    one trial with the PyTorch engine (:func:`reptheory.networks.train.train`), and ``trials`` seeds in one
    :func:`reptheory.networks.train.train_batch` call (what each CPU worker trains in Fig. 5): ``(one, batch)``."""
    s = dataclasses.replace(configs.get("fig5_fit/convolution", "paper"), epochs=steps)
    X, Y = data.two_points(s.dx2, s.dy2)
    train.train(dataclasses.replace(s, epochs=2), X, Y, 0)
    one = steps / train.train(s, X, Y, 0).seconds
    train.train_batch(dataclasses.replace(s, epochs=2), [(X, Y)] * 2, [0, 1])
    t0 = time.perf_counter()
    train.train_batch(s, [(X, Y)] * trials, list(range(trials)))
    return one, trials * steps / (time.perf_counter() - t0)


def probe_rates(epochs: int, batch: int = 30, name: str = "transformer") -> tuple[float, float]:
    """Network-epochs per second of :func:`reptheory.lab.probe` (one network) and of
    :func:`reptheory.lab.probe_many` (``batch`` networks of one architecture in one vectorised loop) on the
    chapter's ``name`` network (:data:`reptheory.lab.zoo.ZOO`, scale 0.25, the reference pair, lr 1e-3, not
    cached, fits included): ``(probe, probe_many)``."""
    from reptheory import lab
    from reptheory.lab import zoo

    spec = zoo.ZOO[name]
    X, Y = lab.pair_data(1.0, float(np.sqrt(0.5)), spec.in_shape)
    lab.probe(spec.build(0, 0.25), X, Y, spec.layer, lr=1e-3, epochs=2, cache=False)
    t0 = time.perf_counter()
    lab.probe(spec.build(0, 0.25), X, Y, spec.layer, lr=1e-3, epochs=epochs, cache=False)
    one = epochs / (time.perf_counter() - t0)
    models = [spec.build(k, 0.25) for k in range(batch)]
    t0 = time.perf_counter()
    lab.probe_many(models, X, Y, spec.layer, lr=1e-3, epochs=epochs, cache=False)
    return one, batch * epochs / (time.perf_counter() - t0)


def blob_stack_rates(epochs: int, seeds: int = 5) -> tuple[float, float]:
    """Network-epochs per second of the blob network of Figs. 8, 12 and 15 (``"blobs_low"``: 27 → 4 × 100 tanh
    → 1, minibatches of 64 of 1800 points, SGD) trained two ways: one network at a time by the obvious
    ``torch.optim`` loop (its loss on all the points each epoch, the minibatch order of a generator seeded with
    its seed), and ``seeds`` networks in one stack of the batched engine
    (:func:`reptheory.networks.train.train_ends`, the way the book trains them): ``(alone, stacked)``."""
    torch.set_num_threads(1)
    s = dataclasses.replace(configs.get("blobs_low"), epochs=epochs)
    b = data.blobs()
    X, Y = torch.from_numpy(b.X), torch.from_numpy(b.Y)
    t0 = time.perf_counter()
    for seed in range(seeds):
        net = models.build(s, X.shape[1], Y.shape[1], seed)
        opt, gen = torch.optim.SGD(net.parameters(), lr=s.lr), torch.Generator().manual_seed(seed)
        for _ in range(epochs):
            with torch.no_grad():
                float(0.5 * ((net(X)[0] - Y) ** 2).mean())
            for idx in torch.randperm(X.shape[0], generator=gen).split(s.batch_size):
                opt.zero_grad(set_to_none=True)
                (0.5 * ((net(X[idx])[0] - Y[idx]) ** 2).mean()).backward()
                opt.step()
    alone = seeds * epochs / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    train.train_ends(s, b.X, b.Y, list(range(seeds)))
    return alone, seeds * epochs / (time.perf_counter() - t0)


def fit_times() -> tuple[float, float]:
    """Seconds for one Eq. 49 fit of a 6000-epoch rich-regime trajectory (Eq. 7 at the default net's rates,
    with 1 % multiplicative noise, seed 0): ``(rk4 search, radau search)``, each after one untimed fit."""
    t = np.arange(6001.0)
    tr = theory.solve(t, 1e-3, 1e-5, 1e-5 - 0.9 * np.sqrt(0.5e-5), 7.4e-4, 4.5e-2, 1.0, 0.5)
    noise = np.random.default_rng(0).normal(1.0, 0.01, (3, t.size))
    noise[:, 0] = 1.0
    args = (t, tr.h2 * noise[0], tr.y2 * noise[1], tr.w * noise[2], 1.0, 0.5)
    out = []
    for method in ("rk4", "radau"):
        fit.fit_rates(*args, method=method)
        t0 = time.perf_counter()
        fit.fit_rates(*args, method=method)
        out.append(time.perf_counter() - t0)
    return tuple(out)


def main(steps: int = 300) -> None:
    """Run (a), (b), (c) in this order in one process and print the ratios."""
    steps = _v.integer("steps", steps, 1)
    torch.set_num_threads(1)
    a = plain(steps)
    b = authors_style(steps)
    c1 = reptheory_trials(steps, 1, 1)
    c16 = reptheory_trials(steps, 16, 2)
    print(f"Default 20x500 two-point net, {steps} steps, float32, 1 torch thread per process")
    print(f"(a) plain nn.Sequential loop          {a:8.1f} trial-steps/s")
    print(f"(b) authors' style (all activations)  {b:8.1f} trial-steps/s")
    print(f"(c) reptheory, 1 trial                {c1:8.1f} trial-steps/s   {c1 / a:5.2f}x (a)   {c1 / b:5.2f}x (b)")
    print(f"(c) reptheory, 16 trials, 2 processes {c16:8.1f} trial-steps/s   {c16 / a:5.2f}x (a)   {c16 / b:5.2f}x (b)")
    ok = c1 >= 2 * a and c1 >= 4 * b
    print("targets (c) >= 2x (a) and >= 4x (b) per trial-step, 1 trial:", "met" if ok else "NOT met")
    for name, (nb, tr) in engine_rates(steps).items():
        print(f"{name:8s} net: fused kernel {nb:7.1f} trial-steps/s, PyTorch {tr:7.1f}, {nb / tr:5.2f}x")
    one, many = cnn_batch_rates(steps)
    print(f"CNN (Fig. 5, width 500): PyTorch 1 trial {one:7.1f} trial-steps/s, 12 trials in one train_batch "
          f"{many:7.1f}, {many / one:5.2f}x")
    one, many = probe_rates(steps)
    print(f"rt.probe on the chapter's transformer: 1 network {one:7.1f} network-epochs/s, 30 in one "
          f"rt.probe_many batch {many:7.1f}, {many / one:5.1f}x")
    alone, stack = blob_stack_rates(max(1, steps // 15))
    print(f"blob network (Figs. 8, 12, 15): 1 at a time {alone:6.1f} network-epochs/s, 5 seeds in one stack "
          f"{stack:6.1f}, {stack / alone:5.2f}x")
    fast, ref = fit_times()
    print(f"Eq. 49 fit of 6000 epochs: RK4 search {fast:6.2f} s, Radau search {ref:6.2f} s, {ref / fast:5.1f}x faster")
