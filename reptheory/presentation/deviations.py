"""Every difference between the ``default`` profile (what CI runs) and the ``paper`` profile, as table rows.

Generated from the settings themselves (:data:`reptheory.configs.PROFILES`, both papers' settings), so the
table cannot drift from what runs: a setting whose fields differ between the two profiles becomes a row with
each differing field written ``value (paper: value)`` and the reason stored with the setting. Settings reduced
for the same reason are grouped into one row. Fig. 5 architectures the default profile leaves out, and the
sequel's phase-diagram grid (a different grid, not a different setting), get a row each.

>>> rows = default_vs_paper()
>>> sorted(rows[0])
['difference', 'page', 'reason', 'settings']
>>> any(r["page"] == "Fig. 5" for r in rows)
True
"""
from __future__ import annotations

import dataclasses

from reptheory import configs
from reptheory.presentation.display import seeds_text
from reptheory.presentation.rounding import readable

__all__ = ["default_vs_paper", "page_of"]

#: setting-name prefix → the page that runs it (first match wins)
_PAGES = (("fig5_", "Fig. 5"), ("mnist", "Figs. 4, 9"), ("parity", "parity tree and merge, parity theory"),
          ("phase/", "parity phase diagram"), ("grid", "parity phase diagram"), ("fraction/", "parity phase diagram"))


def page_of(name: str) -> str:
    """The book page that runs the setting ``name`` (for the table; ``"–"`` when none is known).

    >>> page_of("fig5_grid/relu")
    'Fig. 5'
    """
    return next((page for prefix, page in _PAGES if name.startswith(prefix)), "–")


def _show(field: str, v) -> str:
    if field == "seeds":
        return seeds_text(v)
    return "none" if v is None else str(v)


def _diff(s, p) -> str:
    fields = [f.name for f in dataclasses.fields(s) if f.compare and f.name != "name"]
    return "; ".join(f"{f} {_show(f, getattr(s, f))} (paper: {_show(f, getattr(p, f))})"
                     for f in fields if getattr(s, f) != getattr(p, f))


def default_vs_paper() -> list[dict]:
    """Rows ``{page, settings, difference, reason}``: every way the default profile departs from the paper's
    settings, the sequel included. Settings reduced for the same reason share a row; where they differ in
    different ways, each group's difference is prefixed by its settings (``a, b: lr 0.005 (paper: 0.002)``)."""
    groups: dict[tuple, dict[str, list[str]]] = {}
    for name, s in configs.PROFILES["default"].items():
        p = configs.PROFILES["paper"].get(name)
        if p is None:
            continue
        d = _diff(s, p)
        if d:
            groups.setdefault((page_of(name), s.note or "–"), {}).setdefault(d, []).append(name)
    rows = []
    for (page, why), diffs in groups.items():
        names = [n for ns in diffs.values() for n in ns]
        text = (next(iter(diffs)) if len(diffs) == 1 else
                " · ".join(f"{', '.join(ns)}: {d}" for d, ns in diffs.items()))
        label = ", ".join(names) if len(diffs) == 1 else f"{len(names)} settings, named in the next column"
        rows.append({"page": page, "settings": label, "difference": text, "reason": why})
    for row, why in configs.FIG5_PROTOCOL.default_skips.items():
        rows.append({"page": "Fig. 5", "settings": ", ".join(configs.fig5_names(row)),
                     "difference": "not run (the paper profile runs it)", "reason": why})
    (g_d, p_d, cap_d), (g_p, p_p, cap_p) = configs.sequel.phase_grid("default"), configs.sequel.phase_grid("paper")
    if (g_d, p_d, cap_d) != (g_p, p_p, cap_p):
        rows.append({"page": "parity phase diagram", "settings": "phase/<loss>/g<gain>/p<fraction>",
                     "difference": f"gains × data fractions {len(g_d)} × {len(p_d)} "
                                   f"(paper: {len(g_p)} × {len(p_p)}); "
                                   f"epoch cap {readable(cap_d)} (paper: {readable(cap_p)})",
                     "reason": "CI budget"})
    order = [page for _, page in _PAGES]
    rank = {page: k for k, page in enumerate(order)}
    return sorted(rows, key=lambda r: (rank.get(r["page"], len(order)), r["settings"]))
