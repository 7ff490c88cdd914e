"""Rounded printing, so that notebook outputs compare equal across CPUs (nbval).

Float results from torch and BLAS differ between CPUs in the 8th significant digit; every number a checked
notebook prints goes through :func:`fmt` with 4 significant digits or fewer.
"""
from __future__ import annotations

import numpy as np


def fmt(x, sig: int = 4) -> str:
    """``x`` rounded to ``sig`` significant digits as a string (``-0`` printed as ``0``); arrays elementwise."""
    if not isinstance(sig, int) or isinstance(sig, bool) or not 1 <= sig <= 12:
        raise ValueError(f"sig must be an integer in [1, 12], got {sig!r}")
    arr = np.asarray(x)
    if arr.ndim > 0:
        return "[" + ", ".join(fmt(v, sig) for v in arr.ravel()) + "]"
    if arr.dtype == bool:
        return str(bool(arr))
    v = float(arr)
    if not np.isfinite(v):
        return str(v)
    s = f"{v:.{sig}g}"
    return "0" if float(s) == 0 else s


def table(rows: list[dict], sig: int = 4) -> str:
    """A Markdown table from a list of dicts with equal keys; floats rounded with :func:`fmt`."""
    if not rows:
        raise ValueError("rows must hold at least one row")
    keys = list(rows[0])
    cell = lambda v: fmt(v, sig) if isinstance(v, (float, np.floating)) else str(v)
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
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


def show_step(step, lhs=None, math: bool = True) -> None:
    """Display a :class:`reptheory.symbolic.Step` in a notebook: the derived form as math (one line per
    component, ``lhs`` naming them; skipped with ``math=False``, for steps whose expanded matrix
    expressions are too long to read) and a printed line saying whether derived − stated simplifies to 0."""
    from IPython.display import Math, display

    from .symbolic import latex

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
        lines = [f"{l} &= {latex(p)}" for l, p in zip(lhs, parts)]
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
    is rendered without tables, HTML is not. Floats are rounded with :func:`fmt`; ``None`` and NaN show as "–"."""
    import html

    from IPython.display import HTML
    if not rows:
        raise ValueError("rows must hold at least one row")
    keys = list(rows[0])

    def cell(v):
        if v is None or (isinstance(v, (float, np.floating)) and np.isnan(v)):
            return "–"
        return html.escape(fmt(v, sig) if isinstance(v, (float, np.floating)) else str(v))
    head = "".join(f"<th>{html.escape(str(k))}</th>" for k in keys)
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
