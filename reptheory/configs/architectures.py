"""The feed-forward architectures a :class:`~reptheory.configs.Setting` may name (``arch``): one entry each.

An :class:`Architecture` says, as data, how :func:`reptheory.networks.models.build` assembles the network from a
setting's ``width``, ``hidden_layers``, ``nonlinearity`` and ``gain``: dense hidden layers, or unpadded 1-D
convolutions between a first and a last linear map (``conv``); skip connections (``skip``); dropout before every
linear map (``dropout``). Everything else follows from the entry: which layers can be tracked, the smallest
width the convolutions allow, and whether the fused numba kernel trains it (dense layers, full batch, on the
CPU; the kernel covers skip connections and dropout). The settings check ``arch`` against this table, the
models build from it, the engines read their options from it, and the settings tables print its description.

Adding an architecture that these fields describe is one entry here and a row in the registry
(:mod:`reptheory.configs.paper`):

>>> ARCHITECTURES["cnn"].n_tracked(hidden_layers=3), ARCHITECTURES["cnn"].min_width(hidden_layers=3)
(5, 41)
>>> ARCHITECTURES["resnet"].dense, ARCHITECTURES["dropout"].dropout
(True, 0.1)
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Architecture", "ARCHITECTURES"]


@dataclass(frozen=True)
class Architecture:
    """One architecture of Table 1, as data (see the module docstring)."""

    description: str                       # one line: what the network is (settings tables, API reference)
    skip: bool = False                     # from the third linear map on, add the hidden activation two back
    dropout: float = 0.0                   # dropout probability before every linear map (0: none)
    conv: tuple[int, int] | None = None    # (kernel, channels) of unpadded 1-D convolutions; None: dense layers

    @property
    def dense(self) -> bool:
        """Whether every hidden layer is a linear map (the numba kernel's networks)."""
        return self.conv is None

    def n_tracked(self, hidden_layers: int) -> int:
        """The hidden activations a setting can track: one per hidden layer, and with convolutions
        ``hidden_layers + 1`` convolutions plus the first linear map's output."""
        return hidden_layers if self.dense else hidden_layers + 2

    def min_width(self, hidden_layers: int) -> int:
        """The smallest ``width``: 1, or with convolutions one more than they remove (``kernel − 1`` units each)."""
        return 1 if self.dense else (self.conv[0] - 1) * (hidden_layers + 1) + 1


#: the architectures by name (``Setting.arch``); the paper's Table 1
ARCHITECTURES = {
    "mlp": Architecture("multilayer perceptron: hidden_layers dense layers of width units, a linear read-out"),
    "cnn": Architecture("a linear map to width units, hidden_layers + 1 unpadded convolutions of kernel 11 "
                        "(1 → 20 → … → 20 → 1 channels), a linear read-out", conv=(11, 20)),
    "resnet": Architecture("the MLP with skip connections over two layers", skip=True),
    "dropout": Architecture("the MLP with dropout p = 0.1 before every linear map", dropout=0.1),
}
