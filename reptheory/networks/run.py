"""One training run of the point-dataset networks (:class:`Run`), the device runs use, and the input check of
training data, shared by the engines of :mod:`reptheory.networks.train`."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from reptheory import runtime as _runtime
from reptheory.configs import Setting
from reptheory.networks.measure import two_point_variables

__all__ = ["Run", "device", "finite_data"]


@dataclass(frozen=True)
class Run:
    """One training run. ``loss[e]``, ``outputs[e]``, ``dist2[e]`` are taken before update ``e``
    (``e = 0 … epochs − 1``) and, at ``e = epochs``, after the last update. ``dist2[e, l, i, j]`` is the
    squared distance between points ``i`` and ``j`` in hidden layer ``l``. After a divergence the arrays
    end at the last finite record."""

    setting: Setting
    seed: int
    engine: str
    X: np.ndarray
    Y: np.ndarray
    loss: np.ndarray
    outputs: np.ndarray
    dist2: np.ndarray
    diverged: bool
    seconds: float
    hidden: np.ndarray | None = None      # record="ends": (2, layers, points, width) at the first/last record

    @property
    def epochs(self) -> np.ndarray:
        return np.arange(self.loss.size, dtype=float)

    def to_arrays(self, layer: int | None = None) -> dict:
        """The run's records as the flat dict of arrays the cache stores (:meth:`from_arrays` reads it back).
        ``layer``: keep the distances of that hidden layer only (``dist2`` then has one layer). The setting,
        seed, engine and data are the cache entry's description, and the ``hidden`` snapshot is not stored
        (callers keep what they need of it).

        >>> import numpy as np
        >>> from reptheory.configs import Setting
        >>> s = Setting(name="s", width=4, hidden_layers=2, layer=1, epochs=1)
        >>> r = Run(s, 0, "torch", np.eye(2), np.eye(2), np.ones(2), np.ones((2, 2, 2)), np.ones((2, 2, 2, 2)),
        ...         False, 0.1)
        >>> Run.from_arrays(r.to_arrays(layer=1), s, 0, "torch", r.X, r.Y).dist2.shape
        (2, 1, 2, 2)
        """
        dist2 = self.dist2 if layer is None else self.dist2[:, layer:layer + 1]
        return {"loss": self.loss, "outputs": self.outputs, "dist2": dist2, "diverged": self.diverged,
                "seconds": self.seconds}

    def final_distance_arrays(self) -> dict:
        """What the cache stores of a run of Fig. 5's grid (kind ``fig5_grid_run``): ``||Δh||²`` and ``||Δŷ||²``
        of the pair (0, 1) at the tracked layer at the first record, ``||Δh||²`` and the loss at the last, the
        updates made (``epochs``), ``diverged`` and ``seconds``. A run that diverged at its first record is
        stored as diverged with NaN distances, an infinite loss and 0 updates."""
        if self.loss.size == 0:
            return {"h2_0": np.nan, "y2_0": np.nan, "h2_final": np.nan, "loss_final": np.inf, "epochs": 0,
                    "diverged": True, "seconds": self.seconds}
        m = two_point_variables(self)
        n = self.loss.size
        return {"h2_0": m.traj.h2[0], "y2_0": m.traj.y2[0], "h2_final": m.traj.h2[-1], "loss_final": self.loss[-1],
                "epochs": n - 1 if not self.diverged else n, "diverged": self.diverged, "seconds": self.seconds}

    def ends_arrays(self, layer: int) -> dict:
        """What the cache stores of a blob run (kind ``blobs_run``, recorded with ``record="ends"``): the loss
        every epoch, hidden ``layer``'s activations of every point before training (``H0``) and after
        (``H_end``), ``diverged`` and ``seconds``."""
        return {"loss": self.loss, "H0": self.hidden[0, layer], "H_end": self.hidden[1, layer],
                "diverged": self.diverged, "seconds": self.seconds}

    def tracked_arrays(self, layer: int, first: int) -> dict:
        """What the cache stores of an MNIST run (kind ``mnist_run``, recorded with ``record="ends"`` and a
        tracked pair): :meth:`to_arrays` and hidden ``layer``'s activations of the first ``first`` points after
        training (``H_first``)."""
        return self.to_arrays() | {"H_first": self.hidden[1, layer, :first]}

    @classmethod
    def from_arrays(cls, a: dict, setting: Setting, seed: int, engine: str, X: np.ndarray, Y: np.ndarray) -> "Run":
        """The run of ``setting``, ``seed`` on the data ``X``, ``Y`` from the arrays of :meth:`to_arrays` (other
        entries of ``a`` are ignored)."""
        return cls(setting, seed, engine, X, Y, a["loss"], a["outputs"], a["dist2"], bool(a["diverged"]),
                   float(a["seconds"]))


def device(name: str | None = None) -> str:
    """The torch device runs use: ``name``, else the runtime's (``$REPTHEORY_DEVICE``, else ``"cpu"``;
    ``"auto"``: CUDA when available). Raises a clear error for an unknown or unavailable device."""
    raw = name or _runtime.current().device
    if raw == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        dev = torch.device(raw)
    except (RuntimeError, TypeError):
        raise ValueError(f"device must be cpu, cuda, cuda:N, mps or auto, got {raw!r}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {raw!r} was requested but torch finds no CUDA GPU (torch.cuda.is_available() "
                         "is False); use cpu or auto")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise ValueError(f"device {raw!r}: only {torch.cuda.device_count()} CUDA devices")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device {raw!r} was requested but MPS is not available")
    if dev.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"device must be cpu, cuda, cuda:N, mps or auto, got {raw!r}")
    return str(dev)


def finite_data(name: str, a) -> np.ndarray:
    """``a`` as float32; NaN or inf in training data is an input error naming the array (not a divergence)."""
    try:
        arr = np.asarray(a, dtype=np.float32)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of real numbers, got {type(a).__name__}") from None
    bad = ~np.isfinite(arr)
    if bad.any():
        raise ValueError(f"{name} must be finite: {int(bad.sum())} of its {arr.size} entries are NaN or inf "
                         f"(first at index {tuple(int(i) for i in np.argwhere(bad)[0])})")
    return arr
