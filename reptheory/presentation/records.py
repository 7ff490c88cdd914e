"""Committed compact results of long runs: Fig. 5 per architecture at the paper's protocol, the MNIST networks of
Figs. 4 and 9, and the controlled experiment on the Fig. 5 CNN's plateau.

``benchmarks/fig5_rows.py`` writes one JSON record per architecture (row of Fig. 5) under
``results/fig5/<profile>-<device>/<row>.json``: the mean rates and every fit's rates, every grid point with
its Eq. 10 prediction, the statistics the Fig. 5 page asserts, the settings, and the provenance (device, code
version, wall seconds). The book loads these records instead of recomputing hours of training in CI; a test
re-runs one committed grid point on the CPU and finds its numbers.

>>> recs = fig5_records()
>>> sorted(recs["paper-cuda"])[:2]
['shallow', 'tanh']
>>> recs["paper-cuda"]["tanh"].stats["fits used"]
50
"""
from __future__ import annotations

import dataclasses
import json
import pathlib

import numpy as np

from reptheory import configs as _configs

__all__ = ["RESULTS", "FIG5_BARS", "Fig5Record", "fig5_records", "profile_records", "misses", "AT_BAR", "at_bar",
           "fig5_notes", "fig5_table", "fig5_costs", "fig5_remaining", "mnist_record", "cnn_plateau_record"]

#: the results folder of a source checkout
RESULTS = pathlib.Path(__file__).resolve().parents[2] / "results"

#: the bars of the Fig. 5 page's default network, applied to every record (:data:`reptheory.configs.bars.FIG5`):
#: (statistic, ">=" or "<=", bar)
FIG5_BARS = _configs.bars.FIG5

_KEYS = ("row", "profile", "rates", "stats", "scaling", "points", "settings", "provenance")
_POINT_KEYS = ("dx", "dy", "seed", "h2_0", "y2_0", "h2_final", "loss_final", "epochs", "diverged", "predicted")


@dataclasses.dataclass(frozen=True)
class Fig5Record:
    """One architecture's Fig. 5 at one profile on one device (a committed JSON record)."""

    row: str
    profile: str
    device: str
    rates: dict             # eta_h, eta_y (means), used [(seed, eta_h, eta_y)], discarded [(seed, why)]
    stats: dict             # FinalDistanceResult.stats() of the run
    scaling: dict           # FinalDistanceResult.scaling()
    points: tuple           # grid points as dicts (dx, dy, seed, h2_0, y2_0, h2_final, ..., predicted)
    settings: dict          # the fit and grid settings as run
    provenance: dict        # device, device_name, torch, code_version, wall_s, cpu_s, finished
    path: pathlib.Path

    @property
    def fit_epochs(self) -> int:
        """Epochs of the fit runs: seeds × each run's epochs."""
        return len(self.settings["fit"]["seeds"]) * self.settings["fit"]["epochs"]

    @property
    def grid_epochs(self) -> int:
        """Epochs the 25 grid runs trained before they stopped (at most 25 × the grid setting's epochs)."""
        return sum(p["epochs"] for p in self.points)

    def arrays(self, converged_only: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(dy, measured h2_final, predicted)`` of the ``dy > 0`` grid points (converged ones by default,
        the points the statistics use: not diverged and final loss at most ``configs.FIG5_PROTOCOL.max_loss``)."""
        from reptheory.configs import FIG5_PROTOCOL
        pts = [p for p in self.points if p["dy"] > 0 and (not converged_only or (
            not p["diverged"] and p["loss_final"] is not None and p["loss_final"] <= FIG5_PROTOCOL.max_loss))]
        return (np.array([p["dy"] for p in pts]), np.array([p["h2_final"] for p in pts]),
                np.array([p["predicted"] for p in pts], dtype=float))


def _load(path: pathlib.Path) -> Fig5Record:
    try:
        d = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a readable JSON record ({exc})") from None
    missing = [k for k in _KEYS if k not in d]
    if missing:
        raise ValueError(f"{path}: the record lacks {missing}")
    for i, p in enumerate(d["points"]):
        lack = [k for k in _POINT_KEYS if k not in p]
        if lack:
            raise ValueError(f"{path}: grid point {i} lacks {lack}")
    if len(d["points"]) != 25:
        raise ValueError(f"{path}: a Fig. 5 grid has 25 points, the record has {len(d['points'])}")
    return Fig5Record(d["row"], d["profile"], d["provenance"]["device"], d["rates"], d["stats"], d["scaling"],
                      tuple(d["points"]), d["settings"], d["provenance"], path)


def fig5_records(root: pathlib.Path | str | None = None) -> dict[str, dict[str, Fig5Record]]:
    """Every record under ``root`` (default ``results/fig5``): ``{"<profile>-<device>": {row: record}}``,
    folders and rows sorted. A malformed record is an error naming its file."""
    root = pathlib.Path(root) if root is not None else RESULTS / "fig5"
    if not root.is_dir():
        raise FileNotFoundError(f"no Fig. 5 records at {root}")
    out = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and "-" in p.name):
        recs = {p.stem: _load(p) for p in sorted(folder.glob("*.json"))}
        if recs:
            out[folder.name] = recs
    return out


def profile_records(recs: dict, profile: str = "paper") -> dict[str, Fig5Record]:
    """The records of one profile from every device folder of :func:`fig5_records`' result, one per
    architecture, in the order of ``configs.FIG5_PROTOCOL.rows``; an architecture recorded on several
    devices keeps the record that finished last."""
    from reptheory.configs import FIG5_PROTOCOL
    found: dict[str, Fig5Record] = {}
    for folder, by_row in recs.items():
        if folder.rsplit("-", 1)[0] != profile:
            continue
        for row, r in by_row.items():
            if row not in found or r.provenance["finished"] > found[row].provenance["finished"]:
                found[row] = r
    order = {row: k for k, row in enumerate(FIG5_PROTOCOL.rows)}
    return dict(sorted(found.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))


def misses(stats: dict, bars=FIG5_BARS) -> list[str]:
    """The bars of ``bars`` that a record's ``stats`` miss, each as ``"<statistic> <value> (bar <op> <bar>)"``;
    empty if it meets them all. A missing or NaN statistic misses its bar.

    >>> misses({"r 95% low": 0.8, "median |rel err|": 0.3, "unconverged": 0, "diverged": 0, "fits used": 50})
    ['median |rel err| 0.3 (bar <= 0.25)']
    """
    out = []
    for key, op, bar in bars:
        v = stats.get(key)
        ok = v is not None and v == v and (v >= bar if op == ">=" else v <= bar)
        if not ok:
            out.append(f"{key} {v:.3g} (bar {op} {bar:g})" if isinstance(v, (int, float)) else f"{key} missing")
    return out


#: a statistic this close to its bar (relative to the bar) decides nothing: a pass or a miss there is reported
#: as at the bar (undecided)
AT_BAR = 0.05


def at_bar(stats: dict, bars=FIG5_BARS, within: float = AT_BAR) -> list[str]:
    """The bars of ``bars`` that a record's ``stats`` sit on: within ``within`` of the bar, relative to it
    (bars of 0 excluded: a count of 0 is exact), each as ``"<statistic> <value> (bar <op> <bar>)"``. Whether
    such a statistic meets the bar or misses it is decided by its third digit, i.e. not decided.

    >>> at_bar({"r 95% low": 0.8, "median |rel err|": 0.258, "unconverged": 3, "diverged": 0, "fits used": 50})
    ['median |rel err| 0.258 (bar <= 0.25)', 'unconverged 3 (bar <= 3)']
    """
    out = []
    for key, op, bar in bars:
        v = stats.get(key)
        if bar and isinstance(v, (int, float)) and v == v and abs(v - bar) <= within * abs(bar):
            out.append(f"{key} {v:.3g} (bar {op} {bar:g})")
    return out


def fig5_notes(record: Fig5Record) -> str:
    """What a Fig. 5 record left out of its statistics, in words: the fit runs discarded (counted per reason) and
    the grid runs that ended above ``configs.FIG5_PROTOCOL.max_loss``, with the range of their final losses and epochs;
    "" when it left nothing out."""
    from collections import Counter

    from reptheory.configs import FIG5_PROTOCOL
    from reptheory.presentation.rounding import span
    notes = [f"{n} fit{'s' * (n != 1)} discarded: {why}"
             for why, n in Counter(why for _, why in record.rates["discarded"]).items()]
    stuck = [p for p in record.points if p["loss_final"] > FIG5_PROTOCOL.max_loss]
    if stuck:
        notes.append(f"{len(stuck)} grid run{'s' * (len(stuck) != 1)} end{'s' * (len(stuck) == 1)} at loss "
                     f"{span([p['loss_final'] for p in stuck])} after {span([p['epochs'] for p in stuck], str)} epochs")
    return "; ".join(notes)


def fig5_table(records: dict[str, Fig5Record]) -> list[dict]:
    """One row per record for :func:`reptheory.presentation.display.table`: the statistics Fig. 5 asserts, the rates,
    the scaling exponents and the device (the cost is in the record's provenance)."""
    rows = []
    for row, r in records.items():
        s = r.stats
        rows.append({"architecture": row, "fits used": f"{s['fits used']}/{s['fits used'] + s['fits discarded']}",
                     "eta_h": r.rates["eta_h"], "eta_y": r.rates["eta_y"], "pearson r": s["pearson r"],
                     "r 95% low": s["r 95% low"], "median |rel err|": s["median |rel err|"],
                     "unconverged": s["unconverged"], "a (dx)": r.scaling["a (dx)"], "b (dy)": r.scaling["b (dy)"],
                     "device": r.provenance["device"]})
    return rows


def fig5_costs(profile: str = "paper", root: pathlib.Path | str | None = None) -> dict[str, dict]:
    """The measured cost of one fit run per row, ``{row: {"s_per_epoch", "seconds", "epochs", ...}}``, from
    ``<root>/costs/<profile>-cpu.json`` (written by ``benchmarks/fig5_rows.py --cost``); empty if absent."""
    root = pathlib.Path(root) if root is not None else RESULTS / "fig5"
    path = root / "costs" / f"{profile}-cpu.json"
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not a readable JSON file of costs ({exc})") from None


def fig5_remaining(records: dict[str, Fig5Record], profile: str = "paper", costs: dict | None = None) -> list[dict]:
    """What the architectures of ``configs.FIG5_PROTOCOL.rows`` without a record in ``records`` will cost
    on one core of the CPU that made the CPU records, as far as measurements go.

    A row's training is its fit runs (``len(seeds) × epochs`` epochs) and its 25 grid runs (at most
    ``epochs`` each; a run stops early once its loss is below ``stop_loss``). The cost per epoch comes from
    CPU records whose network has the same architecture, width and depth (the nonlinearity, an elementwise
    function, costs little beside the matrix products): their summed training seconds
    (``provenance["train_s"]``, wall-clock) over their summed epochs; failing that, from the row's own first
    fit run in ``costs`` (default :func:`fig5_costs`); failing that, ``None``. Returns one dict a missing row:
    ``architecture``, ``fit epochs``, ``grid epochs (max)``, ``ms/epoch``, ``measured on``, ``hours (max)``
    (the fits plus every grid run to its last epoch).

    >>> rows = {r["architecture"]: r for r in fig5_remaining({}, costs={"skip": {"s_per_epoch": 0.004, "seed": 0}})}
    >>> rows["skip"]["fit epochs"], rows["skip"]["grid epochs (max)"], round(rows["skip"]["hours (max)"], 2)
    (300000, 1000000, 1.44)
    >>> rows["convolution"]["measured on"]
    'not measured'
    """
    from reptheory.configs import FIG5_PROTOCOL
    costs = fig5_costs(profile) if costs is None else costs
    per: dict[tuple, list] = {}
    for row, r in records.items():
        if not r.provenance["device"].startswith("cpu") or "train_s" not in r.provenance:
            continue
        f = r.settings["fit"]
        per.setdefault((f["arch"], f["width"], f["hidden_layers"]), []).append(
            (row, r.provenance["train_s"], r.fit_epochs + r.grid_epochs))
    out = []
    for row in FIG5_PROTOCOL.rows:
        if row in records:
            continue
        fit, grid = _configs.fig5_settings(row, profile)
        fit_epochs, grid_epochs = len(fit.seeds) * fit.epochs, 25 * grid.epochs
        meas = per.get((fit.arch, fit.width, fit.hidden_layers), [])
        if meas:
            rate, where = sum(m[1] for m in meas) / sum(m[2] for m in meas), "records: " + ", ".join(m[0] for m in meas)
        elif row in costs:
            rate, where = costs[row]["s_per_epoch"], f"its fit run of seed {costs[row]['seed']}"
        else:
            rate, where = None, "not measured"
        out.append({"architecture": row, "fit epochs": fit_epochs, "grid epochs (max)": grid_epochs,
                    "ms/epoch": None if rate is None else 1e3 * rate, "measured on": where,
                    "hours (max)": None if rate is None else rate * (fit_epochs + grid_epochs) / 3600})
    return out


# ----------------------------------------------------------------------------------------------------------
# Figs. 4 and 9: the MNIST networks

def mnist_record(root: pathlib.Path | str | None = None, name: str = "paper-cpu") -> dict:
    """The committed MNIST record ``<root>/<name>.json`` (default root ``results/mnist``), written by
    ``benchmarks/mnist_paper.py``: :func:`reptheory.experiments.mnist_summary` of the paper's 10
    networks, the settings and the
    provenance. A missing or malformed record is an error naming its file."""
    path = (pathlib.Path(root) if root is not None else RESULTS / "mnist") / f"{name}.json"
    try:
        d = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a readable JSON record ({exc})") from None
    missing = [k for k in ("networks", "data", "fig4", "fig9", "settings", "provenance") if k not in d]
    if missing:
        raise ValueError(f"{path}: the record lacks {missing}")
    if len(d["fig4"]) != d["networks"] or len(d["fig9"]["per network"]) != d["networks"]:
        raise ValueError(f"{path}: {d['networks']} networks, but {len(d['fig4'])} Fig. 4 rows and "
                         f"{len(d['fig9']['per network'])} Fig. 9 rows")
    return d



def cnn_plateau_record(width: int = 500, root: pathlib.Path | str | None = None) -> dict:
    """The committed record ``<root>/width<width>-cpu.json`` (default root ``results/cnn_plateau``), written by
    ``benchmarks/cnn_plateau.py``: the rows of :func:`reptheory.lab.cnn_plateau.runs` at ``width`` (every seed in
    every form), the settings and the provenance. A missing or malformed record is an error naming its file."""
    path = (pathlib.Path(root) if root is not None else RESULTS / "cnn_plateau") / f"width{width}-cpu.json"
    try:
        d = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a readable JSON record ({exc})") from None
    missing = [k for k in ("width", "rows", "settings", "provenance") if k not in d]
    if missing:
        raise ValueError(f"{path}: the record lacks {missing}")
    if d["width"] != width or len(d["rows"]) != len(d["settings"]["seeds"]) * len({r["variant"] for r in d["rows"]}):
        raise ValueError(f"{path}: width {d['width']} (asked {width}) with {len(d['rows'])} rows for "
                         f"{len(d['settings']['seeds'])} seeds")
    return d
