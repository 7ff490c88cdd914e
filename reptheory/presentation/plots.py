"""One plotting style for the whole book: network curves solid, theory curves dashed, fixed colours for
``h2``, ``y2``, ``w`` and the loss; figures drawn at the width of the book's text column (:data:`COLUMN`, 784 px
at a desktop window) so that their text shows at its point size (at least 9 pt)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from reptheory import validate as _v

#: Okabe & Ito's palette (2008), which readers with any of the common colour-vision deficiencies tell apart
#: (``tests/presentation/test_palette.py`` checks every pair the book uses under simulated protanopia,
#: deuteranopia and tritanopia)
OKABE_ITO = {"blue": "#0072B2", "vermillion": "#D55E00", "green": "#009E73", "orange": "#E69F00", "sky": "#56B4E9",
             "purple": "#CC79A7", "black": "#000000"}
#: each curve's colour (Okabe & Ito's colour-blind-safe palette)
COLORS = {"h2": OKABE_ITO["blue"], "y2": OKABE_ITO["vermillion"], "w": OKABE_ITO["green"], "loss": "#444444"}
#: matplotlib's colour cycle in the book (``"C0"``, ``"C1"``, … in a notebook): Okabe & Ito's order
CYCLE = tuple(OKABE_ITO[k] for k in ("blue", "vermillion", "green", "orange", "sky", "purple", "black"))
#: each curve's label in the figures
LABELS = {"h2": r"$\|\Delta h\|^2$", "y2": r"$\|\Delta\hat y\|^2$", "w": r"$w$", "loss": r"$\mathcal{L}$"}
#: each curve's name in a table (plain text: a table cell's "|" would split it)
NAMES = {"h2": "‖Δh‖²", "y2": "‖Δŷ‖²", "w": "w", "loss": "loss"}
#: line style of a theory curve (dashed)
THEORY = {"ls": "--", "lw": 1.8}
#: line style of a measured curve (solid, light)
MEASURED = {"ls": "-", "lw": 2.4, "alpha": 0.55}
#: width of the book's text column at a desktop window, in inches at the figures' 100 dpi (784 px)
COLUMN = 7.8
#: a loss curve of the theory is drawn down to this value: below it, Eq. 9's terms cancel to float rounding
#: (spikes around 1e-16), which a log axis would show as structure
LOSS_FLOOR = 1e-14
#: y-axis label of a panel of the three theory variables: ‖Δh‖², ‖Δŷ‖² and w in matplotlib's mathtext
#:
#: :meta hide-value:
CURVES_YLABEL = r"$\|\Delta h\|^2$, $\|\Delta\hat y\|^2$, $w$"


def style() -> None:
    """Apply the book's matplotlib defaults (deterministic: no usetex, fixed DPI and font)."""
    from cycler import cycler
    plt.rcParams.update({"figure.dpi": 100, "savefig.dpi": 100, "font.size": 10, "legend.fontsize": 9,
                         "axes.prop_cycle": cycler(color=list(CYCLE)),
                         "axes.titlesize": 10, "axes.spines.top": False,
                         "axes.spines.right": False, "legend.frameon": False, "figure.constrained_layout.use": True,
                         "axes.formatter.use_mathtext": True,      # an axis offset as ×10ⁿ, not "1e19"
                         # room between panels: a title clear of the x-label above it, a colour bar's label
                         # clear of the next panel's y-label (inches; matplotlib's default is 3 points)
                         "figure.constrained_layout.h_pad": 0.09, "figure.constrained_layout.w_pad": 0.09})


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


def curves_legend(fig, names=("h2", "y2", "w"), network: str = "network", theory: str = "Eq. 7, fitted rates"):
    """One legend under ``fig`` for panels of :func:`curves`: a colour per variable of ``names``, then the two line
    styles, solid for the ``network``'s curves and dashed for the ``theory``'s (instead of every variable twice,
    once per style). Returns the legend.

    >>> import matplotlib.pyplot as plt
    >>> fig = plt.figure()
    >>> [t.get_text() for t in curves_legend(fig, ("h2", "w")).get_texts()][2:]
    ['network', 'Eq. 7, fitted rates']
    >>> plt.close(fig)
    """
    from matplotlib.lines import Line2D
    handles = [Line2D([], [], color=COLORS[n], lw=2.4, label=LABELS[n]) for n in names]
    handles += [Line2D([], [], color="0.35", label=network, **MEASURED),
                Line2D([], [], color="0.35", label=theory, **THEORY)]
    return fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize=9)


def two_point_panel(ax, result, names=("h2", "y2", "w"), title: str | None = None) -> None:
    """Network curves (solid) and fitted theory (dashed) of a :class:`~reptheory.experiments.result.TwoPointResult`
    (a paper setting's run or a probed model's)."""
    curves(ax, result.measured.traj, "network", names=names, label="")
    if result.fit is not None:
        curves(ax, result.fit.theory, "theory", names=names, label="")
    else:
        ax.text(0.5, 0.5, f"no theory: {result.fit_message}", transform=ax.transAxes, ha="center", fontsize=9, wrap=True)
    ax.set_title(title or result.setting.name, fontsize=9)


def loss_panel(ax, result, title: str | None = None) -> None:
    """Network training loss (solid) and Eq. 9 with the fitted rates (dashed), log scale."""
    m = result.measured
    ax.semilogy(m.traj.t, m.loss, color=COLORS["loss"], **MEASURED)
    if result.loss_theory is not None:          # below LOSS_FLOOR the theory's loss is float rounding, not signal
        theory = np.where(result.loss_theory > LOSS_FLOOR, result.loss_theory, np.nan)
        ax.semilogy(m.traj.t, theory, color="k", **THEORY)
    ax.set_title(title or result.setting.name, fontsize=9)
    ax.set_xlabel("epoch")


def schematic(ax) -> dict:
    """Fig. 1: the two-point interaction drawn from the quantities' definitions.

    Inputs ``x_1, x_2`` go through the encoder to ``h_1, h_2`` and through the decoder to predictions
    ``ŷ_1, ŷ_2`` beside the targets ``y_1, y_2``; ``w = Δŷ·(Δŷ − Δy)`` is drawn as the angle between
    ``Δŷ`` and ``Δŷ − Δy``. Returns the drawn vectors (2-D coordinates) for checks."""
    import numpy as np

    pts = {"x1": np.array([0.0, 0.2]), "x2": np.array([0.0, 1.0]),
           "h1": np.array([2.0, 0.35]), "h2": np.array([2.0, 0.85]),
           "yhat1": np.array([4.0, 0.4]), "yhat2": np.array([4.2, 0.8]),
           "y1": np.array([4.6, 0.1]), "y2": np.array([4.7, 1.15])}
    colors = {"x": "0.3", "h": COLORS["h2"], "yhat": COLORS["y2"], "y": "k"}
    names = {"x1": r"$x_1$", "x2": r"$x_2$", "h1": r"$h_1$", "h2": r"$h_2$", "yhat1": r"$\hat y_1$",
             "yhat2": r"$\hat y_2$", "y1": r"$y_1$", "y2": r"$y_2$"}
    for k, p in pts.items():
        ax.plot(*p, "o", color=colors[k.rstrip("12")], ms=9, mfc="w" if k.startswith("y") and not k.startswith("yhat") else None)
        ax.annotate(names[k], p, xytext=(8, 2), textcoords="offset points", fontsize=12)
    for a, b, lab in (("x1", "h1", "encoder $h_\\phi$"), ("x2", "h2", None), ("h1", "yhat1", "decoder $\\hat y_\\psi$"),
                      ("h2", "yhat2", None)):
        ax.annotate("", pts[b], pts[a], arrowprops=dict(arrowstyle="->", color="0.7", lw=1.2))
        if lab:
            mid = 0.5 * (pts[a] + pts[b])
            ax.text(mid[0], mid[1] - 0.17, lab, ha="center", fontsize=9, color="0.4")
    for a, b, lab, c in (("x1", "x2", r"$\|\Delta x\|$", colors["x"]), ("h1", "h2", r"$\|\Delta h\|$", colors["h"]),
                         ("yhat1", "yhat2", r"$\Delta\hat y$", colors["yhat"]), ("y1", "y2", r"$\Delta y$", colors["y"])):
        ax.annotate("", pts[b], pts[a], arrowprops=dict(arrowstyle="->", color=c, lw=2))
        mid = 0.5 * (pts[a] + pts[b])
        ax.text(mid[0] - 0.12, mid[1], lab, ha="right", va="center", color=c, fontsize=11)
    dyhat, dy = pts["yhat2"] - pts["yhat1"], pts["y2"] - pts["y1"]
    err = dyhat - dy
    o = np.array([5.7, 0.75])
    ax.annotate("", o + dyhat, o, arrowprops=dict(arrowstyle="->", color=colors["yhat"], lw=2))
    ax.annotate("", o + err, o, arrowprops=dict(arrowstyle="->", color=COLORS["w"], lw=2))
    ax.text(*(o + dyhat + [0.05, 0.0]), r"$\Delta\hat y$", color=colors["yhat"], fontsize=11)
    ax.text(*(o + err + [0.05, -0.05]), r"$\Delta\hat y-\Delta y$", color=COLORS["w"], fontsize=11)
    ax.text(o[0] - 0.5, 1.3, r"$w=\Delta\hat y\cdot(\Delta\hat y-\Delta y)$", fontsize=11)
    ax.set_xlim(-0.4, 7.0)
    ax.set_ylim(-0.1, 1.4)
    ax.axis("off")
    return {"dx": pts["x2"] - pts["x1"], "dh": pts["h2"] - pts["h1"], "dyhat": dyhat, "dy": dy}


def cell_number(v: float) -> str:
    """A number short enough for a matrix cell (at most 6 characters): two significant digits, whole numbers
    from 10 on, and a short exponent below 0.01 (``8.5e-4``, not ``0.00085``).

    >>> [cell_number(v) for v in (0.00085, 0.37, 1.1, 88.0, 105.0, 0.0)]
    ['8.5e-4', '0.37', '1.1', '88', '105', '0']
    """
    if v == 0 or not np.isfinite(v):
        return f"{v:g}"
    if abs(v) >= 10:
        return f"{v:.0f}"
    if abs(v) >= 0.01:
        return f"{v:.2g}"
    mant, exp = f"{v:.1e}".split("e")
    return f"{mant}e{int(exp)}"


def distance_matrix(ax, D, labels, vmax: float, title: str):
    """A distance matrix as an image with every off-diagonal entry written in it (2 significant digits); the
    diagonal (a point's distance to itself, 0 up to rounding) is drawn as 0 and left unwritten. Returns the
    image (for a colour bar)."""
    import numpy as np

    D = np.array(D, dtype=float)
    np.fill_diagonal(D, 0.0)
    im = ax.imshow(D, cmap="viridis", vmin=0, vmax=vmax)
    for i in range(len(D)):
        for j in range(len(D)):
            if i != j:
                ax.text(j, i, cell_number(D[i, j]), ha="center", va="center", fontsize=9,
                        color="w" if D[i, j] < 0.6 * vmax else "k")
    ax.set_xticks(range(len(D)), labels)
    ax.set_yticks(range(len(D)), labels)
    ax.set_title(title, fontsize=9)
    return im


def column_figure(nrows: int, ncols: int, row_height: float = 2.4, **kw):
    """``plt.subplots`` at the column's width, ``nrows × ncols`` panels, each row ``row_height`` inches tall;
    returns ``(fig, axes)`` with ``axes`` always 2-D."""
    nrows, ncols = _v.integer("nrows", nrows, 1), _v.integer("ncols", ncols, 1)
    return plt.subplots(nrows, ncols, figsize=(COLUMN, nrows * row_height), squeeze=False, **kw)


def _legend_slot(ax, lines: list[str]) -> None:
    ax.axis("off")
    ax.text(0.0, 0.5, "\n".join(lines), transform=ax.transAxes, va="center", fontsize=10)


def architecture_grid(results: dict, panel: str = "curves", ncols: int = 3):
    """One panel per :class:`reptheory.experiments.TwoPointResult`: the three curves with the fitted Eq. 7
    (``panel="curves"``, Fig. 2) or the loss with Eq. 9 (``"loss"``, Fig. 11); a free slot explains the lines.
    Returns the figure."""
    if panel not in ("curves", "loss"):
        raise ValueError(f"panel must be 'curves' or 'loss', got {panel!r}")
    n = len(results)
    nrows = -(-(n + 1) // ncols)
    fig, axes = column_figure(nrows, ncols, 2.3)
    flat = axes.ravel()
    for ax, (name, r) in zip(flat, results.items()):
        (two_point_panel if panel == "curves" else loss_panel)(ax, r, title=name)
    for ax in axes[:, 0]:
        ax.set_ylabel(CURVES_YLABEL if panel == "curves" else "½ MSE")
    for ax in flat[n + 1:]:
        ax.remove()
    if panel == "curves":
        handles = [plt.Line2D([], [], color=COLORS[k], lw=2.4) for k in ("h2", "y2", "w")]
        flat[n].legend(handles, [LABELS[k] for k in ("h2", "y2", "w")], loc="upper left", fontsize=10)
        _legend_slot(flat[n], ["", "", "", "", "solid: network", r"dashed: Eq. 7, fitted $\eta_h$, $\eta_y$"])
    else:
        _legend_slot(flat[n], ["solid: network loss", "dashed: Eq. 9"])
    return fig


def probe_curves(results: dict, ncols: int = 3):
    """The universality chapter's curves: one panel per :class:`~reptheory.experiments.result.TwoPointResult` (network solid,
    fitted Eq. 7 dashed), as :func:`architecture_grid`, each panel's epoch axis ending at 3× the epoch where
    the pair's loss first fell below 1 % of its start (later epochs sit at the fixed point). Returns the
    figure."""
    fig = architecture_grid(results, "curves", ncols)
    for ax, r in zip(fig.axes, results.values()):
        loss = r.measured.loss
        below = np.nonzero(loss <= 0.01 * loss[0])[0]
        if below.size:
            ax.set_xlim(0, min(float(r.measured.traj.t[-1]), 3.0 * max(float(below[0]), 10.0)))
    return fig


def gain_rows(results: dict):
    """Fig. 3: one row per initial gain, the three curves with the fitted Eq. 7 (left) and the training loss
    with Eq. 9 (right). Returns the figure."""
    fig, axes = column_figure(len(results), 2, 2.3)
    for row, r in enumerate(results.values()):
        two_point_panel(axes[row, 0], r, title=f"gain {r.setting.gain}")
        loss_panel(axes[row, 1], r, title=f"gain {r.setting.gain}: training loss")
        axes[row, 0].set_ylabel(CURVES_YLABEL)
        axes[row, 1].set_ylabel("½ MSE")
    # below the panels: inside the first one it covered the gain-0.9 transition
    curves_legend(fig)
    return fig


def final_distance_grid(results: dict, rows, dy_max: float, ncols: int = 3):
    """Fig. 5: for each architecture of ``rows``, every grid point's measured final ``||Δh||²`` against Eq. 10
    (filled: converged; open: not), coloured by ``||Δy||``, with the line of equality. Returns the figure."""
    n = len(rows)
    nrows = -(-n // ncols)
    fig, axes = column_figure(nrows, ncols, 2.5)
    for ax, name in zip(axes.ravel(), rows):
        res = results[name]
        pts = res.points
        top = max(max(p.h2_final for p in pts), max(p.predicted for p in pts)) * 1.1
        ax.plot([0, top], [0, top], color="0.6", lw=1)
        for p in pts:
            c = plt.cm.viridis(p.dy / dy_max)
            ax.scatter(p.h2_final, p.predicted, s=10 + 25 * p.dx ** 2, facecolor=c if p.converged else "none",
                       edgecolor=c if p.converged else "0.4", lw=1)
        st = res.stats()
        ax.set_title(f"{name}\nr = {st['pearson r']:.2f}, median error {100 * st['median |rel err|']:.0f} %", fontsize=9)
        ax.set(xlim=(0, top), ylim=(0, top), xlabel=r"measured $\|\Delta h(\infty)\|^2$", ylabel="Eq. 10")
    for ax in axes.ravel()[n:]:
        ax.remove()
    sm = plt.cm.ScalarMappable(cmap="viridis", norm=plt.Normalize(0, dy_max))
    fig.colorbar(sm, ax=axes.ravel()[:n].tolist(), label=r"$\|\Delta y\|$ (marker size: $\|\Delta x\|$)",
                 shrink=0.6)
    return fig


def fig5_scatter(records: dict, ncols: int = 3, size: float | None = None):
    """Measured final ``||Δh||²`` against Eq. 10's prediction, one log-log panel per
    :class:`reptheory.presentation.records.Fig5Record` of ``records`` (``{architecture: record}``; colour: ``||Δy||``),
    with the line of equality, ``ncols`` panels a row of ``size`` inches each (default: the row and its colour
    bar fill the text column, :data:`COLUMN`, at most 3.4 inches a panel). Returns the figure."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    n = len(records)
    if n == 0:
        raise ValueError("records is empty: nothing to draw")
    nrows = -(-n // ncols)
    size = min((COLUMN - 0.8) / min(n, ncols), 3.4) if size is None else size
    fig, axes = plt.subplots(nrows, min(n, ncols), figsize=(size * min(n, ncols) + 0.8, size * nrows),
                             squeeze=False, layout="constrained")
    for ax, (row, r) in zip(axes.ravel(), records.items()):
        dy, meas, pred = r.arrays()
        sc = ax.scatter(pred, meas, c=dy, cmap="viridis", vmin=0, vmax=1, s=22)
        lo = min(meas.min(), pred.min()) / 1.5
        hi = max(meas.max(), pred.max()) * 1.5
        ax.plot([lo, hi], [lo, hi], "k--", lw=1)
        ax.set(xscale="log", yscale="log", xlim=(lo, hi), ylim=(lo, hi), title=f"{row} (r = {r.stats['pearson r']:.2f})",
               xlabel=r"Eq. 10 prediction", ylabel=r"measured final $\|\Delta h\|^2$")
        for axis in (ax.xaxis, ax.yaxis):   # minor ticks unlabelled (their labels ran into each other and into the
            axis.set_minor_formatter(NullFormatter())        # decades'); an axis of little more than a decade is
            if hi / lo < 10 ** 1.3:                           # labelled at 1, 2 and 5 times each power of ten
                axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
            axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))   # short labels: 0.2, not 2×10⁻¹
    for ax in axes.ravel()[n:]:
        ax.remove()
    fig.colorbar(sc, ax=axes.ravel()[:n].tolist(), label=r"$\|\Delta y\|$", shrink=0.8)
    return fig


def distance_matrices(runs: dict, labels, columns=(("initial", "D0"), ("trained network", "D_end"),
                                                    ("theory (Eq. 10)", "D_theory"))):
    """Figs. 6 and 14: per setting, the pairwise distance matrices of ``columns`` (attribute names of a
    :class:`reptheory.experiments.XorResult`) on one colour scale per row, with its colour bar. The diagonal
    (a point with itself) is 0 by definition and left unwritten. Returns the figure."""
    fig, axes = column_figure(len(runs), len(columns), 2.5)
    for row, (name, r) in enumerate(runs.items()):
        mats = [getattr(r, attr) for _, attr in columns]
        vmax = max(float(m.max()) for m in mats)
        for col, ((title, _), D) in enumerate(zip(columns, mats)):
            im = distance_matrix(axes[row, col], D, labels, vmax, f"{name}\n{title}")   # two lines: apart
        fig.colorbar(im, ax=axes[row, :].tolist(), label="distance", shrink=0.9)
    return fig


def class_matrices(panels: dict, labels, order):
    """Figs. 9 and 16: class-sorted distance matrices (``{title: matrix}``), two per row, each with its colour
    bar; ticks at the middle of each class's block. Returns the figure."""
    import numpy as np

    n = len(panels)
    ncols = 2 if n > 1 else 1
    nrows = -(-n // ncols)
    fig, axes = column_figure(nrows, ncols, 3.4)
    y = np.asarray(labels)[order]
    ticks = [np.flatnonzero(y == k).mean() for k in np.unique(y)]
    for ax, (title, M) in zip(axes.ravel(), panels.items()):
        im = ax.imshow(M[np.ix_(order, order)], cmap="viridis")
        ax.set_title(title, fontsize=9)
        ax.set_xticks(ticks, [str(k) for k in np.unique(y)], fontsize=9)
        ax.set_yticks(ticks, [str(k) for k in np.unique(y)], fontsize=9)
        ax.set(xlabel="digit", ylabel="digit")
        fig.colorbar(im, ax=ax, label="squared distance", shrink=0.85)
    for ax in axes.ravel()[n:]:
        ax.remove()
    return fig


def mds_panels(axes, H, context, mu_x, mu_y, title: str, pairs=((0, 1), (1, 2))) -> None:
    """Figs. 8, 12, 15: the blob dataset's hidden layer ``H`` in its first three MDS dimensions, one row per pair
    of dimensions in ``pairs`` (rows of ``axes``) and one column per colouring (context, μx, μy)."""
    from reptheory.networks import structure

    Z = structure.mds(H, 3)
    for col, (colour, label) in enumerate(((context, "context"), (mu_x, r"$\mu_x$"), (mu_y, r"$\mu_y$"))):
        for row, (i, j) in enumerate(pairs):
            ax = axes[row, col]
            # translucent: where the contexts' points coincide, both colours show
            ax.scatter(Z[:, i], Z[:, j], c=colour, s=4, alpha=0.6, lw=0, cmap="coolwarm" if col else "Set1")
            ax.set_aspect("equal", adjustable="datalim")
            ax.set_title(f"{title}: colour {label}", fontsize=9)
            ax.set_xlabel(f"MDS {i + 1}")
            ax.set_ylabel(f"MDS {j + 1}")
            ax.set_xticks([])
            ax.set_yticks([])
