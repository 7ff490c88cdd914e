"""The sequel's settings (arXiv:2507.09897): App. C.1's streaming-parity run, the book's training-length grid and
data-fraction points, and the data-fraction × gain phase diagram of its Fig. 9, per profile.

>>> PARITY_PAPER.epochs, PHASE_GRID["default"][2]
(1000, 3000)
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from reptheory.configs.bars import PARITY
from reptheory.configs.fields import ParitySetting

__all__ = ["PARITY_PAPER", "GRID_MAX_LEN", "GRID_GAINS", "GRID_GAINS_FRACTION", "GRID_LONG_MAX_LEN", "PHASE_GRID",
           "PHASE_LOSSES", "profile_tables", "phase_grid", "PhaseDiagram", "phase_diagram", "LengthGrid", "length_grid",
           "paper_counterpart"]

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


def _length_cell(max_len: int, gain: float) -> ParitySetting:
    """One cell of the training-length grid: all strings up to ``max_len``, MSE, stop at MSE < 1e-4."""
    return ParitySetting(name=f"grid/L{max_len}/g{gain:g}", max_len=max_len, gain=gain, epochs=4000, stop_loss=1e-4,
                         track_every=4000, track_long=False, seeds=(0, 1, 2, 3), note=_GRID_NOTE)


def _unstopped_cell(max_len: int, gain: float) -> ParitySetting:
    """A training-length cell trained for the whole 4000 epochs, with no stopping rule."""
    return dataclasses.replace(
        _length_cell(max_len, gain), name=f"grid_long/L{max_len}/g{gain:g}", stop_loss=None,
        note="not in the paper: the smallest gain's grid runs trained for the whole 4000 epochs instead of "
             "stopping at MSE < 1e-4 (is the stopping rule what holds it back?)")


def _half_data_cell(gain: float) -> ParitySetting:
    """The earlier half-data point: every length up to 10 at a data fraction of 0.5, MSE, at most 2000 epochs."""
    return ParitySetting(name=f"fraction/g{gain:g}", frac=0.5, gain=gain, epochs=2000, stop_loss=1e-4,
                         track_every=2000, track_long=False, seeds=(0, 1, 2),
                         note="not in the paper: half of each length's strings (a point of its Fig. 9's "
                              "data-fraction axis), MSE, at most 2000 epochs")


def profile_tables() -> dict[str, dict[str, ParitySetting]]:
    """The sequel's settings of each profile, ``{profile: {name: setting}}``."""
    default = dataclasses.replace(PARITY_PAPER, epochs=800,
                                  note="CI budget: 800 epochs (paper: 1000; the transition is near epoch 550)")
    cells = [_length_cell(L, g) for L in GRID_MAX_LEN for g in GRID_GAINS]
    cells += [_unstopped_cell(L, GRID_GAINS[0]) for L in GRID_LONG_MAX_LEN]
    cells += [_half_data_cell(g) for g in GRID_GAINS_FRACTION]
    extra = {"parity_h0_zero": dataclasses.replace(default, name="parity_h0_zero", h0=0.0, seeds=(0,),
                                                   track_every=50, track_long=False,
                                                   note="not in the paper: h0 = 0 instead of all ones")}
    extra |= {c.name: c for c in cells}
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


@dataclass(frozen=True)
class PhaseDiagram:
    """The sequel's Fig. 9 as the authors drew it, under one profile: the data fraction × initial gain grid, each
    cell's setting keyed by its fields, and the page's bars.

    >>> d = phase_diagram("default")
    >>> d.cells["ce", 0.1, 0.3].name, d.cells["ce", 0.1, 0.3].frac, len(d.cells), d.seeds, d.states
    ('phase/ce/g0.1/p0.3', 0.3, 12, (0, 1, 2), 2047)
    """

    profile: str
    gains: tuple                  # initial gains (the gain axis, smallest first)
    fractions: tuple              # data fractions p (each string of each length kept with probability p)
    cap: int                      # the epoch cap of every run (the authors': 10⁶)
    losses: tuple                 # "ce" (the authors' cross-entropy) and "mse" (the book's variant)
    seeds: tuple                  # the seeds of every cell (the authors ran one)
    cells: dict                   # {(loss, gain, fraction): ParitySetting}
    generalises: float = PARITY["generalises"]      # a run generalises: accuracy at length 100 at least this
    chance: float = PARITY["chance"]                # a run is at chance: accuracy at most this

    @property
    def states(self) -> int:
        """The automaton's states when no two prefixes merge: every prefix up to the cells' longest length,
        the empty one included (2047 for strings up to length 10)."""
        return 2 ** (next(iter(self.cells.values())).max_len + 1) - 1

    def settings(self) -> list[ParitySetting]:
        """Every cell's setting, losses major, then gains, then fractions."""
        return list(self.cells.values())


def phase_diagram(profile: str | None = None) -> PhaseDiagram:
    """The :class:`PhaseDiagram` of ``profile`` (the runtime's by default)."""
    from reptheory.configs import get, profile_name
    prof = profile_name(profile)
    gains, fractions, cap = PHASE_GRID[prof]
    cells = {(loss, g, p): get(_phase_name(loss, g, p), prof) for loss in PHASE_LOSSES for g in gains
             for p in fractions}
    seeds = next(iter(cells.values())).seeds
    return PhaseDiagram(prof, gains, fractions, cap, PHASE_LOSSES, seeds, cells)


@dataclass(frozen=True)
class LengthGrid:
    """The book's training-length grid (all strings up to ``max_len``, MSE, stop at MSE < 1e-4) and the runs that
    test why its smallest gain fell out of line, each setting keyed by its fields; the same in every profile.

    >>> g = length_grid()
    >>> g.cells[0.1, 6].max_len, g.unstopped[0.1, 6].stop_loss, g.half_data[1.0].frac, g.seeds
    (6, None, 0.5, (0, 1, 2, 3))
    """

    gains: tuple                  # initial gains
    max_lens: tuple               # longest training length L_max (the data axis)
    seeds: tuple                  # the seeds of every grid cell
    cells: dict                   # {(gain, max_len): ParitySetting}, stopped at MSE < 1e-4, at most 4000 epochs
    unstopped: dict               # {(gain, max_len): ParitySetting}, the same runs trained for all 4000 epochs
    half_data: dict               # {gain: ParitySetting}, every length up to 10 at fraction 0.5, at most 2000 epochs
    generalises: float = PARITY["generalises"]      # a run generalises: accuracy at least this
    chance: float = PARITY["chance"]                # a run is at chance: accuracy at most this

    def settings(self) -> list[ParitySetting]:
        """Every setting of the grid (``max_len`` major) and its two side experiments (the half-data points, then
        the unstopped runs)."""
        return [*self.cells.values(), *self.half_data.values(), *self.unstopped.values()]


def length_grid(profile: str | None = None) -> LengthGrid:
    """The :class:`LengthGrid` (from ``profile``'s registry; its settings are the same in every profile)."""
    from reptheory.configs import get, profile_name
    prof = profile_name(profile)
    cells = {(g, L): get(_length_cell(L, g).name, prof) for L in GRID_MAX_LEN for g in GRID_GAINS}
    unstopped = {(GRID_GAINS[0], L): get(_unstopped_cell(L, GRID_GAINS[0]).name, prof) for L in GRID_LONG_MAX_LEN}
    half = {g: get(_half_data_cell(g).name, prof) for g in GRID_GAINS_FRACTION}
    return LengthGrid(GRID_GAINS, GRID_MAX_LEN, next(iter(cells.values())).seeds, cells, unstopped, half)


def paper_counterpart(st: ParitySetting) -> ParitySetting | None:
    """What the sequel ran in place of ``st``: App. C.1 for the main run, the authors' Fig. 9 protocol (their cap
    and stopping rule, at this cell's gain and fraction) for a phase-diagram cell, nothing for the book's own."""
    if st.name == "parity":
        return PARITY_PAPER
    cells = {_phase_name(loss, g, p) for gains, fractions, _ in PHASE_GRID.values() for loss in PHASE_LOSSES
             for g in gains for p in fractions}
    return _phase_cell(st.loss, st.gain, st.frac, "paper") if st.name in cells else None
