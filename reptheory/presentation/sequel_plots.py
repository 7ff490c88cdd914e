"""The sequel's figures (arXiv:2507.09897) in the book's plot style (:mod:`reptheory.presentation.plots`): an
automaton's states and transitions, the fixed-expansion model against a network, and a phase diagram of
parity outcomes."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from reptheory.presentation import plots
from reptheory.presentation.plots import COLUMN
from reptheory.sequel import algorithm, automata

__all__ = ["automaton", "automaton_legend", "MAX_DRAWN_EDGES_STATES", "PAIR_COLORS", "fixed_expansion_vs_network", "parity_phase"]


#: an automaton with more states than this is drawn without its transitions (a few hundred states' edges are a
#: hairball); its states stay, in layers by their distance from the start
MAX_DRAWN_EDGES_STATES = 40


def automaton(ax, a, title: str = "") -> None:
    """Draw a :class:`reptheory.sequel.automata.Automaton`: states coloured by their output (sky even, orange odd),
    the start state ringed in black, transitions on 0 solid and on 1 dashed, laid out in layers by the distance
    from the start. A small automaton (at most 12 states) gets arrows, and with at most 4 states its states are
    labelled with their output; above :data:`MAX_DRAWN_EDGES_STATES` states only the states are drawn (the title
    says so). :func:`automaton_legend` explains the marks once per figure."""
    import networkx as nx
    n = a.n_states
    G = nx.MultiDiGraph()
    G.add_nodes_from(range(n))
    for g in range(n):
        for sym in (0, 1):
            if a.delta[g, sym] >= 0:
                G.add_edge(g, int(a.delta[g, sym]), sym=sym)
    # layers by the shortest path from the start (the prefix tree's depth); unreachable states last
    depth = nx.single_source_shortest_path_length(G, a.start)
    far = max(depth.values()) + 1
    for g in range(n):
        G.nodes[g]["layer"] = depth.get(g, far)
    pos = nx.multipartite_layout(G, subset_key="layer")
    small, tiny = n <= 12, n <= 4
    colors = [plots.OKABE_ITO["sky"] if o == 0 else plots.OKABE_ITO["orange"] for o in a.output]
    size = 1300 if tiny else 500 if small else max(12, 2000 // n)
    nx.draw_networkx_nodes(G, pos, ax=ax, node_color=colors, node_size=size,
                           edgecolors=["k" if g == a.start else "none" for g in range(n)], linewidths=2)
    if n <= MAX_DRAWN_EDGES_STATES:
        for sym, style in ((0, "solid"), (1, "dashed")):
            edges = [(u, v) for u, v, d in G.edges(data=True) if d["sym"] == sym]
            nx.draw_networkx_edges(G, pos, edgelist=edges, ax=ax, style=style, arrows=small, node_size=size,
                                   width=1.2 if small else 0.5, alpha=0.8 if small else 0.45,
                                   connectionstyle="arc3,rad=0.2" if small else "arc3")
    if tiny:
        nx.draw_networkx_labels(G, pos, ax=ax, labels={g: ("even" if o == 0 else "odd") for g, o in enumerate(a.output)},
                                font_size=9)
        ax.set_aspect("equal", adjustable="datalim")     # self-loops as round arcs, not stretched to the panel
    ax.set_title((title or f"{n} states") + ("" if n <= MAX_DRAWN_EDGES_STATES else "\n(transitions not drawn)"),
                 fontsize=9)
    ax.set_axis_off()
    ax.margins(0.15)


def automaton_legend(fig) -> None:
    """One legend below ``fig`` for :func:`automaton`'s marks: the output colours, the start ring and the two
    transition styles."""
    from matplotlib.lines import Line2D
    dot = dict(marker="o", ls="none", markersize=9)
    handles = [Line2D([], [], color=plots.OKABE_ITO["sky"], label="state with even output", **dot),
               Line2D([], [], color=plots.OKABE_ITO["orange"], label="state with odd output", **dot),
               Line2D([], [], color="w", markeredgecolor="k", markeredgewidth=2, label="start state", **dot),
               Line2D([], [], color="k", ls="-", label="on input 0"),
               Line2D([], [], color="k", ls="--", label="on input 1")]
    fig.legend(handles=handles, loc="outside lower center", ncol=3, fontsize=9, frameon=False)


#: the colour of each kind of prefix pair in the fixed-expansion figures
PAIR_COLORS = {"agree": plots.OKABE_ITO["green"], "equal": plots.OKABE_ITO["blue"],
               "disagree": plots.OKABE_ITO["vermillion"]}
#: the second cue beside the colour (green and blue are close for some readers): one line style per kind
PAIR_STYLES = {"agree": "-", "equal": "--", "disagree": ":"}


def fixed_expansion_vs_network(model: dict, network: dict, epochs):
    """The fixed-expansion model beside the trained RNN (the sequel's Fig. 10).

    ``model``: ``{case: FixedExpansion}``; ``network``: ``{case: array (seeds, records)}`` of distances already
    divided by their start; ``case`` is one of ``"agree"``, ``"equal"``, ``"disagree"`` followed by a label after
    ``": "``. Both panels show the distance over its start on a log scale. Returns the figure."""
    import numpy as np
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(COLUMN, 4.4))
    for case, r in model.items():
        kind, label = case.split(": ", 1)
        ax.loglog(r.t[1:], r.distance[1:] / r.distance[0], color=PAIR_COLORS[kind], ls=PAIR_STYLES[kind], label=label)
    ax.set_xlabel("model time t")
    ax.set_ylabel(r"$(h_2-h_1)^2$ / start")
    ax.set_title("fixed-expansion model", fontsize=10)
    ax.set_ylim(1e-8, None)
    for case, rel in network.items():
        kind, label = case.split(": ", 1)
        for k, row in enumerate(np.asarray(rel)):
            ax2.semilogy(epochs, row, color=PAIR_COLORS[kind], ls=PAIR_STYLES[kind], lw=1.2, alpha=0.8,
                         label=label if k == 0 else None)
    ax2.set_xlabel("epoch")
    ax2.set_ylabel(r"$\|h_a-h_b\|^2$ / start")
    ax2.set_title("trained RNN (one line per seed)", fontsize=10)
    for a in (ax, ax2):           # below each panel: inside, the curves cross them
        a.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.2), frameon=False)
    return fig


def parity_phase(acc: dict, states: dict, gains, xs, transitions: dict, xlabel: str, title: str = ""):
    """A phase diagram of parity runs: median accuracy (left) and median automaton states (right, log colour)
    over ``gains`` × ``xs``, each cell labelled with its value; the transition of each gain (a
    :class:`reptheory.sequel.parity_phase.Transition`) drawn at the column's right edge: a tick at the estimate on a
    line over its error bar. ``acc``, ``states``:
    arrays ``(len(xs), len(gains))``. Returns the figure."""
    import matplotlib.colors as mcolors
    import matplotlib.patheffects as patheffects
    import numpy as np
    fig, axes = plt.subplots(1, 2, figsize=(COLUMN, 3.3))
    edges_x = np.arange(len(gains) + 1) - 0.5
    edges_y = np.arange(len(xs) + 1) - 0.5
    panels = ((acc, "median accuracy, length 100", "viridis", mcolors.Normalize(0.4, 1.0), "{:.2f}"),
              (states, "median automaton states (0.1 std)", "magma_r",
               mcolors.LogNorm(1, max(2.0, float(np.nanmax(states)))), "{:.0f}"))
    for ax, (M, label, cmap, norm, f) in zip(axes, panels):
        mesh = ax.pcolormesh(edges_x, edges_y, M, cmap=cmap, norm=norm)
        fig.colorbar(mesh, ax=ax, label=label)
        for i in range(len(xs)):
            for j in range(len(gains)):
                v = M[i, j]
                rgba = mesh.cmap(mesh.norm(v))
                ax.text(j, i, f.format(v), ha="center", va="center", fontsize=9,
                        color="k" if sum(rgba[:3]) > 1.6 else "w")
        ax.set_xticks(range(len(gains)), [f"{g:g}" for g in gains])
        ax.set_yticks(range(len(xs)), [f"{x:g}" for x in xs])
        ax.set_xlabel("initial gain")
        ax.set_ylabel(xlabel)
        xs_arr = np.asarray(xs, dtype=float)
        to_row = lambda v: float(np.interp(min(v, xs_arr[-1] + (xs_arr[-1] - xs_arr[-2])),  # noqa: E731
                                           np.concatenate([[xs_arr[0] - (xs_arr[1] - xs_arr[0])], xs_arr,
                                                           [xs_arr[-1] + (xs_arr[-1] - xs_arr[-2])]]),
                                           np.arange(-1, len(xs) + 1)))
        outline = [patheffects.Stroke(linewidth=3.5, foreground="k"), patheffects.Normal()]
        for j, g in enumerate(gains):
            t = transitions[g]
            x = j + 0.42                              # at the column's right edge, clear of the cell labels
            lo, hi = max(to_row(t.low), -0.5), min(to_row(t.high), len(xs) - 0.5)    # inside the grid's rows
            ax.plot([x, x], [lo, hi], color="w", lw=1.8, path_effects=outline, solid_capstyle="butt", clip_on=False)
            if np.isfinite(t.estimate):          # not clipped at the last column's edge
                ax.plot([x - 0.07, x + 0.07], [to_row(t.estimate)] * 2, color="w", lw=2.5, path_effects=outline,
                        clip_on=False)
        ax.set_ylim(-0.5, len(xs) - 0.5)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


# ----------------------------------------------------------------------------------------------------------
# figures at the book's column width: drawn at the size they are shown, so labels keep their point size


def tree_merge(r, summary, prefixes):
    """The merge of a parity run ``r`` (:class:`reptheory.sequel.parity.ParityRun`) with its
    :func:`reptheory.sequel.algorithm` ``summary``: the fraction of merged prefix pairs by prefix lengths at
    the end, the distance of one same-parity and one different-parity pair over training
    (:func:`~reptheory.sequel.algorithm.example_pairs`), and the mean pairwise distance of the hidden states.
    ``prefixes`` is :func:`~reptheory.sequel.parity.prefix_index` of the run's training length."""
    (mi, mj), (di, dj) = algorithm.example_pairs(r)

    def name(n):
        return algorithm.prefix_label(*prefixes[n])

    fig, axd = plt.subplot_mosaic([["merged", "mean"], ["pairs", "pairs"]], figsize=(COLUMN, 6.6))
    ax, ax2, ax3 = axd["merged"], axd["pairs"], axd["mean"]
    cmap = plt.get_cmap("magma").copy()
    cmap.set_bad("0.8")                         # a pair of lengths with no agreeing pair to merge: grey, not a value
    im = ax.imshow(np.ma.masked_invalid(summary.merged_fraction), origin="lower", cmap=cmap)
    fig.colorbar(im, ax=ax, label="fraction merged (grey: no pair)")
    ax.set_xlabel("prefix length")
    ax.set_ylabel("prefix length")
    ax2.semilogy(r.epochs, algorithm.pair_distance(r, mi, mj), label=f"{name(mi)} / {name(mj)} (same parity)")
    ax2.semilogy(r.epochs, algorithm.pair_distance(r, di, dj), label=f"{name(di)} / {name(dj)} (different)")
    ax2.set_xlabel("epoch")
    ax2.set_ylabel(r"$\|h_i - h_j\|$")
    ax2.legend()
    ax3.plot(r.epochs, [automata.mean_pairwise_distance(x) for x in r.states], color="k")
    ax3.set_xlabel("epoch")
    ax3.set_ylabel("mean pairwise distance")
    return fig
