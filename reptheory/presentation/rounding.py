"""Numbers as a notebook prints them: rounded, so that outputs compare equal across CPUs (nbval), and written
as a reader expects (powers of ten, not e-notation); and a table's headings and text cells in the paper's
notation (:func:`heading`, :func:`text_cell`).

Float results from torch and BLAS differ between CPUs in the 8th significant digit; every number a checked
notebook prints goes through :func:`fmt` with 4 significant digits or fewer, and every number in a table through
:func:`readable`.
"""
from __future__ import annotations

import re

import numpy as np

from reptheory import validate as _v

__all__ = ["fmt", "readable", "span", "heading", "text_cell"]


def fmt(x, sig: int = 4) -> str:
    """``x`` rounded to ``sig`` significant digits as a string (``-0`` printed as ``0``); arrays elementwise.

    >>> fmt(3.14159), fmt(-1e-20, 2), fmt([1 / 3, 2.0])
    ('3.142', '-1e-20', '[0.3333, 2]')
    """
    sig = _v.integer("sig", sig, 1, 12)
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


_SUP = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def readable(x, sig: int = 4) -> str:
    """:func:`fmt`, with a number that Python would print in e-notation written as a power of ten instead
    (``9.92e-05`` as ``9.92×10⁻⁵``, ``1e+07`` as ``10⁷``; a rounded whole number below a million as it is,
    ``1.4e+04`` as ``14000``): what a table shows. The text has no hyphen, so a browser does not break it
    across lines.

    >>> readable(9.923e-5, 3), readable(1e7, 2), readable(-2.5e-11, 2), readable(0.0123), readable(14321.0, 2)
    ('9.92×10⁻⁵', '10⁷', '-2.5×10⁻¹¹', '0.0123', '14000')
    """
    s = fmt(x, sig)
    m = re.fullmatch(r"(-?)([0-9.]+)e([+-])0*([0-9]+)", s)
    if m is None:
        return s
    if m.group(3) == "+" and float(s) < 1e6 and float(s) == int(float(s)):     # a whole number: as it is
        return str(int(float(s)))
    sign, mant, esign, exp = m.groups()
    power = "10" + (("-" if esign == "-" else "") + exp).translate(_SUP)
    return sign + (power if mant == "1" else f"{mant}×{power}")


def span(values, form=None) -> str:
    """The range of ``values`` in words: ``"a to b"``, or ``"a"`` when the smallest and the largest print alike
    (each printed by ``form``, a function of one number to text; by default :func:`readable` with two
    significant digits), and "–" when there are none.

    >>> span([3000, 1.4e4]), span([0.0019, 0.0019]), span([])
    ('3000 to 14000', '0.0019', '–')
    """
    if not len(values):
        return "–"
    form = form or (lambda v: readable(v, 2))
    lo, hi = form(min(values)), form(max(values))
    return lo if lo == hi else f"{lo} to {hi}"


#: a result's key (the name code reads it by) and the heading a table shows for it, in the paper's notation
_HEADINGS = ((re.compile(r"\bh_inf \(Eq\. 10\)"), "Eq. 10: ‖Δh(∞)‖²"),
             (re.compile(r"\bfinal h2\b"), "final ‖Δh‖²"),
             (re.compile(r"^dy=0 max (meas|pred) / top$"),
              lambda m: f"‖Δy‖ = 0: largest {'measured' if m.group(1) == 'meas' else 'predicted'} / top"),
             (re.compile(r"\bh_inf\b"), "‖Δh‖²∞"),
             (re.compile(r"\bh2\b"), "‖Δh‖²"), (re.compile(r"\by2\b"), "‖Δŷ‖²"),
             (re.compile(r"\beta_ybar\b"), "η_ȳ"), (re.compile(r"\beta_h\b"), "η_h"),
             (re.compile(r"\beta_y\b"), "η_y"), (re.compile(r"\beta2\b"), "η²"))


def heading(key: str) -> str:
    """The heading a table shows for the column ``key``: the names code reads results by (``eta_h``,
    ``dev h2``, ``h_inf (Eq. 10)``) written in the paper's notation.

    >>> [heading(k) for k in ("eta_h", "dev h2", "h_inf (Eq. 10)", "final h2", "eta2 c1", "seed")]
    ['η_h', 'dev ‖Δh‖²', 'Eq. 10: ‖Δh(∞)‖²', 'final ‖Δh‖²', 'η² c1', 'seed']
    """
    text = str(key)
    for pattern, shown in _HEADINGS:
        text = pattern.sub(shown, text)
    return text


_E_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?e[+-]?\d+(?![\w.])")
_RATES = ((re.compile(r"\beta_h\b"), "η_h"), (re.compile(r"\beta_y\b"), "η_y"))


def text_cell(text: str) -> str:
    """A text cell as a table shows it: a number in e-notation written by :func:`readable` (a power of ten)
    and the rates' code names in the paper's notation.

    >>> text_cell("on the search boundary (1e-09 to 1e+03) for eta_h: eta_h = 1.12e-09")
    'on the search boundary (10⁻⁹ to 1000) for η_h: η_h = 1.12×10⁻⁹'
    """
    text = _E_NUMBER.sub(lambda m: readable(float(m.group(0)), 3), str(text))
    for pattern, shown in _RATES:
        text = pattern.sub(shown, text)
    return text
