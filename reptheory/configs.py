"""Experiment settings as frozen data: the paper's Tables 1 and 2, and the profiles that run them.

``PAPER`` holds every row exactly as the paper states it. A *profile* maps a setting name to the values a
run uses: ``"paper"`` is ``PAPER`` itself, ``"default"`` is what the committed notebooks and CI execute,
reduced only where the CI budget forces it; every reduction is listed in ``_DEFAULT_CHANGES`` with its
reason and shown beside the figure by :func:`settings_table`. The profile is chosen by the ``profile``
argument or the ``REPTHEORY_PROFILE`` environment variable. Other overrides go through :func:`override`,
which prints what it changed.

Units: ``lr`` is the SGD (or Adam) step size, ``epochs`` counts full passes over the data (one step each
for the point datasets), ``layer`` is the index of the tracked hidden activation (0 = after the first
linear map), ``dx2``/``dy2`` the squared input and target distances of the two-point dataset.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field

__all__ = ["Setting", "PAPER", "PROFILES", "get", "override", "profile_name", "settings_table", "TABLE1", "TABLE2",
           "FIG2_ROWS", "FIG3_ROWS"]

ARCHS = ("mlp", "cnn", "resnet", "dropout")
NONLINEARITIES = ("linear", "relu", "leaky_relu", "elu", "tanh", "silu")
OPTIMIZERS = ("sgd", "adam")
DATASETS = ("two_points", "xor", "blobs", "mnist")


@dataclass(frozen=True)
class Setting:
    """One experiment row. Validated on construction; see the module docstring for units."""

    name: str
    arch: str = "mlp"
    nonlinearity: str = "leaky_relu"
    gain: float = 1.0
    lr: float = 0.005
    epochs: int = 6000
    width: int = 500
    hidden_layers: int = 20
    layer: int = 10
    optimizer: str = "sgd"
    batch_size: int | None = None          # None: full batch (one step per epoch)
    dataset: str = "two_points"
    dx2: float = 1.0
    dy2: float = 0.5
    seeds: tuple = (0,)
    note: str = field(default="", compare=False)

    def __post_init__(self):
        def bad(fld, allowed):
            raise ValueError(f"setting {self.name!r}: {fld} = {getattr(self, fld)!r} is not allowed "
                             f"(allowed: {allowed})")
        for fld, allowed in (("arch", ARCHS), ("nonlinearity", NONLINEARITIES), ("optimizer", OPTIMIZERS),
                             ("dataset", DATASETS)):
            if getattr(self, fld) not in allowed:
                bad(fld, ", ".join(allowed))
        for fld in ("gain", "lr", "dx2"):
            v = getattr(self, fld)
            if not isinstance(v, (int, float)) or not v > 0 or v != v or v == float("inf"):
                bad(fld, "a finite number > 0")
        if not isinstance(self.dy2, (int, float)) or not 0 <= self.dy2 < float("inf"):
            bad("dy2", "a finite number >= 0")
        for fld, lo in (("epochs", 1), ("width", 1), ("hidden_layers", 1)):
            v = getattr(self, fld)
            if not isinstance(v, int) or isinstance(v, bool) or v < lo:
                bad(fld, f"an integer >= {lo}")
        if self.batch_size is not None and (not isinstance(self.batch_size, int) or self.batch_size < 1):
            bad("batch_size", "None (full batch) or an integer >= 1")
        if not isinstance(self.layer, int) or not 0 <= self.layer < self.n_tracked:
            bad("layer", f"an integer in [0, {self.n_tracked - 1}]")
        if self.arch == "cnn" and self.width <= 10 * (self.hidden_layers + 1):
            bad("width", f"> {10 * (self.hidden_layers + 1)} for {self.hidden_layers + 1} unpadded convolutions")
        if (not isinstance(self.seeds, tuple) or not self.seeds
                or not all(isinstance(s, int) and s >= 0 for s in self.seeds)):
            bad("seeds", "a non-empty tuple of integers >= 0")

    @property
    def n_tracked(self) -> int:
        """Number of hidden activations that can be tracked (the CNN has two more: its linear ends)."""
        return self.hidden_layers + 2 if self.arch == "cnn" else self.hidden_layers


def _row(name, **kw) -> Setting:
    return Setting(name=name, **kw)


# Table 1 (two-point experiments, 6000 epochs each, layer = hidden activation index halfway).
TABLE1 = {
    "default": _row("default"),
    "convolution": _row("convolution", arch="cnn", gain=0.95, lr=0.002, hidden_layers=10, layer=5),
    "skip": _row("skip", arch="resnet", gain=0.1, lr=0.01),
    "shallow": _row("shallow", gain=0.35, lr=0.01, hidden_layers=2, layer=1),
    "narrow": _row("narrow", gain=1.05, lr=0.005, width=50),
    "dropout": _row("dropout", arch="dropout", gain=1.0, lr=0.005, hidden_layers=10, layer=5),
    "linear": _row("linear", nonlinearity="linear", gain=0.85, lr=0.00125),
    "relu": _row("relu", nonlinearity="relu", gain=1.0, lr=0.005),
    "elu": _row("elu", nonlinearity="elu", gain=0.95, lr=0.00045),
    "tanh": _row("tanh", nonlinearity="tanh", gain=0.85, lr=0.00125),
    "swish": _row("swish", nonlinearity="silu", gain=1.7, lr=0.0025),
    "gain_0.9": _row("gain_0.9", gain=0.9, lr=0.015),
    "gain_1.1": _row("gain_1.1", gain=1.1, lr=0.0025),
    "gain_1.3": _row("gain_1.3", gain=1.3, lr=0.00075),
    "gain_1.4": _row("gain_1.4", gain=1.4, lr=0.00025),
    # App. C.3 (Fig. 13): the authors' settings file row "adam" (lr 1e-6, 3000 epochs) halved/doubled as
    # for every Table 1 row
    "adam": _row("adam", optimizer="adam", gain=1.0, lr=5e-7),
}

# Table 2 (structure experiments). XOR: full batch on the 4 points; blobs and MNIST: minibatch SGD, batch 64,
# tracked layer = hidden activation 2 of 4. (The XOR "low" row does not leave the loss plateau as written; see
# the structured-representations chapter.)
TABLE2 = {
    "xor_low": _row("xor_low", dataset="xor", gain=0.7, lr=0.015, epochs=1000),
    "xor_intermediate": _row("xor_intermediate", dataset="xor", gain=1.25, lr=0.002, epochs=1000),
    "xor_high": _row("xor_high", dataset="xor", gain=2.0, lr=3e-9, epochs=1000),
    "xor_2layers": _row("xor_2layers", dataset="xor", gain=0.0015, lr=0.03, epochs=40000, hidden_layers=1,
                        layer=0),
    "blobs_very_low": _row("blobs_very_low", dataset="blobs", nonlinearity="tanh", gain=0.275, lr=0.05,
                           epochs=2000, width=100, hidden_layers=4, layer=2, batch_size=64),
    "blobs_low": _row("blobs_low", dataset="blobs", nonlinearity="tanh", gain=0.5, lr=0.015, epochs=1500,
                      width=100, hidden_layers=4, layer=2, batch_size=64),
    "blobs_high": _row("blobs_high", dataset="blobs", nonlinearity="tanh", gain=2.0, lr=0.0015, epochs=750,
                       width=100, hidden_layers=4, layer=2, batch_size=64),
    "mnist": _row("mnist", dataset="mnist", gain=0.5, lr=0.002, epochs=500, width=100, hidden_layers=4, layer=2,
                  batch_size=64),
}

PAPER: dict[str, Setting] = {**TABLE1, **TABLE2}

#: rows of Fig. 2 (Sec. 3.1) and Fig. 3 (Sec. 3.2-3.3), in the paper's order
FIG2_ROWS = ("default", "convolution", "skip", "shallow", "narrow", "dropout", "linear", "relu", "elu", "tanh",
             "swish")
FIG3_ROWS = ("gain_0.9", "gain_1.1", "gain_1.3", "gain_1.4")

# The default profile: (changes, reason) per setting. Empty where the paper's settings run within the CI
# budget as they are.
_DEFAULT_CHANGES: dict[str, tuple[dict, str]] = {}


def _build_default() -> dict[str, Setting]:
    out = dict(PAPER)
    for name, (changes, reason) in _DEFAULT_CHANGES.items():
        out[name] = dataclasses.replace(PAPER[name], note=reason, **changes)
    return out


PROFILES = {"paper": PAPER, "default": _build_default()}


def profile_name(profile: str | None = None) -> str:
    """The profile in use: the argument, else ``$REPTHEORY_PROFILE``, else ``"default"``."""
    name = profile or os.environ.get("REPTHEORY_PROFILE", "default")
    if name not in PROFILES:
        raise ValueError(f"profile must be one of {sorted(PROFILES)}, got {name!r}")
    return name


def get(name: str, profile: str | None = None) -> Setting:
    """The setting ``name`` in the chosen profile."""
    table = PROFILES[profile_name(profile)]
    if name not in table:
        raise KeyError(f"unknown setting {name!r}; known: {', '.join(table)}")
    return table[name]


def override(setting: Setting, **changes) -> Setting:
    """A copy of ``setting`` with ``changes``; prints each change so that no override is silent."""
    for k in changes:
        if k not in {f.name for f in dataclasses.fields(Setting)}:
            raise ValueError(f"override: {k!r} is not a field of Setting")
    new = dataclasses.replace(setting, **changes)
    for k, v in changes.items():
        print(f"override {setting.name}.{k}: {getattr(setting, k)!r} -> {v!r}")
    return new


_SHOWN = ("arch", "nonlinearity", "gain", "lr", "epochs", "width", "hidden_layers", "layer", "optimizer", "batch_size",
          "seeds")


def settings_table(settings, profile: str | None = None) -> str:
    """A Markdown table of the settings a figure runs beside the paper's values.

    ``settings`` are :class:`Setting` objects (possibly overridden) or names (looked up in ``profile``).
    Every field that differs from the paper is marked ``value (paper: x)``; a last column says how to run
    the paper's exact settings."""
    rows = [get(s, profile) if isinstance(s, str) else s for s in settings]
    lines = ["| setting | " + " | ".join(_SHOWN) + " | deviation from the paper |",
             "|---|" + "---|" * (len(_SHOWN) + 1)]
    for s in rows:
        paper = PAPER.get(s.name)
        cells, diffs = [], []
        for f in _SHOWN:
            v = getattr(s, f)
            pv = getattr(paper, f) if paper else None
            if paper is not None and v != pv:
                cells.append(f"**{v}** (paper: {pv})")
                diffs.append(f)
            else:
                cells.append(f"{v}")
        why = "none" if not diffs else (s.note or "overridden in the notebook")
        lines.append(f"| {s.name} | " + " | ".join(cells) + f" | {why} |")
    lines.append("")
    lines.append("Paper's exact settings: set `REPTHEORY_PROFILE=paper` before running the notebook.")
    return "\n".join(lines)
