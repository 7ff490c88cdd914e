"""The rich/lazy phase diagram's figure (book page "Rich and lazy"): Eq. 10 over (initial gain, ``||Δy||``)
from the rates fitted at the trained gains, the boundary ``|A_high| = A_low``, and the trained networks' final
distances on the same colour scale. Drawn in the book's style (:mod:`reptheory.presentation.plots`)."""
from __future__ import annotations

import matplotlib.pyplot as plt

from reptheory.presentation.plots import COLUMN

__all__ = ["phase_map", "phase_diagram"]


def phase_map(result, layer: int, n_gain: int = 121) -> dict:
    """Eq. 10 over a fine (initial gain, ``||Δy||``) grid at one tracked ``layer`` of
    :func:`reptheory.experiments.phase`, for the phase diagram's map.

    Only the trained gains have fitted rates and measured initial states; between two neighbouring trained
    gains whose fits converged, ``log eta_h``, ``log eta_y``, ``log h2_0`` and ``log y2_0`` are interpolated
    linearly in the gain (``y2_0`` recovered from Eq. 11's ``A_high``). Returns ``gain`` (``n_gain``),
    ``dy`` (the result's grid), ``h_inf`` (``gain × dy``), ``ratio`` = ``|A_high| / A_low`` (the rich/lazy
    boundary is ``ratio = 1``) and ``span`` (the interpolated gain range); ``None`` entries when fewer than two
    trained gains have converged fits at this layer."""
    import numpy as np

    from reptheory import configs
    from reptheory.theory import ode as theory

    l = result.layers.index(layer)
    ok = [i for i in range(len(result.gains)) if result.fit_ok[l, i]]
    if len(ok) < 2:
        return {"gain": None, "dy": result.dy, "h_inf": None, "ratio": None, "span": None}
    g = np.asarray(result.gains, dtype=float)[ok]
    dx2 = configs.TABLE1[result.rows[ok[0]]].dx2
    h0 = np.array([next(p["h2_0"] for p in result.points
                        if p["layer"] == layer and p["row"] == result.rows[i] and p["fitted"]) for i in ok])
    eh, ey = result.eta_h[l, ok], result.eta_y[l, ok]
    y0 = (h0 - result.a_high[l, ok, 0]) * h0 * ey / (eh * dx2)
    gain = np.linspace(g[0], g[-1], n_gain)
    lerp = lambda v: np.exp(np.interp(gain, g, np.log(v)))
    EH, EY, H0, Y0 = (lerp(v)[:, None] for v in (eh, ey, h0, np.maximum(y0, 1e-300)))
    dy2 = (np.asarray(result.dy) ** 2)[None, :]
    h_inf = theory.h_inf(H0, Y0, EH, EY, dx2, dy2)
    ratio = np.abs(theory.a_high(H0, Y0, EH, EY, dx2)) / theory.a_low(EH, EY, dx2, dy2)
    return {"gain": gain, "dy": np.asarray(result.dy), "h_inf": h_inf, "ratio": ratio, "span": (g[0], g[-1])}


def phase_diagram(result, layer: int):
    """The rich/lazy phase diagram of :func:`reptheory.experiments.phase` at one tracked ``layer``.

    Left: a map of Eq. 10's final ``||Δh||²`` over (initial gain, ``||Δy||``) from :func:`phase_map` (rates and
    initial states interpolated between the trained gains whose fits converged; gains outside them hatched), the
    rich/lazy boundary ``|A_high| = A_low`` drawn white, and the trained networks' measured final distances as
    circles on the same colour scale (a circle that agrees with the map disappears into it). Right: Eq. 10 at
    each trained gain against ``||Δy||``, measured points as markers, and the rich limit ``A_low``
    (∝ ``||Δy||``) dotted. Returns the figure."""
    import matplotlib.colors as mcolors
    import matplotlib.ticker as mticker
    import numpy as np
    l = result.layers.index(layer)
    pts = [p for p in result.points if p["layer"] == layer]
    m = phase_map(result, layer)
    vals = np.concatenate([result.h_inf[l][np.isfinite(result.h_inf[l])], [p["h2_final"] for p in pts]])
    norm = mcolors.LogNorm(vmin=float(vals.min()), vmax=float(vals.max()))
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(COLUMN, 3.6), gridspec_kw={"width_ratios": [1, 1.25]})
    gains = np.asarray(result.gains, dtype=float)
    pad = 0.03 * (gains.max() - gains.min())
    if m["gain"] is not None:
        mesh = ax.pcolormesh(m["gain"], m["dy"], m["h_inf"].T, norm=norm, cmap="viridis", shading="auto")
        ax.contour(m["gain"], m["dy"], m["ratio"].T, levels=[1.0], colors="white", linewidths=1.5,
                   linestyles="--")
        for name, k in (("rich", np.argmin(m["ratio"])), ("lazy", np.argmax(m["ratio"]))):
            i, j = np.unravel_index(k, m["ratio"].shape)
            if (m["ratio"][i, j] < 1) == (name == "rich"):     # label a region only where the map has it
                ax.text(m["gain"][i], m["dy"][j], name, color="white", fontsize=9, fontweight="bold",
                        ha="left" if i < len(m["gain"]) / 2 else "right",
                        va="bottom" if j < len(m["dy"]) / 2 else "top")
        fig.colorbar(mesh, ax=ax, label=r"final $\|\Delta h\|^2$ (Eq. 10 / measured)")
        lo, hi = m["span"]
        for a, b in ((gains.min() - pad, lo), (hi, gains.max() + pad)):    # gains the map does not reach
            if b - a > 2 * pad:
                ax.axvspan(a, b, facecolor="0.93", edgecolor="0.6", hatch="//", lw=0, zorder=0)
                ax.text((a + b) / 2, np.sqrt(result.dy[0] * result.dy[-1]), "no map:\nfit at the\nboundary",
                        ha="center", va="center", fontsize=9, color="0.3")
    else:
        sm = plt.cm.ScalarMappable(norm=norm, cmap="viridis")
        fig.colorbar(sm, ax=ax, label=r"final $\|\Delta h\|^2$ (measured)")
    for p in pts:
        ax.scatter([p["gain"]], [p["dy"]], c=[p["h2_final"]], norm=norm, cmap="viridis", s=90,
                   edgecolors="white" if p["fitted"] else "k", linewidths=1.5, zorder=3)
    for i, gain in enumerate(gains):
        if not result.fit_ok[l, i]:
            ax.axvline(gain, color="0.5", ls=":", lw=1)
    ax.set_xlim(gains.min() - pad, gains.max() + pad)
    ax.set_ylim(result.dy[0], result.dy[-1])
    ax.set_yscale("log")
    ax.set_xticks(gains, [f"{g:g}" + ("" if result.fit_ok[l, i] else "†") for i, g in enumerate(gains)])
    ax.set_xlabel("initial gain († fit at the search boundary)")
    ax.set_ylabel(r"$\|\Delta y\|$")
    ax.set_title(f"layer {layer}: Eq. 10 (map), networks (circles)", fontsize=9)
    cmap = plt.get_cmap("plasma")
    for i, gain in enumerate(result.gains):
        c = cmap(i / max(1, len(result.gains) - 1) * 0.85)
        ax2.loglog(result.dy, result.h_inf[l, i], color=c, lw=1.8, ls="--" if not result.fit_ok[l, i] else "-",
                   label=f"gain {gain:g}")
        if result.fit_ok[l, i]:
            ax2.loglog(result.dy, result.a_low[l, i], color=c, lw=1.0, ls=":")
        for p in pts:
            if p["row"] == result.rows[i]:
                ax2.scatter([p["dy"]], [p["h2_final"]], color=c, marker="o" if p["fitted"] else "s",
                            edgecolors="k", zorder=3)
    ax2.set_xlabel(r"$\|\Delta y\|$")
    ax2.set_ylabel(r"final $\|\Delta h\|^2$")
    ax2.set_title("Eq. 10 (lines; dashed: †), $A_{low}$ (dotted);\ncircles: fitted runs, squares: predicted",
                  fontsize=9)
    ax2.legend(fontsize=9, loc="lower right")
    for a in (ax.yaxis, ax2.xaxis):
        a.set_major_formatter(mticker.FormatStrFormatter("%g"))
        a.set_minor_formatter(mticker.NullFormatter())
        a.set_major_locator(mticker.FixedLocator([0.25, 0.5, 1.0, 2.0]))
    return fig
