"""The two kinds of experiment settings, frozen and validated: :class:`Setting` (a feedforward net on the paper's
datasets, arXiv:2402.09142) and :class:`ParitySetting` (the streaming-parity RNN of the sequel, arXiv:2507.09897).

The fields both kinds hold have one name and one meaning: ``name``, ``width`` (units per hidden layer, or RNN
hidden units), ``nonlinearity``, ``gain``, ``lr``, ``epochs``, ``optimizer``, ``batch_size``, ``stop_loss``,
``seeds``, ``note``. Bad values raise ``ValueError`` naming the setting, the field, the value and what is
allowed.

>>> ParitySetting(width=8).run_fields()["width"], Setting(name="s", width=50).run_fields()["width"]
(8, 50)
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from reptheory.configs.architectures import ARCHITECTURES

__all__ = ["Setting", "ParitySetting", "ARCHS", "NONLINEARITIES", "OPTIMIZERS", "DATASETS"]

#: the architectures a :class:`Setting` may name (``arch``): the names of :data:`~reptheory.configs.architectures.ARCHITECTURES`
ARCHS = tuple(ARCHITECTURES)
#: the hidden nonlinearities a setting may name (``nonlinearity``; ``silu`` is the paper's Swish)
NONLINEARITIES = ("linear", "relu", "leaky_relu", "elu", "tanh", "silu")
#: the optimisers a setting may name (``optimizer``)
OPTIMIZERS = ("sgd", "adam")
#: the datasets a setting may name (``dataset``)
DATASETS = ("two_points", "xor", "blobs", "mnist")


class _Fields:
    """What both kinds of setting share: the checks of their shared fields and the fields that decide a run."""

    KIND = "setting"

    def _bad(self, fld: str, allowed: str):
        raise ValueError(f"{self.KIND} {self.name!r}: {fld} = {getattr(self, fld)!r} is not allowed "
                         f"(allowed: {allowed})")

    def _plain(self, *fields):
        """Store numpy scalars as Python numbers and a list of seeds as a tuple."""
        for fld in fields:
            v = getattr(self, fld)
            if isinstance(v, (np.integer, np.floating)) and not isinstance(v, np.bool_):
                object.__setattr__(self, fld, v.item())
        if isinstance(self.seeds, list):
            object.__setattr__(self, "seeds", tuple(self.seeds))
        if isinstance(self.seeds, tuple):
            object.__setattr__(self, "seeds", tuple(v.item() if isinstance(v, np.integer) else v for v in self.seeds))

    def _positive(self, *fields):
        for fld in fields:
            v = getattr(self, fld)
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float)) or not 0 < v < float("inf"):
                self._bad(fld, "a finite number > 0")

    def _integer(self, fld: str, lo: int, hi: int | None = None):
        v = getattr(self, fld)
        if not isinstance(v, int) or isinstance(v, bool) or v < lo or (hi is not None and v > hi):
            self._bad(fld, f"an integer >= {lo}" if hi is None else f"an integer in [{lo}, {hi}]")

    def _choice(self, fld: str, allowed: tuple):
        if getattr(self, fld) not in allowed:
            self._bad(fld, ", ".join(allowed))

    def _check_shared(self, nonlinearities: tuple):
        """The checks of the fields both kinds hold (their ranges where the kinds agree)."""
        self._positive("gain", "lr")
        self._integer("epochs", 1, 10**7)
        self._integer("width", 1, 1 << 16)
        self._choice("nonlinearity", nonlinearities)
        self._choice("optimizer", OPTIMIZERS)
        if self.stop_loss is not None and (isinstance(self.stop_loss, (bool, np.bool_)) or not isinstance(
                self.stop_loss, (int, float)) or not 0 < self.stop_loss < float("inf")):
            self._bad("stop_loss", "None (no early stop) or a finite number > 0")
        if (not isinstance(self.seeds, tuple) or not self.seeds
                or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in self.seeds)):
            self._bad("seeds", "a non-empty tuple of integers >= 0")

    def run_fields(self) -> dict:
        """Every field that decides a run, as a dict: all but the name, the note and the seeds (a run's seed is
        given on its own). Runs are cached under it, and records compare settings with it.

        >>> from reptheory import configs
        >>> configs.get("default", "paper").run_fields()["width"], "seeds" in configs.get("default").run_fields()
        (500, False)
        """
        d = dataclasses.asdict(self)
        del d["note"], d["seeds"], d["name"]
        return d


@dataclass(frozen=True)
class Setting(_Fields):
    """One feedforward experiment row (the paper's Tables 1 and 2). Units: ``lr`` is the SGD (or Adam) step size,
    ``epochs`` counts full passes over the data (one step each for the point datasets), ``layer`` is the index of
    the tracked hidden activation (0 = after the first linear map), ``dx2``/``dy2`` the squared input and target
    distances of the two-point dataset."""

    name: str                              # the row's name in a profile ("default", "fig5_fit/skip", ...)
    arch: str = "mlp"                      # architecture: a name in configs.architectures.ARCHITECTURES
    nonlinearity: str = "leaky_relu"       # activation after every hidden linear map: one of NONLINEARITIES
    gain: float = 1.0                      # Xavier-normal gain: std = gain·sqrt(2 / (fan-in + fan-out))
    lr: float = 0.005                      # step size of SGD or Adam (per step)
    epochs: int = 6000                     # full passes over the data (one step each at full batch)
    width: int = 500                       # units per hidden layer (CNN: the first linear map's output)
    hidden_layers: int = 20                # hidden layers (CNN: convolutions)
    layer: int = 10                        # tracked hidden activation, 0 = after the first linear map
    optimizer: str = "sgd"                 # "sgd" or "adam"
    batch_size: int | None = None          # points per step; None: full batch (one step per epoch)
    dataset: str = "two_points"            # one of DATASETS
    dx2: float = 1.0                       # ||Δx||², squared input distance of the two points
    dy2: float = 0.5                       # ||Δy||², squared target distance of the two points
    seeds: tuple = (0,)                    # one run per seed (initialisation, minibatch order, dropout masks)
    stop_loss: float | None = None         # stop once the ½-MSE loss is below it; None: run every epoch
    note: str = field(default="", compare=False)   # why the profile changed the row (shown beside figures)

    def __post_init__(self):
        self._plain("gain", "lr", "dx2", "dy2", "stop_loss", "epochs", "width", "hidden_layers", "layer",
                    "batch_size")
        self._check_shared(NONLINEARITIES)
        self._choice("arch", tuple(ARCHITECTURES))
        self._choice("dataset", DATASETS)
        self._positive("dx2")
        if isinstance(self.dy2, (bool, np.bool_)) or not isinstance(self.dy2, (int, float)) or \
                not 0 <= self.dy2 < float("inf"):
            self._bad("dy2", "a finite number >= 0")
        self._integer("hidden_layers", 1)
        if self.batch_size is not None:
            self._integer("batch_size", 1)
        if not isinstance(self.layer, int) or isinstance(self.layer, bool) or not 0 <= self.layer < self.n_tracked:
            self._bad("layer", f"an integer in [0, {self.n_tracked - 1}]")
        if self.width < self.architecture.min_width(self.hidden_layers):
            self._bad("width", f"> {self.architecture.min_width(self.hidden_layers) - 1} for "
                               f"{self.hidden_layers + 1} unpadded convolutions")

    @property
    def architecture(self):
        """The :class:`~reptheory.configs.architectures.Architecture` this setting names."""
        return ARCHITECTURES[self.arch]

    @property
    def n_tracked(self) -> int:
        """Number of hidden activations that can be tracked (the CNN has two more: its linear ends)."""
        return self.architecture.n_tracked(self.hidden_layers)


@dataclass(frozen=True)
class ParitySetting(_Fields):
    """One streaming-parity run (the sequel's App. C.1 defaults). ``frac``: fraction of each length's strings kept
    for training (each string kept with probability ``frac``, so a length keeps Binomial(2^L, frac) strings, a
    fixed random subset per seed); ``loss``: ``"mse"`` (App. C.1: MSE on the one-hot parity) or ``"ce"``
    (cross-entropy, the sequel's Fig. 9 grid); ``stop_loss``: stop once the training loss (of that kind) is below
    it."""

    KIND = "parity setting"

    name: str = "parity"               # the run's name in a profile
    width: int = 100                   # RNN hidden units
    nonlinearity: str = "relu"         # activation of the recurrence: "relu" or "tanh"
    gain: float = 0.1                  # Xavier-normal gain of every weight: std = gain·sqrt(2/(fan-in + fan-out))
    h0: float = 1.0                    # initial hidden state (every unit)
    lr: float = 0.02                   # step size of SGD or Adam (per minibatch)
    batch_size: int = 128              # strings per minibatch
    epochs: int = 800                  # passes over the training strings
    max_len: int = 10                  # longest training string (lengths 1 ... max_len)
    frac: float = 1.0                  # fraction of each length's strings kept for training
    optimizer: str = "sgd"             # "sgd" or "adam"
    loss: str = "mse"                  # "mse" (on the one-hot parity) or "ce" (cross-entropy)
    stop_loss: float | None = None     # stop once the training loss is below it; None: run every epoch
    track_every: int = 10              # epochs between records
    track_long: bool = True            # False: the long-string losses only at the first and last record
    seeds: tuple = (0, 1, 2)           # one run per seed (initialisation, data subset, minibatch order)
    note: str = field(default="", compare=False)   # why the profile changed the run

    def __post_init__(self):
        self._plain("gain", "lr", "h0", "frac", "stop_loss", "epochs", "width", "batch_size", "max_len",
                    "track_every")
        self._check_shared(("relu", "tanh"))
        self._integer("width", 1, 4096)
        self._integer("batch_size", 1, 1 << 20)
        self._integer("max_len", 1, 16)
        self._integer("track_every", 1, 10**7)
        if isinstance(self.h0, (bool, np.bool_)) or not isinstance(self.h0, (int, float)) or \
                not abs(self.h0) < float("inf"):
            self._bad("h0", "a finite number")
        if isinstance(self.frac, (bool, np.bool_)) or not isinstance(self.frac, (int, float)) or \
                not 0 < self.frac <= 1:
            self._bad("frac", "a number in (0, 1]")
        self._choice("loss", ("mse", "ce"))
        if not isinstance(self.track_long, (bool, np.bool_)):
            self._bad("track_long", "True or False")
