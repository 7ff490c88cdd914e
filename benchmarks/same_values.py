"""A refactor's proof: short runs through every training path, recorded by one checkout and compared bit for
bit with another's.

Usage (the old code from a worktree, the new from this checkout; no cache is read or written)::

    git worktree add /tmp/old <revision>
    PYTHONPATH=/tmp/old python benchmarks/same_values.py record /tmp/old.npz
    PYTHONPATH=.        python benchmarks/same_values.py record /tmp/new.npz
    python benchmarks/same_values.py compare /tmp/old.npz /tmp/new.npz

``record`` trains every Fig. 2 row for a few hundred epochs (the numba kernel for the dense architectures,
PyTorch for the CNN), Adam in the numba kernel, and fits Eq. 7 to the default's run; the batched engine over three seeds for dropout,
skip connections, the CNN and a step size that diverges; the lab's probes (one network and three together,
converging and diverging); one streaming-parity RNN recorded along training and a batch of two recorded at the ends (the one
parity engine). ``compare`` names every array whose
dtype, shape or bytes differ (exit status 1 if any does). Timings are not recorded.
"""
from __future__ import annotations

import dataclasses
import sys

import numpy as np
import torch


def record() -> dict[str, np.ndarray]:
    """Every array of the runs listed in the module docstring, by name."""
    import reptheory
    from reptheory import configs
    from reptheory.lab import probing
    from reptheory.networks import data, measure, train
    from reptheory.networks.engine_batch import train_batch
    from reptheory.sequel import parity_batch
    from reptheory.theory import fit

    print(f"recording with {reptheory.__file__}", file=sys.stderr)
    out = {}
    X, Y = data.two_points()
    # every Fig. 2 row (all four architectures, numba for the dense ones, torch for the CNN), 600 epochs
    for name in configs.FIG2_ROWS:
        s = dataclasses.replace(configs.get(name), epochs=600 if name != "convolution" else 200)
        r = train.train(s, X, Y, 0)
        out |= {f"{name}/{k}": np.asarray(getattr(r, k)) for k in ("loss", "outputs", "dist2", "diverged")}
        if name == "default":
            t = measure.two_point_variables(r).traj
            f = fit.fit_rates(t.t, t.h2, t.y2, t.w, s.dx2, s.dy2)
            out["default/fit"] = np.array([f.eta_h, f.eta_y])
    # Adam in the numba kernel (Fig. 13's row), on the MLP and with skip connections
    for name in ("adam", "skip"):
        s = dataclasses.replace(configs.get(name), optimizer="adam", lr=5e-7 if name == "adam" else 1e-5, epochs=400)
        r = train.train(s, X, Y, 0)
        out |= {f"adam/{name}/{k}": np.asarray(getattr(r, k)) for k in ("loss", "outputs", "dist2", "diverged")}
    # the batched engine over seeds: dropout, skip, the CNN and a diverging step size
    for name, lr in (("dropout", None), ("skip", None), ("convolution", None), ("default", 5.0)):
        s = dataclasses.replace(configs.get(name), epochs=150, **({"lr": lr} if lr else {}))
        for r in train_batch(s, [(X, Y)] * 3, [0, 1, 2]):
            out |= {f"batch/{name}/{lr}/{r.seed}/{k}": np.asarray(getattr(r, k))
                    for k in ("loss", "dist2", "diverged")}
    # the probes: one network, and three together, plain SGD and one diverging
    def net(seed):
        torch.manual_seed(seed)
        return torch.nn.Sequential(torch.nn.Linear(1, 20), torch.nn.Tanh(), torch.nn.Linear(20, 20), torch.nn.Tanh(),
                                   torch.nn.Linear(20, 1))
    for lr in (0.05, 40.0):
        p = probing.probe(net(0), X, Y, "3", lr=lr, epochs=400, cache=False)
        out[f"probe/{lr}/loss"], out[f"probe/{lr}/h2"] = p.loss, p.measured.traj.h2
        out[f"probe/{lr}/diverged"] = np.asarray(p.diverged)
        ps = probing.probe_many([net(k) for k in range(3)], X, Y, "3", lr=lr, epochs=400, cache=False, n_jobs=1,
                                progress=False)
        for k, p in enumerate(ps):
            out[f"probe_many/{lr}/{k}/loss"], out[f"probe_many/{lr}/{k}/h2"] = p.loss, p.measured.traj.h2
    # the sequel: one parity RNN, and a batch of two
    ps = dataclasses.replace(configs.sequel.PARITY_PAPER, epochs=200)
    r = parity_batch.train(ps, 0)
    out |= {f"parity/{k}": v for k, v in r.to_arrays().items() if k != "seconds"}
    pb = dataclasses.replace(ps, track_every=ps.epochs, track_long=False)
    for r in parity_batch.train_batch([(pb, 0), (pb, 1)]):
        out |= {f"parity_batch/{r.seed}/{k}": v for k, v in r.to_arrays().items() if k != "seconds"}
    return {k: np.asarray(v) for k, v in out.items()}


def compare(a: dict, b: dict) -> list[str]:
    """The names whose arrays differ in dtype, shape or bytes, or that only one side holds."""
    return sorted((set(a) ^ set(b)) | {k for k in set(a) & set(b) if a[k].dtype != b[k].dtype or
                                          a[k].shape != b[k].shape or a[k].tobytes() != b[k].tobytes()})


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "record":
        np.savez(argv[1], **record())
        return 0
    if len(argv) == 3 and argv[0] == "compare":
        with np.load(argv[1]) as fa, np.load(argv[2]) as fb:
            a, b = dict(fa), dict(fb)
        diff = compare(a, b)
        print(f"{len(set(a) | set(b))} arrays, {len(diff)} differ" + (": " + ", ".join(diff) if diff else
                                                                        " (bit for bit the same)"))
        return 1 if diff else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
