"""Bad arguments raise errors that name the argument and the allowed range."""
import numpy as np
import pytest

import reptheory as rt
from reptheory import theory as th

T = np.arange(10.0)


@pytest.mark.parametrize("kw,match", [
    (dict(eta_h=-1.0), r"eta_h must be > 0 \(allowed range: \(0, inf\)\)"),
    (dict(eta_y=0.0), r"eta_y must be > 0"),
    (dict(dx2=-0.5), r"dx2 must be > 0"),
    (dict(dy2=-0.5), r"dy2 must be >= 0"),
    (dict(h2_0=0.0), r"h2_0 must be > 0"),
    (dict(h2_0=-1e-3), r"h2_0 must be > 0"),
    (dict(y2_0=-1.0), r"y2_0 must be >= 0"),
    (dict(w_0=5.0), r"w_0 must lie in"),
    (dict(eta_h=np.nan), r"eta_h must be finite"),
    (dict(t=np.array([0.0, 2.0, 1.0])), r"t must be non-negative and strictly increasing"),
    (dict(t=np.ones((2, 2))), r"t must be a 1-D array"),
    (dict(eta_h="fast"), r"eta_h must be a real number"),
])
def test_solve_rejects_bad_arguments(kw, match):
    args = dict(t=T, h2_0=0.1, y2_0=0.01, w_0=0.0, eta_h=1e-3, eta_y=1e-2, dx2=1.0, dy2=0.5)
    args.update(kw)
    with pytest.raises((ValueError, TypeError), match=match):
        th.solve(**args)


def test_rhs_rejects_wrong_shapes_and_h2():
    with pytest.raises(ValueError, match=r"z must have shape \(3,\)"):
        th.rhs(0, np.ones(2), 1, 1, 1, 1)
    with pytest.raises(ValueError, match=r"h2 \(z\[0\]\) must be > 0"):
        th.rhs(0, np.array([0.0, 1.0, 0.0]), 1, 1, 1, 1)


def test_batch_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="must broadcast to one shape"):
        th.solve_batch(T, [0.1, 0.2], [0.01, 0.01, 0.01], 0.0, 1e-3, 1e-2, 1.0, 0.5)


def test_fit_rejects_bad_curves():
    with pytest.raises(ValueError, match=r"y2 must be 1-D with the same length as t \(10\)"):
        rt.fit_rates(T, np.ones(10), np.ones(9), np.ones(10), 1.0, 0.5)
    with pytest.raises(ValueError, match="h2 must be > 0"):
        rt.fit_rates(T, np.zeros(10), np.ones(10), np.ones(10), 1.0, 0.5)
    with pytest.raises(ValueError, match="n_grid must be an integer >= 1"):
        rt.fit_rates(T, np.ones(10), np.ones(10), np.ones(10), 1.0, 0.5, n_grid=0)


def test_loss_and_fixed_point_reject_bad_arguments():
    with pytest.raises(ValueError, match="eta_ybar must be > 0"):
        th.loss(T, np.ones(10), np.ones(10), 0.5, -1.0, 0.1)
    with pytest.raises(ValueError, match="y2 and w must have the shape of t"):
        th.loss(T, np.ones(3), np.ones(3), 0.5, 1.0, 0.1)
    with pytest.raises(ValueError, match="h2_0 must be > 0"):
        th.h_inf(0.0, 0.1, 1e-3, 1e-2, 1.0, 0.5)


def test_fmt_rounds_and_rejects_bad_sig():
    assert rt.fmt(0.123456789) == "0.1235"
    assert rt.fmt(-1e-20, 2) == "-1e-20"
    assert rt.fmt(np.array([1.23456, 2.0])) == "[1.235, 2]"
    with pytest.raises(ValueError, match=r"sig must be an integer in \[1, 12\]"):
        rt.fmt(1.0, 0)
