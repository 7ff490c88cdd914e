"""The paper's architectures (Table 1) in PyTorch, assembled from their entries in
:data:`reptheory.configs.architectures.ARCHITECTURES`.

Every model maps a batch ``x`` (points × input dim) to ``(output, hidden)``, where ``hidden`` is the list
of hidden activations after each nonlinearity (index 0 = after the first linear map); the tracked layer of a
:class:`~reptheory.configs.Setting` is an index into that list. Weights are Xavier-normal with the
setting's gain, biases zero (as in the authors' code).

* dense (``mlp``): ``hidden_layers`` hidden layers of ``width`` units, a linear output layer.
* ``skip`` (``resnet``): from the third linear layer on (index ``n > 1``), every hidden activation gets the
  activation two layers back added (a skip over two layers).
* ``dropout`` (``dropout``, ``p = 0.1``): dropout before every linear layer. The tracked activation is the
  output of hidden layer ``layer`` (the authors' code counted dropout modules in its activation list, so its
  "layer 5" was the output of linear layer 3; here the index means what it says).
* ``conv = (kernel, channels)`` (``cnn``: kernel 11, 20 channels): ``Linear(in → width)``, then
  ``hidden_layers + 1`` unpadded 1-D convolutions (1 → channels, channels → channels, …, channels → 1), then
  ``Linear(width − (kernel − 1)(hidden_layers + 1) → out)``.
"""
from __future__ import annotations

import dataclasses

import torch
from torch import nn
from torch.nn import functional as F

from reptheory import validate as _v
from reptheory.configs import Setting
from reptheory.configs.architectures import ARCHITECTURES

__all__ = ["ACTIVATIONS", "build", "key_fields", "TwoPointNet"]

#: the hidden nonlinearities by name (``configs.NONLINEARITIES``), as functions of the pre-activation
ACTIVATIONS = {
    "linear": lambda z: z,
    "relu": F.relu,
    "leaky_relu": F.leaky_relu,          # negative slope 0.01
    "elu": F.elu,
    "tanh": torch.tanh,
    "silu": F.silu,                      # Swish
}


class TwoPointNet(nn.Module):
    """The network of ``setting``'s architecture entry, as described in the module docstring."""

    def __init__(self, setting: Setting, in_dim: int, out_dim: int):
        super().__init__()
        s, a = setting, setting.architecture
        self.arch, self.act, self.conv, self.skip = s.arch, ACTIVATIONS[s.nonlinearity], not a.dense, a.skip
        self.dropout = nn.Dropout(p=a.dropout) if a.dropout else None
        if self.conv:
            (k, ch), n_conv = a.conv, s.hidden_layers + 1
            convs = [nn.Conv1d(1, ch, k)] + [nn.Conv1d(ch, ch, k) for _ in range(n_conv - 2)] + [nn.Conv1d(ch, 1, k)]
            self.layers = nn.ModuleList([nn.Linear(in_dim, s.width), *convs,
                                         nn.Linear(s.width - (k - 1) * n_conv, out_dim)])
        else:
            dims = [in_dim] + [s.width] * s.hidden_layers + [out_dim]
            self.layers = nn.ModuleList([nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:])])
        for m in self.layers:
            nn.init.xavier_normal_(m.weight, gain=s.gain)
            nn.init.zeros_(m.bias)

    def forward(self, x):
        hidden = []
        a = x
        last = len(self.layers) - 1
        for n, layer in enumerate(self.layers):
            if self.dropout is not None:
                a = self.dropout(a)
            if self.conv and n == 1:
                a = a.unsqueeze(1)                      # (points, 1 channel, width)
            if self.conv and n == last:
                a = a.flatten(1)
            a = layer(a)
            if n == last:
                return a, hidden
            a = self.act(a)
            if self.skip and n > 1:
                a = a + hidden[-2]
            hidden.append(a.flatten(1) if self.conv else a)
        raise AssertionError("unreachable")


def build(setting: Setting, in_dim: int, out_dim: int, seed: int) -> TwoPointNet:
    """The network of ``setting``, initialised from ``torch.manual_seed(seed)`` (float32)."""
    seed = _v.integer("seed", seed, 0)
    torch.manual_seed(seed)
    return TwoPointNet(setting, in_dim, out_dim)


def key_fields(setting: Setting) -> dict:
    """What a cached run of ``setting`` is keyed on: its ``run_fields()`` and, beside the architecture's name, the
    values :class:`TwoPointNet` builds it from (every field of its
    :class:`~reptheory.configs.architectures.Architecture` but the description). The architectures' table is
    then no cached run's source (:data:`reptheory.cache.SOURCES`): an entry added to it or a reworded
    description leaves every cached run valid, and an entry whose values change re-keys its runs alone.

    >>> from reptheory import configs
    >>> key_fields(configs.get("default"))["architecture"]
    {'skip': False, 'dropout': 0.0, 'conv': None}
    """
    a = setting.architecture
    values = {f.name: getattr(a, f.name) for f in dataclasses.fields(a) if f.name != "description"}
    return setting.run_fields() | {"architecture": values}
