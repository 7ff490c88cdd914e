"""The effective-theory explorer: Eq. 7, Eq. 9 and Eq. 10 for one choice of rates, initial scale and data.

One state per parameter combination, built with Eq. 41's scaling of a reference initial state (the
convention of :func:`reptheory.theory.regimes.scale_sweep`):

* ``h2_0 = α ||Δx||²`` (the representational distance starts proportional to the input distance),
* ``Δŷ_0 = 0.1 α ||Δy||`` along ``Δy`` at ``α = 1``, i.e. ``y2_0 = α² y2_ref``,
  ``w_0 = α² y2_ref − α (y2_ref − w_ref)`` with ``y2_ref = 0.01 ||Δy||²``, ``w_ref = y2_ref − 0.1 ||Δy||²``,

with ``eta_y`` fixed at :data:`ETA_Y` per epoch and ``eta_h = eta_ratio · eta_y``: only the ratio changes the
shape of the curves, the product sets the time unit. The loss is Eq. 9 without its mean part (``m0 = 0``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reptheory import validate as _v
from reptheory.theory import ode as _th

__all__ = ["ETA_Y", "T_END", "ExplorerState", "state", "frame", "PARAMS", "INITIAL", "slider", "GridChecks",
           "grid_checks"]

#: the output rate (1/epoch) of every explorer frame; ``eta_h = eta_ratio * ETA_Y``
ETA_Y = 0.01
#: the frames' time window (epochs, log-spaced from 1 so that long plateaus and fast transitions both show)
T_END = 1e5
Y_REF, DY_REF = 0.01, 0.1      # y2_ref / dy2 and Δy·Δŷ_ref / dy2 at α = 1


@dataclass(frozen=True)
class ExplorerState:
    """One explorer point: the solved trajectory, the loss (Eq. 9, ``m0 = 0``) and the fixed point terms."""

    eta_h: float
    eta_y: float
    dx2: float
    dy2: float
    traj: _th.Trajectory
    loss: np.ndarray
    h_inf: float       # Eq. 10
    a_high: float      # Eq. 11, lazy term
    a_low: float       # Eq. 11, rich term

    @property
    def converged(self) -> bool:
        """``h2`` at the window's end within 2 % of Eq. 10."""
        return abs(self.traj.h2[-1] / self.h_inf - 1) <= 0.02

    @property
    def regime(self) -> str:
        r = abs(self.a_high) / self.a_low
        return "rich" if r < 0.3 else ("lazy" if r > 3 else "between")


def state(eta_ratio: float, alpha: float, dx: float, dy: float, n_t: int = 400) -> ExplorerState:
    """Solve Eq. 7 for ``eta_h/eta_y = eta_ratio``, initial scale ``alpha``, ``||Δx|| = dx``, ``||Δy|| = dy``."""
    for name, v in (("eta_ratio", eta_ratio), ("alpha", alpha), ("dx", dx), ("dy", dy)):
        _v.positive(name, v)
    eta_h, dx2, dy2 = eta_ratio * ETA_Y, dx**2, dy**2
    h0 = alpha * dx2
    y_ref, w_ref = Y_REF * dy2, Y_REF * dy2 - DY_REF * dy2
    y0 = alpha**2 * y_ref
    w0 = y0 - alpha * (y_ref - w_ref)
    t = np.concatenate([[0.0], np.geomspace(1.0, T_END, n_t - 1)])
    tr = _th.solve(t, h0, y0, w0, eta_h, ETA_Y, dx2, dy2)
    return ExplorerState(eta_h, ETA_Y, dx2, dy2, tr, _th.loss(t, tr.y2, tr.w, dy2, 1.0, 0.0),
                         float(_th.h_inf(h0, y0, eta_h, ETA_Y, dx2, dy2)), float(_th.a_high(h0, y0, eta_h, ETA_Y, dx2)),
                         float(_th.a_low(eta_h, ETA_Y, dx2, dy2)))


def frame(eta_ratio: float, alpha: float, dx: float, dy: float):
    """The explorer figure for one combination: the three curves with Eq. 10 and its rich and lazy limits
    (left), the loss (right). Returns the matplotlib figure."""
    import matplotlib.pyplot as plt
    from reptheory.presentation import plots
    s = state(eta_ratio, alpha, dx, dy)
    fig, (ax, axl) = plt.subplots(1, 2, figsize=(plots.COLUMN, 3.4), gridspec_kw={"width_ratios": [1.6, 1]})
    tr = _th.Trajectory(s.traj.t[1:], s.traj.h2[1:], s.traj.y2[1:], s.traj.w[1:])   # log axis: no t = 0
    for n in ("h2", "y2", "w"):       # solid: the page shows only the theory, and dashes and dots mark Eq. 10 and
        ax.plot(tr.t, getattr(tr, n), color=plots.COLORS[n], lw=2.0, label=plots.LABELS[n])   # the limits
    ax.set_xlabel("epoch")
    ax.set_xscale("log")
    # the limits are dotted, thick and on top, so that each stays visible where Eq. 10's dashed line meets it
    for y, st, lab in ((s.h_inf, dict(color="k", ls="--", lw=1.0), r"Eq. 10: $\|\Delta h(\infty)\|^2$"),
                       (s.a_low, dict(color=plots.OKABE_ITO["sky"], ls=":", lw=2.6, zorder=4), r"rich limit $A_{low}$"),
                       (max(s.a_high, 0.0), dict(color=plots.OKABE_ITO["purple"], ls=":", lw=2.6, zorder=4),
                        r"lazy limit $\max(A_{high},0)$")):
        ax.axhline(y, **st, label=lab)
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncol=3, fontsize=9)
    ax.set_ylabel("squared distance, alignment")
    ax.set_title(f"{s.regime}: $|A_{{high}}|/A_{{low}}$ = {abs(s.a_high) / s.a_low:.2g}"
                 + ("" if s.converged else "  (not settled in the window)"), fontsize=9)
    axl.loglog(tr.t, np.maximum(s.loss[1:], 1e-12), color=plots.COLORS["loss"])
    axl.set_ylim(max(1e-8, float(np.min(s.loss)) * 0.5), float(np.max(s.loss)) * 2)
    axl.set_xlabel("epoch")
    axl.set_ylabel("½ MSE")
    axl.set_title("loss, Eq. 9 (difference part)", fontsize=9)
    return fig


#: the explorer's sliders: keyword of :func:`frame` -> (label, values); 7 x 4 x 2 x 3 = 168 frames, drawn at the
#: column's width (100 dpi) with 64 colours, so that the page stays near 3 MB
PARAMS = {
    "eta_ratio": ("η_h / η_y", (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)),
    "alpha": ("initial scale α", (1e-4, 1e-2, 0.1, 3.0)),
    "dx": ("‖Δx‖", (1.0, 2.0)),
    "dy": ("‖Δy‖", (0.5, 1.0, 2.0)),
}
#: the explorer's slider positions when the page opens
INITIAL = {"eta_ratio": 0.1, "alpha": 1e-2, "dx": 1.0, "dy": 1.0}


def slider(progress: bool = False):
    """The explorer as a :class:`reptheory.presentation.widgets.FrameSlider` over :data:`PARAMS` (all frames drawn now)."""
    from reptheory.presentation.widgets import FrameSlider
    return FrameSlider(frame, {k: v for k, (_, v) in PARAMS.items()}, labels={k: lab for k, (lab, _) in PARAMS.items()},
                       initial=INITIAL, progress=progress, dpi=100, colors=64)


@dataclass(frozen=True)
class GridChecks:
    """What the explorer's page checks over every frame of :data:`PARAMS` (a frame is ``(eta_ratio, alpha, dx,
    dy)``): the frames whose ``h2`` has not settled to Eq. 10 in the window; the rich limit's relative error
    ``h_inf / A_low − 1`` at ``alpha = 1e-4``; the final distance's ratio for ``||Δy||`` 1.0 against 0.5 at
    ``alpha = 1e-4`` per ``(eta_ratio, dx)`` (the rich limit, Eq. 11, makes it 2); the lazy limit's relative
    error ``h_inf / h2_0 − 1`` at ``alpha = 3`` and ``eta_h / eta_y = 0.01``."""

    unsettled: list
    rich_errors: list
    doubling: list
    lazy_errors: list


def grid_checks() -> GridChecks:
    """:class:`GridChecks` over every frame of :data:`PARAMS` (168 solves of Eq. 7, a few seconds).

    >>> chk = grid_checks()
    >>> chk.unsettled, round(max(map(abs, chk.rich_errors)), 3) <= 0.01
    ([], True)
    """
    values = {k: v for k, (_, v) in PARAMS.items()}
    states = {c: state(*c) for c in [(r, a, dx, dy) for r in values["eta_ratio"] for a in values["alpha"]
                                     for dx in values["dx"] for dy in values["dy"]]}
    return GridChecks(
        unsettled=[c for c, s in states.items() if not s.converged],
        rich_errors=[s.h_inf / s.a_low - 1 for c, s in states.items() if c[1] == 1e-4],
        doubling=[states[(r, 1e-4, dx, 1.0)].traj.h2[-1] / states[(r, 1e-4, dx, 0.5)].traj.h2[-1]
                  for r in values["eta_ratio"] for dx in values["dx"]],
        lazy_errors=[s.h_inf / s.traj.h2[0] - 1 for c, s in states.items() if c[0] == 0.01 and c[1] == 3.0])
