"""The width sweep of the chapter *Beyond the paper's architectures* (:mod:`reptheory.lab.width`) as a figure
and tables: each quantity's median over the seeds with its range, per width, and its power law in width."""
from __future__ import annotations

import numpy as np

from reptheory.lab import width as _width
from reptheory.lab.result import BARS
from reptheory.presentation.plots import COLORS, CYCLE, LABELS, column_figure
from reptheory.presentation.verdicts import paired_over_seeds

__all__ = ["ERRORS", "figure", "rows", "slopes", "against_lazy", "settings"]

#: the Eq. 10 errors drawn and tabulated, with their legend text, colour and marker
ERRORS = {"in sample": ("Eq. 10, the run's own rates", CYCLE[5], "s"),     # purple: apart from vermilion
          "other seeds": ("Eq. 10, the other seeds' rates", CYCLE[0], "o"),
          "held out": ("Eq. 10 at other distances", CYCLE[1], "^"),
          "lazy null": ("lazy null: nothing moves", "#777777", "x")}
_CURVES = ("h2", "y2", "w")


def _median_range(v: np.ndarray) -> tuple[float, float, float]:
    v = v[np.isfinite(v)]
    return (float(np.median(v)), float(v.min()), float(v.max())) if v.size else (np.nan, np.nan, np.nan)


def _draw(ax, widths, values, shift: float, **style) -> None:
    med, lo, hi = np.array([_median_range(v) for v in values]).T
    ax.errorbar(np.array(widths) * shift, med, yerr=[med - lo, hi - med], capsize=2.5, lw=1.6, ms=5, **style)


def figure(sweeps: dict):
    """Two rows of panels, one column per architecture (``sweeps``: name → :class:`WidthSweep
    <reptheory.lab.width.WidthSweep>`): top, each curve's deviation from the fitted Eq. 7 (median over the seeds,
    the bar spanning the seeds) with its bar (dotted); bottom, the Eq. 10 errors of :data:`ERRORS` against the
    lazy null, with Eq. 10's bar. Log axes; points of one width are spread a little sideways so that their
    bars do not overlap. Returns the figure."""
    fig, axes = column_figure(2, len(sweeps), 2.7, sharey="row")
    for j, (name, sw) in enumerate(sweeps.items()):
        top, bottom = axes[0, j], axes[1, j]
        for k, shift in zip(_CURVES, (0.93, 1.0, 1.07)):
            _draw(top, sw.widths, sw.values(k), shift, color=COLORS[k], marker="o", label=LABELS[k])
            top.axhline(BARS[k], color=COLORS[k], ls=":", lw=1.2)
        for (k, (text, colour, marker)), shift in zip(ERRORS.items(), (0.9, 0.97, 1.03, 1.1)):
            _draw(bottom, sw.widths, sw.values(k), shift, color=colour, marker=marker, label=text,
                  ls="--" if k == "lazy null" else "-")
        bottom.axhline(BARS["h_inf"], color="k", ls=":", lw=1.2, label="Eq. 10's bar (10 %)")
        top.set_title(f"{name}: deviation from Eq. 7", fontsize=10)
        bottom.set_title(f"{name}: final distance, |error|", fontsize=10)
        for ax in (top, bottom):
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_xticks(sw.widths, [str(w) for w in sw.widths])
            ax.minorticks_off()
        bottom.set_xlabel("model width")
    axes[0, 0].set_ylabel("largest deviation")
    axes[1, 0].set_ylabel("|predicted / final − 1|")
    axes[0, -1].legend(loc="best", fontsize=9, title="dotted: bars", title_fontsize=9)
    fig.legend(*axes[1, 0].get_legend_handles_labels(), loc="outside lower center", ncol=3, fontsize=9)
    return fig


def _cell(v: np.ndarray, form=lambda x: f"{x:.2g}") -> str:
    med, lo, hi = _median_range(v)
    return "–" if not np.isfinite(med) else f"{form(med)} ({form(lo)} to {form(hi)})"


def rows(sw, lr: float, keys=(*_CURVES, "other seeds", "held out", "lazy null", "moved")) -> list[dict]:
    """One row per width: the learning rate (from the sweep's base ``lr``, :func:`reptheory.lab.width.step`) and
    scale it trained at, the usable fits, the step-size control,
    and for each of ``keys`` (:data:`reptheory.lab.width.KEYS`) the median over the seeds with the smallest and
    largest in brackets."""
    heads = {"h2": "‖Δh‖² dev.", "y2": "‖Δŷ‖² dev.", "w": "w dev.", "in sample": "Eq. 10, own rates",
             "other seeds": "Eq. 10, other seeds", "held out": "Eq. 10, other distances",
             "lazy null": "lazy null", "held-out lazy null": "lazy null, other distances",
             "moved": "final / initial ‖Δh‖²"}
    out = []
    for a in sw.at:
        row = {"width": a.width, "learning rate": f"{_width.step(lr, 1, a.width)[0]:.3g}",
               "scale": a.scale, "fits used": f"{sum(a.usable)}/{len(a.fits)}", "step error": f"{a.step_error():.2%}"}
        out.append(row | {heads[k]: _cell(a.values(k)) for k in keys})
    return out


def slopes(sweeps: dict, keys=(*_CURVES, "other seeds", "held out", "lazy null", "moved")) -> list[dict]:
    """One row per quantity of ``keys``: for each architecture the exponent ``a`` of median ∝ width^a with its
    95 % interval from a bootstrap over the seeds (:meth:`WidthSweep.slope <reptheory.lab.width.WidthSweep.slope>`)."""
    out = []
    for k in keys:
        row = {"quantity": _width.KEYS[k]}
        for name, sw in sweeps.items():
            a, lo, hi = sw.slope(k)
            row[f"{name}: exponent (95 %)"] = f"{a:.2f} ({lo:.2f} to {hi:.2f})"
        out.append(row)
    return out


def against_lazy(sweeps: dict, key: str = "other seeds") -> list[dict]:
    """Per architecture and width: does Eq. 10 (``key``: ``"other seeds"``, out of sample over seeds) predict the
    final distances better than the lazy null on the same seeds? The medians of both errors and the exact paired
    test over the seeds (:func:`reptheory.presentation.verdicts.paired_over_seeds`: the null's error above
    Eq. 10's, seed by seed)."""
    out = []
    for name, sw in sweeps.items():
        for a in sw.at:
            eq10, lazy = a.values(key), a.values("lazy null")
            test = paired_over_seeds(lazy, eq10)
            out.append({"model": name, "width": a.width, "Eq. 10, median error": float(np.nanmedian(eq10)),
                        "lazy null, median error": float(np.nanmedian(lazy)), "paired p": test.p,
                        "Eq. 10 better than the null": test.verdict})
    return out


def _set(i: int) -> str:
    return "{" + ", ".join(f"{v:g}" for v in sorted({p[i] for p in _width.HELD_OUT})) + "}"


def settings(lr: float, epochs: int) -> str:
    """The sweep's settings in one sentence, from the module's constants (widths, seeds, held-out distances, the
    learning-rate rule)."""
    top = _width.step(lr, epochs, max(_width.WIDTHS))
    return (f"Widths {', '.join(map(str, _width.WIDTHS))}; {_width.SEEDS} reference seeds a width (seeds 0 to "
            f"{_width.SEEDS - 1}) and {len(_width.HELD_OUT)} held-out networks (seeds {_width.HELD_OUT_SEED} to "
            f"{_width.HELD_OUT_SEED + len(_width.HELD_OUT) - 1}) at ‖Δx‖ ∈ {_set(0)} × ‖Δy‖ ∈ {_set(1)}; "
            f"learning rate {lr:g} "
            f"for at most {epochs:,} epochs up to width {_width.LR_WIDTH}, above it lr·{_width.LR_WIDTH}/width for "
            f"epochs·width/{_width.LR_WIDTH} (the same time; at width {max(_width.WIDTHS)}: {top[0]:g} for "
            f"{top[1]:,} epochs), so that every run stays near gradient flow.")
