"""Fig. 5, one architecture per call, with a compact record of the result and its cost.

Usage::

    python benchmarks/fig5_rows.py --profile paper --rows default,skip --out results/fig5 [--device cuda]
    python benchmarks/fig5_rows.py --profile paper --rows skip,dropout --out results/fig5 --cost

With ``--cost``, each row trains only its first fit run (through the cache, so the full record reuses it) and
its measured seconds per epoch go to ``<out>/costs/<profile>-<device>.json``, which the Fig. 5 page uses to
price the rows that have no record yet.

For each row (a name of ``configs.FIG5_PROTOCOL.rows``) this runs :func:`reptheory.experiments.final_distance`
(every run through the cache, so an interrupted call resumes where it stopped) and writes
``<out>/<profile>-<device>/<row>.json``: the mean rates and every fit's rates, every grid point with its
Eq. 10 prediction, the statistics the Fig. 5 page asserts, the settings, and the provenance (machine, device,
code version, wall and CPU seconds of the call). The file is written when its row has finished, so a call
stopped part-way keeps every finished row. On a GPU the fit runs of a row train as one batch over seeds and
its 25 grid runs as another (see ``reptheory.networks.train.batched``).
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import pathlib
import platform
import resource
import sys
import time


def _cpu_seconds() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _clean(x):
    """JSON-safe: NaN becomes None, numpy scalars become Python numbers."""
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if hasattr(x, "item"):
        x = x.item()
    if isinstance(x, float) and x != x:
        return None
    return x


def provenance(device: str, kind: str, wall: float, cpu: float, **extra) -> dict:
    """Where and when a record was made: the device and its name (a GPU's, else the CPU's), the CPU count, torch's
    version, the code version of the cache entries of ``kind`` that hold its runs, the call's ``wall`` and ``cpu``
    seconds, then ``extra`` (fields of one record kind), and when it finished."""
    import torch

    from reptheory import cache
    name = torch.cuda.get_device_name() if device.startswith("cuda") else platform.processor() or platform.machine()
    return {"device": device, "device_name": name, "cpu_count": os.cpu_count(), "torch": torch.__version__,
            "code_version": cache.code_version(kind), "wall_s": round(wall, 1), "cpu_s": round(cpu, 1), **extra,
            "finished": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}


def training_seconds(res) -> float:
    """Wall-clock seconds of training summed over the row's runs (its fit runs and its grid runs), as each run
    recorded them when it trained: the cost of the row even when the call that writes the record resumed from
    the cache (its own wall and CPU time then count only the part it computed). The ODE fits are not
    included; a run that waited for a busy core counts its waiting."""
    from reptheory import experiments

    s = res.rates.setting
    return (sum(experiments.two_point(s, seed).run.seconds for seed in s.seeds)
            + sum(p.seconds for p in res.points))


def record(res, profile: str, device: str, wall: float, cpu: float, jobs: int | None) -> dict:
    """The compact, JSON-ready record of one :class:`FinalDistanceResult`. ``wall`` and ``cpu`` are the
    seconds of the call that wrote it (``cpu`` counts this process and its exited children: with ``jobs`` > 1
    the runs train in reusable worker processes that are still alive, so it misses them); ``train_s``
    (:func:`training_seconds`) is the training time of every run, wherever and whenever it ran."""
    fit_setting = res.rates.setting
    return _clean({
        "row": res.name,
        "profile": profile,
        "rates": {"eta_h": res.rates.eta_h, "eta_y": res.rates.eta_y,
                  "used": [list(u) for u in res.rates.used],
                  "discarded": [list(d) for d in res.rates.discarded]},
        "stats": res.stats(),
        "scaling": res.scaling(),
        "points": [dataclasses.asdict(p) for p in res.points],
        "settings": {"fit": fit_setting.run_fields() | {"seeds": list(fit_setting.seeds)},
                     "grid": res.grid_setting.run_fields()},
        "provenance": provenance(device, "fig5_grid_run", wall, cpu, jobs=jobs,
                                 train_s=round(training_seconds(res), 1)),
    })


def measure_cost(row: str, profile: str) -> dict:
    """Train (or load) the first fit run of ``row`` at ``profile`` and return its cost: the training seconds the
    run stored when it trained (wall-clock), its epochs and seconds per epoch, with the machine, the code
    version and when this was written."""
    from reptheory import cache, configs, experiments

    s = configs.get(f"fig5_fit/{row}", profile)
    run = experiments.two_point(s, s.seeds[0]).run
    epochs = len(run.loss) - 1
    return {"seed": s.seeds[0], "seconds": round(run.seconds, 2), "epochs": epochs,
            "s_per_epoch": run.seconds / epochs, "machine": platform.processor() or platform.machine(),
            "code_version": cache.code_version("two_point_run"),
            "written": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="paper")
    ap.add_argument("--rows", required=True, help="comma-separated Fig. 5 rows")
    ap.add_argument("--out", required=True, type=pathlib.Path)
    ap.add_argument("--device", default=None, help="torch device (default: $REPTHEORY_DEVICE or cpu)")
    ap.add_argument("--jobs", type=int, default=None)
    ap.add_argument("--cost", action="store_true", help="train only each row's first fit run and record its cost")
    args = ap.parse_args(argv)
    from reptheory import runtime

    with runtime.use(**({"device": args.device} if args.device else {})):
        return _rows(ap, args)


def _rows(ap, args) -> int:
    """The records (or, with ``--cost``, the costs) of ``args.rows`` under the current runtime."""
    from reptheory import configs, experiments, parallel
    from reptheory.networks import train

    device = train.device()
    rows = [r for r in args.rows.split(",") if r]
    bad = [r for r in rows if r not in configs.FIG5_PROTOCOL.rows and r != "default_w100"]
    if bad:
        ap.error(f"--rows: unknown Fig. 5 rows {bad}; allowed: {', '.join(configs.FIG5_PROTOCOL.rows)}")
    folder = args.out / f"{args.profile}-{device.split(':')[0]}"
    if args.cost:
        path = args.out / "costs" / f"{folder.name}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        costs = json.loads(path.read_text()) if path.exists() else {}
        for row in rows:
            costs[row] = _clean(measure_cost(row, args.profile))
            path.write_text(json.dumps(dict(sorted(costs.items())), indent=1) + "\n")
            print(f"{row}: {costs[row]['s_per_epoch'] * 1e3:.3g} ms per epoch "
                  f"({costs[row]['seconds']} s for {costs[row]['epochs']} epochs) -> {path}", flush=True)
        return 0
    folder.mkdir(parents=True, exist_ok=True)
    for row in rows:
        t0, c0 = time.perf_counter(), _cpu_seconds()
        res = experiments.final_distance([row], args.profile, n_jobs=args.jobs)[row]
        jobs = args.jobs if args.jobs is not None else parallel.default_jobs()
        rec = record(res, args.profile, device, time.perf_counter() - t0, _cpu_seconds() - c0, jobs)
        path = folder / f"{row}.json"
        path.write_text(json.dumps(rec, indent=1) + "\n")
        st = rec["stats"]
        print(f"{row}: r = {st['pearson r']}, median |rel err| = {st['median |rel err|']}, "
              f"unconverged {st['unconverged']}, fits {st['fits used']}/{st['fits used'] + st['fits discarded']}, "
              f"{rec['provenance']['wall_s']} s -> {path}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
