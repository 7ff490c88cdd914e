"""The settings of the weight-sharing tests (arXiv:2602.15593, Bauer, Fischer, Helias & Palmigiano), whose full
text and code were not available to us: every field's counterpart in the paper is unknown, except where its
abstract names it (:data:`PAPER_SAYS`).

Two settings, one per claim of the abstract, both sampled by :mod:`reptheory.sequel.langevin`:

* :data:`SHARING_TRANSITION`: a DNN-typical task (±1 labels read at the last step), swept over the signal ``s``
  at three widths, for the transition in the cross-time overlap;
* :data:`SHARING_INTERPOLATION`: a sequential task (a sine per input) supervised at some steps only, for the error
  at the steps left out.

>>> SHARING_TRANSITION.widths, SHARING_INTERPOLATION.supervised
((32, 64, 128), (1, 2, 3, 6, 7, 8))
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from reptheory.configs.fields import _Fields

__all__ = ["SharingSetting", "SHARING_TRANSITION", "SHARING_INTERPOLATION", "PAPER_SAYS", "TASKS", "described"]

#: the tasks a :class:`SharingSetting` may name (``task``)
TASKS = ("endpoint", "sequence")

#: what the abstract of arXiv:2602.15593, or the third-party summaries of it, say about a field; every other field's
#: counterpart is unknown
PAPER_SAYS = {
    "task": "DNN-typical tasks (claim 1), sequential tasks (claim 2); summaries: orthogonal inputs, sinusoidal "
            "sequences; the tasks themselves unknown",
    "patterns": "orthogonal inputs (summaries); how many unknown",
    "signals": "a learning signal that overcomes the noise from random weights; its definition unknown",
    "widths": "a mean-field (μP) theory of the wide limit; the widths it was tested at unknown",
    "step_size": "posterior sampled by Langevin dynamics (summaries: SGLD); its step unknown",
}


@dataclass(frozen=True)
class SharingSetting(_Fields):
    """One weight-sharing test: an RNN (one recurrent matrix) and its unrolled DNN (untied matrices) sampled from
    their Bayesian posteriors by Langevin dynamics (:mod:`reptheory.sequel.langevin`), for every width, signal and
    seed. Each field's ``metadata["doc"]`` is the line the book prints beside it."""

    KIND = "sharing setting"

    name: str = field(metadata={"doc": "the setting's name"})
    task: str = field(default="endpoint", metadata={
        "doc": "endpoint: ±1 labels read at the last step; sequence: sin(ω(t − 1) + 2πμ/P) read at each step"})
    widths: tuple = field(default=(32, 64, 128), metadata={"doc": "hidden units N (one run per width)"})
    time_steps: int = field(default=6, metadata={"doc": "time steps T (the DNN's depth)"})
    patterns: int = field(default=16, metadata={"doc": "one-hot inputs P, fed at the first step only"})
    gain: float = field(default=1.2, metadata={"doc": "prior std g of each recurrent weight (bulk radius of W/√N)"})
    signals: tuple = field(default=(0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 5.0, 10.0), metadata={
        "doc": "signal s: the loss's weight against the prior, s = 1/(N × temperature)"})
    supervised: tuple | None = field(default=None, metadata={
        "doc": "the steps whose outputs enter the loss (1 … T); left unset, the last step only"})
    omega: float = field(default=0.7853981633974483, metadata={"doc": "ω, the sine's phase advance per step"})
    step_size: float = field(default=0.02, metadata={
        "doc": "Langevin step ε at s ≤ 3; above, ε = step_size × 3/s (the loss's curvature grows with s)"})
    langevin_steps: int = field(default=4000, metadata={"doc": "Langevin steps from the prior draw"})
    every: int = field(default=50, metadata={"doc": "steps between samples, taken over the second half"})
    seeds: tuple = field(default=(0, 1, 2, 3, 4), metadata={
        "doc": "one chain per seed (initial weights, labels shared; noise per chain)"})
    note: str = field(default="", compare=False, metadata={"doc": "what the setting is for"})

    def __post_init__(self):
        self._plain("gain", "omega", "step_size", "time_steps", "patterns", "langevin_steps", "every")
        self._choice("task", TASKS)
        self._integer("time_steps", 2, 64)
        self._integer("patterns", 2, 4096)
        self._integer("langevin_steps", 2, 10**7)
        self._integer("every", 1, 10**7)
        self._positive("gain", "omega", "step_size")
        for fld in ("widths", "signals", "seeds"):
            if isinstance(getattr(self, fld), list):
                object.__setattr__(self, fld, tuple(getattr(self, fld)))
        if (not isinstance(self.widths, tuple) or not self.widths or
                not all(isinstance(n, int) and not isinstance(n, bool) and 2 <= n <= 4096 for n in self.widths)):
            self._bad("widths", "a non-empty tuple of integers in [2, 4096]")
        if (not isinstance(self.signals, tuple) or not self.signals or not all(
                isinstance(s, (int, float)) and not isinstance(s, bool) and 0 < s < float("inf")
                for s in self.signals)):
            self._bad("signals", "a non-empty tuple of finite numbers > 0")
        if (not isinstance(self.seeds, tuple) or not self.seeds
                or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in self.seeds)):
            self._bad("seeds", "a non-empty tuple of integers >= 0")
        sup = self.supervised
        if isinstance(sup, list):
            object.__setattr__(self, "supervised", sup := tuple(sup))
        if sup is not None and (not isinstance(sup, tuple) or not sup or len(set(sup)) != len(sup) or not all(
                isinstance(t, int) and not isinstance(t, bool) and 1 <= t <= self.time_steps for t in sup)):
            self._bad("supervised", f"None or a tuple of distinct integers in [1, {self.time_steps}]")
        if self.langevin_steps // 2 < self.every:
            self._bad("every", f"an integer <= langevin_steps // 2 = {self.langevin_steps // 2} (at least one "
                               "sample in the second half)")

    @property
    def supervised_steps(self) -> tuple:
        """The steps (1 … T) whose outputs enter the loss."""
        return (self.time_steps,) if self.supervised is None else tuple(sorted(self.supervised))

    def run_fields(self) -> dict:
        """Every field that decides a chain (all but the name, the note, the widths, the signals and the seeds,
        which each job names on its own).

        >>> "widths" in SHARING_TRANSITION.run_fields(), SHARING_TRANSITION.run_fields()["gain"]
        (False, 1.2)
        """
        d = dataclasses.asdict(self)
        for k in ("name", "note", "widths", "signals", "seeds"):
            del d[k]
        return d


def described(st: SharingSetting) -> list[dict]:
    """``st``'s fields as table rows: the field, its value, what it means, and what the paper used (unknown unless
    its abstract or a summary of it says, :data:`PAPER_SAYS`).

    >>> described(SHARING_TRANSITION)[4]["paper"]
    'unknown'
    """
    rows = []
    for f in dataclasses.fields(st):
        if f.name in ("name", "note"):
            continue
        v = getattr(st, f.name)
        if f.name == "supervised":
            v = st.supervised_steps
        if isinstance(v, tuple):
            v = ", ".join(f"{x:g}" for x in v)
        elif isinstance(v, float):
            v = f"{v:.4g}"
        rows.append({"field": f.name, "value": v,
                     "meaning": f.metadata["doc"], "paper": PAPER_SAYS.get(f.name, "unknown")})
    return rows


#: claim 1: ±1 labels at the last of 6 steps, 16 inputs, 8 signals × 3 widths × 5 seeds, for each network
SHARING_TRANSITION = SharingSetting(
    name="sharing_transition", note="the book's test of claim 1; the paper's task, widths and signal unknown")

#: claim 2: a sine per input over 8 steps, steps 4 and 5 left out of the loss, one strong signal, width 64
SHARING_INTERPOLATION = SharingSetting(
    name="sharing_interpolation", task="sequence", widths=(64,), time_steps=8, patterns=8, signals=(30.0,),
    supervised=(1, 2, 3, 6, 7, 8), langevin_steps=6000,
    note="the book's test of claim 2; the paper's sequential task unknown")
