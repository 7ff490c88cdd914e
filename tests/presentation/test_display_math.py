"""Tables and derived expressions as shown: a table says yes and no and leaves out an empty column; derived
expressions shown as math (display.show_step) fit a phone's column: a long sum is broken before its
terms' signs and a set is shown one element per line, each line within LINE_GLYPHS glyphs (a single term
longer than that stays whole), and a left-hand side ending in a relation is not followed by '='."""
import numpy as np
import sympy as sp

from reptheory.presentation import display
from reptheory.theory import analysis as A


def _widths(lines):
    return [display.glyphs(line.replace("&", "")) for line in lines]


def test_a_long_sum_is_broken_into_lines_that_fit():
    expr = A.reduced_system().derived[1]                      # dw/dt of Eq. 25: six terms
    lines = display._lines(expr, r"\tfrac{d}{dt}w &= ")
    assert len(lines) > 1 and all(w <= display.LINE_GLYPHS for w in _widths(lines)[1:])
    back = sp.sympify(0)
    for term in sp.Add.make_args(expr):
        back += term
    assert sp.simplify(back - expr) == 0


def test_a_set_is_one_element_per_line_and_a_relation_takes_no_equals_sign():
    lines = display._lines(A.fixed_points().derived[1], r"\|\Delta h^*\|^2\in & ")
    assert len(lines) == 3 and lines[0].endswith(r"\{0,") and lines[-1].endswith(r"\}")
    assert display._RELATION.search(r"w^*\in") and not display._RELATION.search(r"\det J")


def test_a_short_expression_stays_on_one_line():
    assert display._lines(sp.Symbol("w") + 1, "x &= ") == ["x &= w + 1"]


def test_a_table_says_yes_and_no_and_leaves_out_a_note_no_row_needs():
    from reptheory.presentation.display import table
    rows = [{"run": "a", "diverged": False, "note": ""}, {"run": "b", "diverged": np.bool_(True), "note": ""}]
    assert table(rows).splitlines() == ["| run | diverged |", "|---|---|", "| a | no |", "| b | yes |"]
    rows[1]["note"] = "stopped early"
    assert table(rows).splitlines()[0] == "| run | diverged | note |"
