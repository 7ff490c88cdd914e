"""Architectures beyond the paper's, for the chapter that probes them (:mod:`reptheory.lab`).

Each entry of :data:`ZOO` is a :class:`Spec`: a builder ``build(seed, scale)`` that returns a fresh network
(PyTorch's default initialisation drawn from ``seed``, then every ``Linear`` layer's weights and biases
multiplied by ``scale``, the initial scale the chapter chooses by rule), the input shape of one point, the
tracked layer (a dotted submodule name: a middle block's output, flattened per point) and a one-line
description. Every network maps its input to one output. Sizes are small so that the chapter's runs fit CI;
they are the same across the zoo where the architecture allows (width 64, six hidden blocks or four residual
blocks, the middle one tracked).

>>> net = ZOO["transformer"].build(seed=0, scale=0.5)
>>> import torch
>>> tuple(net(torch.zeros(2, *ZOO["transformer"].in_shape)).shape)
(2, 1)
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from reptheory import validate as _v

__all__ = ["Spec", "ZOO", "scaled", "sequence"]

WIDTH = 64          # hidden width of the MLPs
DEPTH = 6           # hidden layers of the MLPs (the tracked one is the middle, index 3 counting from 0)
D_IN = 8            # input numbers per point (MLPs); sequences: TOKENS x FEATURES
TOKENS, FEATURES, D_MODEL = 4, 8, 16
BLOCKS = 4          # residual blocks of the mixer and the transformer (the tracked one: index 2)


def scaled(net: nn.Module, scale: float) -> nn.Module:
    """Multiply the weights and biases of every ``nn.Linear`` of ``net`` by ``scale`` (in place; returns
    ``net``). Normalisation layers keep their initial gain 1 and bias 0."""
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.Linear):
                m.weight.mul_(scale)
                if m.bias is not None:
                    m.bias.mul_(scale)
    return net


class MLP(nn.Module):
    """``DEPTH`` hidden blocks ``Linear → [LayerNorm] → activation`` (no activation: a deep linear network),
    then a linear read-out."""

    def __init__(self, d_in: int, width: int, depth: int, act: Callable[[], nn.Module] | None, norm: bool):
        super().__init__()
        blocks = []
        for k in range(depth):
            layers = [nn.Linear(d_in if k == 0 else width, width)]
            if norm:
                layers.append(nn.LayerNorm(width))
            if act is not None:
                layers.append(act())
            blocks.append(nn.Sequential(*layers))
        self.blocks = nn.ModuleList(blocks)
        self.out = nn.Linear(width, 1)

    def forward(self, x):
        for b in self.blocks:
            x = b(x)
        return self.out(x)


class Attention(nn.Module):
    """Multi-head self-attention over the tokens of each point: softmax(q kᵀ/√d_head) v, heads concatenated
    and projected."""

    def __init__(self, d: int, heads: int):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)

    def forward(self, x):
        n, t, d = x.shape
        q, k, v = self.qkv(x).reshape(n, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        a = torch.softmax(q @ k.transpose(-1, -2) / (d // self.heads) ** 0.5, dim=-1)
        return self.proj((a @ v).transpose(1, 2).reshape(n, t, d))


class FeedForward(nn.Module):
    def __init__(self, d: int, hidden: int):
        super().__init__()
        self.up, self.down = nn.Linear(d, hidden), nn.Linear(hidden, d)

    def forward(self, x):
        return self.down(nn.functional.gelu(self.up(x)))


class TransformerBlock(nn.Module):
    """Pre-LayerNorm encoder block: ``x + attention(LN(x))``, then ``x + MLP(LN(x))`` with a GELU MLP."""

    def __init__(self, d: int, heads: int = 2):
        super().__init__()
        self.ln1, self.attn = nn.LayerNorm(d), Attention(d, heads)
        self.ln2, self.mlp = nn.LayerNorm(d), FeedForward(d, 2 * d)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class MixerBlock(nn.Module):
    """MLP-Mixer block: ``x + token-MLP(LN(x)ᵀ)ᵀ`` (mixing across tokens), then ``x + channel-MLP(LN(x))``."""

    def __init__(self, tokens: int, d: int):
        super().__init__()
        self.ln1, self.tokens = nn.LayerNorm(d), FeedForward(tokens, 2 * tokens)
        self.ln2, self.channels = nn.LayerNorm(d), FeedForward(d, 2 * d)

    def forward(self, x):
        x = x + self.tokens(self.ln1(x).transpose(1, 2)).transpose(1, 2)
        return x + self.channels(self.ln2(x))


class SequenceNet(nn.Module):
    """Tokens embedded linearly at width ``d``, ``BLOCKS`` residual blocks ``block(d)``, then LayerNorm, the mean
    over tokens and a linear read-out."""

    def __init__(self, block: Callable[[int], nn.Module], d: int = D_MODEL):
        super().__init__()
        self.embed = nn.Linear(FEATURES, d)
        self.blocks = nn.ModuleList(block(d) for _ in range(BLOCKS))
        self.ln, self.out = nn.LayerNorm(d), nn.Linear(d, 1)

    def forward(self, x):
        x = self.embed(x)
        for b in self.blocks:
            x = b(x)
        return self.out(self.ln(x).mean(1))


class TwoLayer(nn.Module):
    """One wide hidden layer: ``Linear → ReLU → Linear``."""

    def __init__(self, d_in: int, width: int):
        super().__init__()
        self.hidden, self.act, self.out = nn.Linear(d_in, width), nn.ReLU(), nn.Linear(width, 1)

    def forward(self, x):
        return self.out(self.act(self.hidden(x)))


@dataclass(frozen=True)
class Spec:
    """One architecture: ``build(seed, scale)``, one point's input shape, the tracked layer, a description."""

    name: str
    make: Callable[[], nn.Module]
    in_shape: tuple
    layer: str
    description: str

    def build(self, seed: int, scale: float) -> nn.Module:
        """A fresh network: PyTorch's default initialisation from ``seed`` (the caller's random state is
        left as it was), every ``Linear`` multiplied by ``scale``."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return scaled(self.make(), scale)


def _mlp(act, norm):
    return lambda: MLP(D_IN, WIDTH, DEPTH, act, norm)


#: the sequence models whose width :func:`sequence` sets: name → the block at width d
BLOCK = {"transformer": TransformerBlock, "mixer": lambda d: MixerBlock(TOKENS, d)}


def sequence(name: str, d: int = D_MODEL) -> Spec:
    """The transformer or the mixer of :data:`ZOO` at model width ``d`` (the residual stream's; the blocks'
    MLPs are ``2d`` wide), everything else as in :data:`ZOO`: the width sweep of the chapter *Beyond the
    paper's architectures* builds its networks so (:mod:`reptheory.lab.width`).

    >>> sequence("mixer", 32).build(seed=0, scale=0.25).embed.out_features
    32
    """
    if name not in BLOCK:
        raise ValueError(f"name must be one of {tuple(BLOCK)}, got {name!r}")
    d = _v.integer("d", d, 2)
    if name == "transformer" and d % 2:
        raise ValueError(f"d must be even for the transformer's 2 heads, got {d}")
    block = BLOCK[name]
    what = (f"pre-LayerNorm transformer encoder: {BLOCKS} blocks (2-head self-attention, GELU MLP, residuals), "
            f"{TOKENS} tokens of {FEATURES} numbers, width {d}, mean-pooled read-out; block 2's output tracked"
            if name == "transformer" else
            f"MLP-Mixer-style stack: {BLOCKS} blocks (token-mixing and channel-mixing GELU MLPs, LayerNorm, "
            f"residuals), {TOKENS} tokens, width {d}; block 2's output tracked")
    return Spec(name, functools.partial(SequenceNet, block, d), (TOKENS, FEATURES), "blocks.2", what)


#: the architectures of the chapter "Beyond the paper's architectures"
ZOO = {s.name: s for s in (
    sequence("transformer"),
    sequence("mixer"),
    Spec("layernorm MLP", _mlp(nn.LeakyReLU, True), (D_IN,), f"blocks.{DEPTH // 2}",
         f"MLP with LayerNorm: {DEPTH} blocks Linear → LayerNorm → leaky ReLU, width {WIDTH}; block 3 tracked"),
    Spec("GELU MLP", _mlp(nn.GELU, False), (D_IN,), f"blocks.{DEPTH // 2}",
         f"MLP with GELU: {DEPTH} blocks Linear → GELU, width {WIDTH}; block 3 tracked"),
    Spec("deep linear", _mlp(None, False), (D_IN,), f"blocks.{DEPTH // 2}",
         f"deep linear network: {DEPTH} Linear layers, width {WIDTH}; layer 3 tracked"),
    Spec("wide two-layer", lambda: TwoLayer(2, 1000), (2,), "act",
         "two-layer network: one hidden layer of 1000 ReLU units on 2 inputs; the hidden layer tracked"),
)}
