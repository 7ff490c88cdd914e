"""The Fig. 5 CNN's plateau at the paper's width: the controlled experiment of :mod:`reptheory.lab.cnn_plateau`,
with a compact record of the result and its cost.

Usage::

    python benchmarks/cnn_plateau.py --out results/cnn_plateau [--width 500] [--seeds 16] [--jobs N]

Trains (or loads, through the cache: an interrupted call resumes) the paper's CNN at its Fig. 5 fit settings in
every form of :data:`reptheory.lab.cnn_plateau.VARIANTS`, seeds ``0 … seeds−1``, and writes
``<out>/width<width>-<device>.json``: one row per run (variant, seed, final loss, epochs, diverged, stuck), the
settings, and the provenance (machine, code version, wall and CPU seconds of the call).
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
    ap.add_argument("--width", type=int, default=500)
    ap.add_argument("--seeds", type=int, default=16)
    ap.add_argument("--jobs", type=int, default=None)
    args = ap.parse_args(argv)
    from reptheory.lab import cnn_plateau

    t0, c0 = time.perf_counter(), _cpu_seconds()
    rows = cnn_plateau.runs(width=args.width, seeds=tuple(range(args.seeds)), n_jobs=args.jobs)
    out = args.out / f"width{args.width}-cpu.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    rec = _clean({
        "width": args.width, "rows": rows,
        "settings": cnn_plateau.CONVOLUTION.run_fields() | {"width": args.width, "seeds": list(range(args.seeds))},
        "provenance": provenance("cpu", "probe_many", time.perf_counter() - t0, _cpu_seconds() - c0)})
    out.write_text(json.dumps(rec, indent=1) + "\n")
    print(f"{len(rows)} runs -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
