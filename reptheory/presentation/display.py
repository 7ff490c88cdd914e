"""Tables and settings for the notebooks: Markdown and HTML tables of results, the settings beside the paper's,
and sympy steps shown as equations. Numbers in them are written by :mod:`reptheory.presentation.rounding`.
"""
from __future__ import annotations

import re

import numpy as np

from reptheory.presentation.rounding import fmt, heading, readable, span, text_cell  # noqa: F401  (the tables' formats)


def _missing(v) -> bool:
    """A value a table shows as "–": ``None`` or NaN."""
    return v is None or isinstance(v, (float, np.floating)) and bool(np.isnan(v))


def table(rows: list[dict], sig: int = 4) -> str:
    r"""A Markdown table from a list of dicts with equal keys; floats rounded with :func:`readable` (powers of
    ten, not e-notation); a missing value
    (``None``, NaN) shows as "–"; True and False as "yes" and "no"; a column that is empty text in every row
    (a note no row needs) is left out; a ``|`` in a key or a value is escaped (it would split the cell); a
    heading is written by :func:`heading` (``eta_h`` as η_h), a text cell by :func:`text_cell`.

    >>> table([{"|x|": 1.23456, "y": None, "ok": True, "note": ""}]).splitlines()
    ['| \\|x\\| | y | ok |', '|---|---|---|', '| 1.235 | – | yes |']
    """
    if not rows:
        raise ValueError("rows must hold at least one row")
    keys = [k for k in rows[0] if not all(isinstance(r[k], str) and not r[k] for r in rows)]
    esc = lambda text: str(text).replace("|", "\\|")          # a "|" inside a cell would split it
    word = lambda v: (("yes" if v else "no") if isinstance(v, (bool, np.bool_)) else
                      text_cell(v) if isinstance(v, str) else v)
    cell = lambda v: "–" if _missing(v) else esc(readable(v, sig) if isinstance(v, (float, np.floating)) else word(v))
    lines = ["| " + " | ".join(esc(heading(k)) for k in keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(cell(r[k]) for k in keys) + " |" for r in rows]
    return "\n".join(lines)


class Markdown:
    r"""Markdown for a notebook that also renders as HTML, tables included.

    A notebook's ``text/markdown`` output is rendered by the book without table support, so a Markdown table
    shows as running ``| a | b |`` text. This object offers the same text as ``text/markdown`` (Jupyter) and,
    rendered by markdown-it (CommonMark with tables), as ``text/html``, which the book prefers. Wide tables
    scroll sideways inside their own box instead of running off the page.

    >>> html = Markdown("| a | b |\n|---|---|\n| **1** | 2 |")._repr_html_()
    >>> "<table>" in html and "<strong>1</strong>" in html
    True
    """

    def __init__(self, text: str):
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        self.text = text

    def _repr_markdown_(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        from markdown_it import MarkdownIt

        body = MarkdownIt("commonmark").enable("table").render(self.text)
        return f'<div class="rt-output" style="overflow-x: auto">{body}</div>'

    def __repr__(self) -> str:
        return self.text


#: a :class:`SettingsTable` of at most this many settings is shown sideways (a column per setting)
SIDEWAYS_UP_TO = 3
#: the fields a settings table shows, per kind of setting (the feedforward rows, the sequel's RNN)
SHOWN = {"Setting": ("arch", "nonlinearity", "gain", "lr", "epochs", "width", "hidden_layers", "layer", "optimizer",
                     "batch_size", "stop_loss", "seeds"),
         "ParitySetting": ("width", "nonlinearity", "gain", "h0", "lr", "batch_size", "epochs", "max_len", "frac",
                           "optimizer", "loss", "stop_loss", "seeds")}


def seeds_text(seeds: tuple) -> str:
    """Seeds for a table: a run of more than three consecutive integers as ``a…b (n)``.

    >>> seeds_text(tuple(range(1000, 1025))), seeds_text((0, 2))
    ('1000…1024 (25)', '0, 2')
    """
    seeds = tuple(seeds)
    if len(seeds) > 3 and seeds == tuple(range(seeds[0], seeds[0] + len(seeds))):
        return f"{seeds[0]}…{seeds[-1]} ({len(seeds)})"
    return ", ".join(map(str, seeds))


def _against_paper(st, none: str = "None") -> tuple[list[tuple[str, str | None]], bool, str]:
    """One setting beside the paper's (:func:`reptheory.configs.paper_counterpart`): per shown field its value
    and, where it differs, the paper's (else None); whether the row deviates or is not in the paper; and why."""
    from reptheory import configs

    paper = configs.paper_counterpart(st)
    show = lambda f, v: (seeds_text(v) if f == "seeds" else none if v is None else
                         readable(v, 6) if isinstance(v, float) else str(v))      # 5e-07 as 5×10⁻⁷
    cells, deviates = [], False
    for f in SHOWN[type(st).__name__]:
        v = getattr(st, f)
        if paper is not None and v != getattr(paper, f):
            deviates = True
            cells.append((show(f, v), show(f, getattr(paper, f))))
        else:
            cells.append((show(f, v), None))
    why = ((st.note or "not in the paper") if paper is None else
           (st.note or "overridden in the notebook") if deviates else (paper.note or "none"))
    return cells, deviates or paper is None, why


def _settings(settings, profile) -> list:
    from reptheory import configs

    out = [configs.get(x, profile) if isinstance(x, str) else x for x in settings]
    if not out:
        raise ValueError("settings must name at least one setting")
    kinds = {type(s).__name__ for s in out}
    if len(kinds) > 1 or not kinds <= set(SHOWN):
        raise ValueError(f"a settings table holds one kind of setting ({' or '.join(SHOWN)}), got {sorted(kinds)}")
    return out


def settings_rows(settings, profile: str | None = None) -> list[dict]:
    """The settings (objects, or names in ``profile``) as rows for :func:`html_table` (often turned
    :func:`sideways`): ``{"setting": name, <field>: "value" or "value (paper: x)", "deviation from the paper":
    why}``.

    >>> settings_rows(["parity"], "default")[0]["epochs"]
    '800 (paper: 1000)'
    """
    rows = []
    for st in _settings(settings, profile):
        cells, _, why = _against_paper(st)
        fields = SHOWN[type(st).__name__]
        rows.append({"setting": st.name, **{f: v if ref is None else f"{v} (paper: {ref})"
                                            for f, (v, ref) in zip(fields, cells)}, "deviation from the paper": why})
    return rows


class SettingsTable:
    """The settings a figure runs beside the paper's, for a notebook: HTML in the book, Markdown in Jupyter.

    One design on every page: a folded block (an HTML ``<details>``) whose one-line summary says whether the
    settings are the paper's and, if not, which values differ (``epochs 800 (paper: 1000)``); opened, a table
    of the fields of :data:`SHOWN` (one kind of setting per table), a value that differs from the paper's in
    bold with the paper's beside it, a missing value (``None``: full batch, no early stop) as "–", and the
    reason of each difference. Up to :data:`SIDEWAYS_UP_TO` settings are shown sideways (a row per field, a
    column per setting, the reason first), which fits a page's column; more, one row per setting (those that
    differ first) with its name, the reason and the fields that vary between the settings as one line, the
    fields that are the same in every row said once above the table.

    >>> t = SettingsTable(["default", "gain_0.9"])
    >>> "<details" in t._repr_html_() and "–" in t._repr_html_()
    True
    """

    def __init__(self, settings, profile: str | None = None):
        self.settings = _settings(settings, profile)
        self.profile = profile
        self.fields = SHOWN[type(self.settings[0]).__name__]
        self.markdown = self._markdown()

    def _markdown(self) -> str:
        lines = ["| setting | " + " | ".join(self.fields) + " | deviation from the paper |",
                 "|---|" + "---|" * (len(self.fields) + 1)]
        for st in self.settings:
            cells, _, why = _against_paper(st)
            text = [v if ref is None else f"**{v}** (paper: {ref})" for v, ref in cells]
            lines.append(f"| {st.name} | " + " | ".join(text) + f" | {why} |")
        lines += ["", "Paper's exact settings: set `REPTHEORY_PROFILE=paper` before running the notebook."]
        return "\n".join(lines)

    def rows(self) -> list[tuple[bool, list[str]]]:
        """``(deviates, cells)`` per setting, deviating rows first; cells are HTML-escaped: the name, the fields
        of :data:`SHOWN` and the reason."""
        import html

        out = []
        for st in self.settings:
            cells, deviates, why = _against_paper(st, none="–")
            text = [html.escape(v) if ref is None else f"<b>{html.escape(v)}</b> (paper: {html.escape(ref)})"
                    for v, ref in cells]
            out.append((deviates, [html.escape(st.name), *text, html.escape(why)]))
        return sorted(out, key=lambda r: not r[0])

    def summary(self) -> str:
        """The folded block's line: how many settings, and the values that differ from the paper (each once)."""
        n, diffs, new = len(self.settings), [], 0
        for st in self.settings:
            cells, deviates, _ = _against_paper(st, none="–")
            new += deviates and all(ref is None for _, ref in cells)       # a setting the paper does not have
            diffs += [f"{f} {v} (paper: {ref})" for f, (v, ref) in zip(self.fields, cells)
                      if ref is not None and f"{f} {v} (paper: {ref})" not in diffs]
        what = f"{n} setting{'s' * (n > 1)}"
        if not diffs and not new:
            return f"Settings ({what}): all as in the paper"
        bits = []
        if diffs:
            bits.append("differing from the paper in: " + "; ".join(
                diffs[:3] + ([f"{len(diffs) - 3} more"] if len(diffs) > 3 else [])))
        if new:
            bits.append("not in the paper" if n == 1 else "none of them in the paper" if new == n
                        else f"{new} of them not in the paper")
        return f"Settings ({what}), " + "; ".join(bits)

    def _repr_html_(self) -> str:
        import html
        rows = self.rows()
        header = ("setting", *self.fields, "deviation from the paper")
        if len(rows) <= SIDEWAYS_UP_TO:            # a row per field, the reason first
            head = "".join(f"<th>{c}</th>" for c in ["", *(cells[0] for _, cells in rows)])
            order = (len(header) - 1, *range(1, len(header) - 1))
            body = "".join("<tr><th>" + html.escape(header[k]) + "</th>" + "".join(
                f"<td>{cells[k]}</td>" for _, cells in rows) + "</tr>" for k in order)
            common = ""
        else:                                      # a row per setting: its name, the reason, and the fields that
            same = [k for k in range(1, len(header) - 1) if len({cells[k] for _, cells in rows}) == 1]
            vary = [k for k in range(1, len(header) - 1) if k not in same]               # vary as one line
            head = "".join(f"<th>{h}</th>" for h in ("setting", "deviation from the paper", "settings"))
            body = "".join(f"<tr><td>{cells[0]}</td><td>{cells[-1]}</td><td>" + " · ".join(
                f"{html.escape(header[k])} {cells[k]}" for k in vary) + "</td></tr>" for _, cells in rows)
            common = ("<p>Every setting here has " + ", ".join(f"{html.escape(header[k])} {rows[0][1][k]}"
                                                                for k in same) + ".</p>") if same else ""
        return (f"<details class=\"rt-settings\"><summary>{html.escape(self.summary())}</summary>{common}"
                f'<div class="rt-output" style="overflow-x: auto"><table class="table"><thead><tr>{head}</tr>'
                f"</thead><tbody>{body}</tbody></table></div><p>Paper's exact settings: set "
                "<code>REPTHEORY_PROFILE=paper</code> before running the notebook.</p></details>")

    def _repr_markdown_(self) -> str:
        return self.markdown

    def __repr__(self) -> str:
        return self.markdown


#: the most glyphs a displayed line of a derived expression holds (:func:`show_step`): about what fits a phone's
#: text column (388 px) at MathJax's size
LINE_GLYPHS = 30
_RELATION = re.compile(r"(\\in|\\le|\\ge|\\ni|=|<|>)\s*$")


def glyphs(tex: str) -> int:
    """About how many glyphs the LaTeX ``tex`` shows in one line: a command (``\\eta``) counts one, braces,
    scripts' markers and spacing commands none, and a fraction its wider part.

    >>> glyphs(r"\\eta_{h} \\|\\Delta x\\|^{2}"), glyphs(r"\\frac{a + b}{2}")
    (7, 3)
    """
    while True:                                         # innermost fractions first
        m = re.search(r"\\[td]?frac\{([^{}]*)\}\{([^{}]*)\}", tex)
        if not m:
            break
        wide = max(m.group(1), m.group(2), key=glyphs)
        tex = tex[:m.start()] + "{" + wide + "}" + tex[m.end():]
    tex = re.sub(r"\\(left|right|qquad|quad|operatorname|mathrm|text|big|Big|[,;!])", "", tex)
    tex = re.sub(r"\\[a-zA-Z]+|\\\|", "x", tex)
    return len(re.sub(r"[{}^_\s]", "", tex))


def _lines(expr, first: str) -> list[str]:
    """``expr`` as aligned lines of at most :data:`LINE_GLYPHS` glyphs: a sum broken before its terms' signs (a
    long product expanded into its sum first), a set or tuple one element per line; ``first`` leads the first
    line (``lhs &=``)."""
    import sympy as sp

    from reptheory.theory.symbolic import latex
    whole = latex(expr)
    if glyphs(first + whole) <= LINE_GLYPHS:
        return [first + whole]
    if isinstance(expr, (sp.FiniteSet, sp.Tuple, tuple, list)):
        items = [latex(e) for e in (sorted(expr, key=sp.default_sort_key) if isinstance(expr, sp.FiniteSet)
                                    else expr)]
        open_, close = (r"\{", r"\}") if isinstance(expr, sp.FiniteSet) else (r"\left(", r"\right)")
        body = [(open_ if k == 0 else "") + t + ("," if k < len(items) - 1 else close) for k, t in enumerate(items)]
        return [first + body[0]] + [r"&\qquad " + b for b in body[1:]]
    if not isinstance(expr, sp.Add) and isinstance(sp.expand(expr), sp.Add):
        expr = sp.expand(expr)                  # a long product: its expanded sum, which can be broken
    if not isinstance(expr, sp.Add):
        return [first + whole]
    lines, line = [], first
    for k, term in enumerate(sp.Add.make_args(expr)):
        tex = latex(term)
        sign, tex = ("-", tex[1:]) if tex.startswith("-") else ("+", tex)
        piece = (("-" if sign == "-" else "") if k == 0 else f" {sign} ") + tex
        if k > 0 and glyphs(line + piece) > LINE_GLYPHS:
            lines.append(line)
            line = r"&\quad " + piece.strip()
        else:
            line += piece
    return lines + [line]


def show_step(step, lhs=None, math: bool = True) -> None:
    """Display a :class:`reptheory.theory.symbolic.Step` in a notebook: the derived form as math (one line per
    component, ``lhs`` naming them, a long component broken over lines of :data:`LINE_GLYPHS` glyphs; skipped
    with ``math=False``, for steps whose expanded matrix expressions are too long to read) and a printed line
    saying whether derived − stated simplifies to 0. An ``lhs`` that ends in a relation (``w^*\\in``) is
    followed by the expression itself, any other by ``=``."""
    from IPython.display import Math, display

    from reptheory.theory.symbolic import latex

    if not math:
        _verdict(step)
        return
    derived = step.derived
    parts = list(derived) if isinstance(derived, (tuple, list)) or hasattr(derived, "tolist") else [derived]
    if lhs is None:
        lines = [latex(p) for p in parts]
    else:
        lhs = [lhs] if isinstance(lhs, str) else list(lhs)
        if len(lhs) != len(parts):
            raise ValueError(f"lhs must name each of the {len(parts)} derived components, got {len(lhs)}")
        lines = [line for name, p in zip(lhs, parts)
                 for line in _lines(p, f"{name} &{' ' if _RELATION.search(name) else '= '}")]
    display(Math(r"\begin{aligned}" + r"\\ ".join(lines) + r"\end{aligned}"))
    _verdict(step)


def _verdict(step) -> None:
    if step.stated is None:
        print(f"{step.name}: derived")
    else:
        verdict = "simplifies to 0: matches the paper" if step.holds else "does NOT simplify to 0"
        print(f"{step.name}: derived − stated {verdict}")


def html_table(rows: list[dict], sig: int = 4):
    """An HTML table (``IPython.display.HTML``) from a list of dicts with equal keys: a notebook's Markdown output
    is rendered without tables, HTML is not. Floats are rounded with :func:`readable`; ``None``, NaN and the text
    ``"None"`` (a missing setting written out by ``str``) show as "–"; a heading is written by :func:`heading`, a text cell by :func:`text_cell`."""
    import html

    from IPython.display import HTML
    if not rows:
        raise ValueError("rows must hold at least one row")
    keys = list(rows[0])

    def cell(v):
        if _missing(v) or v == "None":
            return "–"
        return html.escape(readable(v, sig) if isinstance(v, (float, np.floating)) else text_cell(str(v)))
    head = "".join(f"<th>{html.escape(heading(k))}</th>" for k in keys)
    body = "".join("<tr>" + "".join(f"<td>{cell(r[k])}</td>" for k in keys) + "</tr>" for r in rows)
    return HTML(f"<table class=\"table\"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def sideways(rows: list[dict], key: str) -> list[dict]:
    """``rows`` turned sideways: one row per field and one column per row of ``rows``, headed by its ``key``
    value. A few settings with many fields read better this way on a narrow page.

    >>> sideways([{"name": "a", "lr": 0.1}, {"name": "b", "lr": 0.2}], "name")
    [{'field': 'lr', 'a': 0.1, 'b': 0.2}]
    """
    if not rows or any(key not in r for r in rows):
        raise ValueError(f"rows must be a non-empty list of dicts that all hold {key!r}")
    return [{"field": f, **{str(r[key]): r[f] for r in rows}} for f in rows[0] if f != key]
