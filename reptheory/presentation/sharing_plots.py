"""The weight-sharing page's figures: the transition in the cross-time overlap over the signal at each width
(:func:`transition_figure`) and the error per step of the interpolation test (:func:`interpolation_figure`)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from reptheory.presentation.plots import COLUMN, OKABE_ITO

__all__ = ["NETWORKS", "transition_figure", "interpolation_figure"]

#: each network's label, colour and marker (the DNN's open squares stay visible where they meet the RNN's dots)
NETWORKS = (("RNN: one shared $W$", OKABE_ITO["vermillion"], "o"),
            (r"DNN: untied $W_2, \dots, W_T$", OKABE_ITO["blue"], "s"))


def _band(ax, x, v, label, color, marker) -> None:
    """Mean over seeds with a ±1 sd bar and each seed as a faint dot."""
    m, sd = np.nanmean(v, 1), np.nanstd(v, 1, ddof=1)
    open_marker = marker == "s"
    ax.errorbar(x, m, yerr=sd, color=color, marker=marker, ms=6 if open_marker else 4, capsize=2, lw=1.5,
                mfc="none" if open_marker else color, label=label)
    for j in range(v.shape[1]):
        ax.scatter(x, v[:, j], s=12, color=color, alpha=0.5, lw=0)


def transition_figure(tr):
    """Two rows × one column per width: the cross-time overlap (top) and the loss (bottom) against the signal
    ``s`` (log axis), each network's mean ± seed sd with the seeds as dots; the dotted line marks the threshold
    of :meth:`~reptheory.sequel.sharing_tests.Transition.threshold` (between the two signals it names)."""
    st, r = tr.setting, tr.runs
    ncols = len(st.widths)
    fig, axes = plt.subplots(2, ncols, figsize=(COLUMN, 5.4), sharex=True, sharey="row", squeeze=False,
                             layout="constrained")
    s = np.array(st.signals)
    for w, n in enumerate(st.widths):
        for k, (label, color, marker) in enumerate(NETWORKS):
            _band(axes[0, w], s, r["overlap"][k, w], label, color, marker)
            _band(axes[1, w], s, r["loss"][k, w], label, color, marker)
        below, star = tr.threshold(n)
        for ax in axes[:, w]:
            ax.set_xscale("log")
            ticks = [x for x in (0.3, 0.5, 1, 2, 3, 5, 10, 20, 30, 50, 100) if s.min() <= x <= s.max()]
            ax.set_xticks(ticks, [f"{x:g}" for x in ticks])
            ax.minorticks_off()
            if below is not None:
                ax.axvline(np.sqrt(below * star), color="0.4", ls=":", lw=1.2,
                           label="threshold s* (between two signals)")
        axes[0, w].set_title(f"N = {n}", fontsize=10)
        axes[1, w].set_xlabel("signal s")
    axes[0, 0].set_ylabel("cross-time overlap")
    axes[1, 0].set_ylabel(r"loss $\mathcal{L}$")
    axes[1, 0].set_yscale("log")
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside lower center", ncol=3, frameon=False)
    return fig


def interpolation_figure(ip):
    """The relative error at each step (mean ± seed sd, the seeds as dots) for both networks; the steps left out
    of the loss shaded grey."""
    st, r = ip.setting, ip.runs
    fig, ax = plt.subplots(figsize=(5.8, 3.4), layout="constrained")
    t = np.arange(1, st.time_steps + 1)
    for step in t:
        if step not in st.supervised_steps:
            ax.axvspan(step - 0.5, step + 0.5, color="0.9", lw=0)
    for k, (label, color, marker) in enumerate(NETWORKS):
        _band(ax, t, r["step_error"][k, 0, 0].T, label, color, marker)
    ax.axhline(1.0, color="k", ls=":", lw=1, label="the output 0")
    ax.set_xticks(t)
    ax.set_xlabel("time step t (grey: left out of the loss)")
    ax.set_ylabel("relative error at step t")
    ax.set_ylim(0, None)
    fig.legend(loc="outside lower center", ncol=3, fontsize=9, frameon=False)   # below the axes, off the curves
    return fig
