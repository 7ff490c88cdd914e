"""The sequel's settings (arXiv:2507.09897): App. C.1's streaming-parity run, the book's training-length grid and
data-fraction points, and the data-fraction × gain phase diagram of its Fig. 9, per profile.

>>> PARITY_PAPER.epochs, PHASE_GRID["default"][2]
(1000, 3000)
"""
from __future__ import annotations

import dataclasses

import numpy as np

from reptheory.configs.fields import ParitySetting

__all__ = ["PARITY_PAPER", "GRID_MAX_LEN", "GRID_GAINS", "GRID_GAINS_FRACTION", "GRID_LONG_MAX_LEN", "PHASE_GRID",
           "PHASE_LOSSES", "profile_tables", "phase_grid", "phase_names", "paper_counterpart"]

#: App. C.1 exactly: ReLU, 100 units, gain 0.1, h0 = 1, SGD lr 0.02, batch 128, strings of length 1-10, 1000 epochs
PARITY_PAPER = ParitySetting(name="parity", epochs=1000, seeds=(0, 1, 2))

#: Chapter S2's grid: longest training length × initial gain (4 seeds each), and two data-fraction points
GRID_MAX_LEN = (2, 3, 4, 5, 6, 8)
#: the training-length grid's initial gains
GRID_GAINS = (0.1, 0.3, 0.5, 1.0)
#: the gains of the two half-data points (a data fraction of 0.5)
GRID_GAINS_FRACTION = (0.1, 1.0)
#: the longest lengths at which the smallest gain is also trained for the whole budget, without stopping
GRID_LONG_MAX_LEN = (6,)
#: the sequel's Fig. 9 as the authors drew it: initial gain × data fraction, per profile (gains, fractions,
#: epoch cap); both losses; 3 seeds per cell (the authors ran one)
PHASE_GRID = {"default": ((0.1, 1.0), (0.3, 0.5, 0.7), 3000),
              "paper": (tuple(round(float(g), 4) for g in np.linspace(0.1, 1.0, 20)),
                        tuple(round(float(p), 4) for p in np.linspace(0.1, 1.0, 20)), 10**6)}
#: the phase diagram's losses: cross-entropy (the authors') and MSE (the book's variant)
PHASE_LOSSES = ("ce", "mse")

_GRID_NOTE = ("not in the paper: the cheap stand-in for its Fig. 9 (which varies the data fraction and the gain "
              "with a cross-entropy loss on a GPU): all strings up to max_len, MSE, stop at MSE < 1e-4")
_PHASE_NOTE = {"ce": "the sequel's Fig. 9 protocol: cross-entropy, stop at training loss < 1e-3; 3 seeds (the authors "
                     "ran 1); accuracy on 100 random strings of length 100 (theirs: 30)",
               "mse": "the book's variant of the Fig. 9 protocol: MSE on the one-hot parity (as App. C.1), stop at "
                      "training loss < 1e-3; 3 seeds; accuracy on 100 random strings of length 100"}
_PHASE_CAP = {"default": (f"; CI budget: at most {PHASE_GRID['default'][2]} epochs (the authors: 10⁶) on a "
                          f"{len(PHASE_GRID['default'][0])} × {len(PHASE_GRID['default'][1])} grid (theirs: 20 × 20)"),
              "paper": ""}


def _phase_name(loss: str, gain: float, frac: float) -> str:
    return f"phase/{loss}/g{gain:g}/p{frac:g}"


def _phase_cell(loss: str, gain: float, frac: float, profile: str) -> ParitySetting:
    """One cell of the phase diagram: the Fig. 9 protocol (stop at training loss < 1e-3, 3 seeds) at ``gain`` and
    data fraction ``frac`` under ``profile``'s epoch cap."""
    cap = PHASE_GRID[profile][2]
    return ParitySetting(name=_phase_name(loss, gain, frac), gain=gain, frac=frac, loss=loss, epochs=cap,
                         stop_loss=1e-3, track_every=cap, track_long=False, seeds=(0, 1, 2),
                         note=_PHASE_NOTE[loss] + _PHASE_CAP[profile])


def profile_tables() -> dict[str, dict[str, ParitySetting]]:
    """The sequel's settings of each profile, ``{profile: {name: setting}}``."""
    default = dataclasses.replace(PARITY_PAPER, epochs=800,
                                  note="CI budget: 800 epochs (paper: 1000; the transition is near epoch 550)")
    extra = {"parity_h0_zero": dataclasses.replace(default, name="parity_h0_zero", h0=0.0, seeds=(0,),
                                                   track_every=50, track_long=False,
                                                   note="not in the paper: h0 = 0 instead of all ones")}
    for L in GRID_MAX_LEN:
        for g in GRID_GAINS:
            extra[f"grid/L{L}/g{g:g}"] = ParitySetting(
                name=f"grid/L{L}/g{g:g}", max_len=L, gain=g, epochs=4000, stop_loss=1e-4, track_every=4000,
                track_long=False, seeds=(0, 1, 2, 3), note=_GRID_NOTE)
    for L in GRID_LONG_MAX_LEN:
        name = f"grid_long/L{L}/g{GRID_GAINS[0]:g}"
        extra[name] = dataclasses.replace(
            extra[f"grid/L{L}/g{GRID_GAINS[0]:g}"], name=name, stop_loss=None,
            note="not in the paper: the smallest gain's grid runs trained for the whole 4000 epochs instead of "
                 "stopping at MSE < 1e-4 (is the stopping rule what holds it back?)")
    for g in GRID_GAINS_FRACTION:
        extra[f"fraction/g{g:g}"] = ParitySetting(
            name=f"fraction/g{g:g}", frac=0.5, gain=g, epochs=2000, stop_loss=1e-4, track_every=2000,
            track_long=False, seeds=(0, 1, 2), note="not in the paper: half of each length's strings (a point of "
                                                     "its Fig. 9's data-fraction axis), MSE, at most 2000 epochs")
    tables = {}
    for prof, base in (("paper", PARITY_PAPER), ("default", default)):
        table = {"parity": base} | extra
        gains, fractions, _ = PHASE_GRID[prof]
        for loss in PHASE_LOSSES:
            for g in gains:
                for p in fractions:
                    cell = _phase_cell(loss, g, p, prof)
                    table[cell.name] = cell
        tables[prof] = table
    return tables


def phase_grid(profile: str | None = None) -> tuple:
    """The data-fraction × gain grid of ``profile``: ``(gains, fractions, epoch cap)``."""
    from reptheory.configs import profile_name
    return PHASE_GRID[profile_name(profile)]


def phase_names(loss: str, profile: str | None = None) -> dict:
    """The names of the data-fraction × gain grid's settings for ``loss``: ``{(gain, fraction): name}``.

    >>> phase_names("ce", "default")[0.1, 0.3]
    'phase/ce/g0.1/p0.3'
    """
    if loss not in PHASE_LOSSES:
        raise ValueError(f"loss must be one of {', '.join(PHASE_LOSSES)}, got {loss!r}")
    gains, fractions, _ = phase_grid(profile)
    return {(g, p): _phase_name(loss, g, p) for g in gains for p in fractions}


def paper_counterpart(st: ParitySetting) -> ParitySetting | None:
    """What the sequel ran in place of ``st``: App. C.1 for the main run, the authors' Fig. 9 protocol (their cap
    and stopping rule, at this cell's gain and fraction) for a phase-diagram cell, nothing for the book's own."""
    if st.name == "parity":
        return PARITY_PAPER
    if st.name.startswith("phase/"):
        return _phase_cell(st.loss, st.gain, st.frac, "paper")
    return None
