"""Figs. 4 and 9 at the paper's 10 MNIST networks, with a compact record of the result and its cost.

Usage::

    python benchmarks/mnist_paper.py --out results/mnist [--jobs N]

Trains (or loads, through the cache: an interrupted call resumes) the ``mnist`` setting of the paper profile, one
network per seed, and writes ``<out>/paper-<device>.json``: :func:`reptheory.experiments.mnist_summary` (the
tracked pair's fit per network for Fig. 4; the class-structure comparisons of Fig. 9 over the networks), the
settings, and the provenance (machine, code version, wall and CPU seconds of the call, and each network's own
training seconds).
"""
from __future__ import annotations

import argparse
import json
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from fig5_rows import _clean, _cpu_seconds, provenance  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, type=pathlib.Path)
    ap.add_argument("--jobs", type=int, default=None)
    args = ap.parse_args(argv)
    import torch

    from reptheory import configs, experiments
    from reptheory.networks import data, train

    t0, c0 = time.perf_counter(), _cpu_seconds()
    setting = configs.get("mnist", "paper")
    nets = experiments.mnist("mnist", profile="paper", n_jobs=args.jobs)
    summary = experiments.mnist_summary(nets, data.load_mnist())
    device = train.device()
    out = args.out / f"paper-{torch.device(device).type}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    rec = _clean(summary | {
        "settings": setting.run_fields() | {"seeds": list(setting.seeds)},
        "provenance": provenance(device, "mnist_run", time.perf_counter() - t0, _cpu_seconds() - c0,
                                 **{"network seconds": [round(float(n.seconds), 1) for n in nets]})})
    out.write_text(json.dumps(rec, indent=1) + "\n")
    print(f"{len(nets)} networks -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
