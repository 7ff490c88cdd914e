"""Run every book notebook under nbval, in two lanes side by side (``make notebooks`` calls this).

Each lane is one pytest process that runs its notebooks one after the other, each with its usual worker pool
(``$REPTHEORY_N_JOBS``, default 2). While one lane is in a serial part of a notebook (kernel start, imports,
fits, plots, drawing) or has finished, the other lane's workers take the cores, so no core idles. The runs and
every printed number are the same whichever process trains them (every training sets one torch thread). A
notebook that loads another one's cached runs is in the same lane, after it. The lanes are balanced by the
notebooks' measured times (book/reproduce.md).

Usage: ``python tests/run_notebooks.py [--timeout SECONDS]``; exit status 0 when both lanes pass.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"

#: notebook stems per lane; ``after`` pairs name a notebook that loads the cached runs of another
LANES = {
    "A": ["parity_phase", "parity_theory", "parity_tree_merge", "fig13_adam", "fig16_mnist_adam", "fig14_xor_adam",
          "weight_sharing", "performance"],
    "B": ["effective_theory", "explorer", "fig01_schematic", "fig02_architectures", "fig03_initial_weights",
          "fig11_loss_curves", "phase_diagram", "fig04_mnist_two_points", "fig09_mnist_structure",
          "fig05_final_distance", "fig06_xor", "fig07_blobs", "fig08_feature_collapse", "fig10_depth",
          "fig12_very_low_gain", "fig15_blobs_adam", "fixed_points"],
}
#: (producer, consumer): the consumer loads the producer's runs from the cache
AFTER = [("fig02_architectures", "fig11_loss_curves"), ("fig02_architectures", "phase_diagram"),
         ("fig03_initial_weights", "phase_diagram"), ("fig04_mnist_two_points", "fig09_mnist_structure"),
         ("fig05_final_distance", "fig06_xor"), ("parity_theory", "parity_tree_merge")]


def check_lanes() -> None:
    """Every notebook of the book in exactly one lane; every consumer after its producer in the same lane."""
    names = [n for lane in LANES.values() for n in lane]
    book = sorted(p.stem for p in BOOK.glob("*.ipynb"))
    if sorted(names) != book:
        missing, extra = sorted(set(book) - set(names)), sorted(set(names) - set(book))
        dup = sorted({n for n in names if names.count(n) > 1})
        raise SystemExit(f"tests/run_notebooks.py: LANES must hold every notebook once; missing {missing}, "
                         f"unknown {extra}, repeated {dup}")
    for producer, consumer in AFTER:
        lane = next(k for k, v in LANES.items() if consumer in v)
        if producer not in LANES[lane] or LANES[lane].index(producer) > LANES[lane].index(consumer):
            raise SystemExit(f"tests/run_notebooks.py: {consumer} loads the runs of {producer}: it must come after "
                             f"it in lane {lane}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--timeout", type=int, default=4000, help="seconds allowed per lane (default 4000)")
    args = ap.parse_args(argv)
    check_lanes()
    env = dict(os.environ)
    procs = {}
    for name, stems in LANES.items():
        log = tempfile.TemporaryFile(mode="w+")
        cmd = ["timeout", str(args.timeout), sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval",
               "--nbval-current-env", "--nbval-sanitize-with", "tests/nbval_sanitize.cfg",
               *[f"book/{s}.ipynb" for s in stems]]
        procs[name] = (subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT), log,
                       time.perf_counter())
    codes, minutes = {}, {}
    while len(codes) < len(procs):
        for name, (proc, _, t0) in procs.items():
            if name not in codes and proc.poll() is not None:
                codes[name], minutes[name] = proc.returncode, (time.perf_counter() - t0) / 60
        time.sleep(1.0)
    for name, (_, log, _) in procs.items():
        log.seek(0)
        print(f"===== lane {name}: {len(LANES[name])} notebooks, exit {codes[name]}, {minutes[name]:.1f} min =====")
        print(log.read(), flush=True)
    return 0 if not any(codes.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
