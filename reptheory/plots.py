"""One plotting style for the whole book: network curves solid, theory curves dashed, fixed colours for
``h2``, ``y2``, ``w`` and the loss."""
from __future__ import annotations

import matplotlib.pyplot as plt

COLORS = {"h2": "#1f77b4", "y2": "#d62728", "w": "#2ca02c", "loss": "#444444"}
LABELS = {"h2": r"$\|\Delta h\|^2$", "y2": r"$\|\Delta\hat y\|^2$", "w": r"$w$", "loss": r"$\mathcal{L}$"}
THEORY = {"ls": "--", "lw": 1.8}
MEASURED = {"ls": "-", "lw": 2.4, "alpha": 0.55}


def style() -> None:
    """Apply the book's matplotlib defaults (deterministic: no usetex, fixed DPI and font)."""
    plt.rcParams.update({"figure.dpi": 100, "savefig.dpi": 100, "font.size": 10, "axes.spines.top": False,
                         "axes.spines.right": False, "legend.frameon": False, "figure.constrained_layout.use": True})


def curves(ax, traj, kind: str = "theory", names=("h2", "y2", "w"), label: str | None = None) -> None:
    """Draw the curves of a :class:`reptheory.theory.Trajectory` on one axis, in the book's style.

    ``kind`` is ``"theory"`` (dashed) or ``"network"`` (solid, translucent)."""
    if kind not in ("theory", "network"):
        raise ValueError(f"kind must be 'theory' or 'network', got {kind!r}")
    st = THEORY if kind == "theory" else MEASURED
    for n in names:
        lab = LABELS[n] if label is None else f"{LABELS[n]} {label}"
        ax.plot(traj.t, getattr(traj, n), color=COLORS[n], label=lab, **st)
    ax.set_xlabel("epoch")
