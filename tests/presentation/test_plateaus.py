"""The unconverged-run test of Fig. 5 (``presentation.plateaus``) on synthetic grids whose answer is known."""
import numpy as np
import pytest

from reptheory.presentation import plateaus

RATES = dict(eta_h=1e-3, eta_y=1e-2)
BAR, BUDGET = 1e-3, 40000


def test_a_smaller_initial_distance_escapes_later():
    # the rich regime's plateau: the closer the two representations start, the later the loss falls
    times = [plateaus.escape_epochs(h0, 1e-12, 1.0, 0.5, **RATES, bar=BAR, horizon=1e6) for h0 in (1e-2, 1e-4, 1e-6)]
    assert times[0] < times[1] < times[2] < np.inf


def test_a_horizon_too_short_gives_inf():
    assert plateaus.escape_epochs(1e-3, 1e-12, 1.0, 0.5, **RATES, bar=BAR, horizon=10.0) == np.inf


def _grid(n=8):
    dx = np.ones(n)
    dy = np.tile([0.5, 1.0], n // 2)
    h2_0 = np.geomspace(1e-2, 1e-7, n)           # later runs start closer together: slower escapes
    y2_0 = np.full(n, 1e-12)
    pred = np.array([plateaus.escape_epochs(h, y, 1.0, b * b, **RATES, bar=BAR, horizon=10 * BUDGET)
                     for h, y, b in zip(h2_0, y2_0, dy)])
    return dx, dy, h2_0, y2_0, pred


def _run(stuck, dx, dy, h2_0, y2_0, pred):
    loss = np.where(stuck, dy ** 2 / 8, 1e-4)
    epochs = np.where(stuck, BUDGET, 1.5 * pred)
    return plateaus.unconverged(dx, dy, h2_0, y2_0, loss, epochs, **RATES, budget=BUDGET, bar=BAR)


def test_unconverged_runs_that_eq7_puts_slowest_are_slow_escapes():
    dx, dy, h2_0, y2_0, pred = _grid()
    stuck = pred >= np.sort(pred)[-3]                 # the three slowest in Eq. 7
    u = _run(stuck, dx, dy, h2_0, y2_0, pred)
    assert (u.n_runs, u.n_unconverged, u.on_plateau) == (8, 3, 3)
    assert u.p == pytest.approx(1 / 56) and u.verdict == "slow escapes"
    assert u.lag == pytest.approx(1.5)


def test_unconverged_runs_that_eq7_puts_fastest_are_not_slow_escapes():
    dx, dy, h2_0, y2_0, pred = _grid()
    stuck = pred <= np.sort(pred)[2]                  # the three fastest in Eq. 7
    u = _run(stuck, dx, dy, h2_0, y2_0, pred)
    assert u.p > 0.9 and u.verdict == "not the slowest in Eq. 7"
    assert u.overstayed == 3                           # each waited far beyond the converged runs' lag of 1.5


def test_one_unconverged_run_in_few_cannot_decide():
    dx, dy, h2_0, y2_0, pred = _grid()
    u = _run(pred == pred.max(), dx, dy, h2_0, y2_0, pred)
    assert u.p_min == pytest.approx(1 / 8) and u.verdict == "undecided: too few unconverged runs"
    assert _run(np.zeros(8, bool), dx, dy, h2_0, y2_0, pred).verdict == "none"


def test_bad_grids_are_refused():
    with pytest.raises(ValueError, match=r"dy must be > 0 .*got \[0.0\]"):
        plateaus.unconverged([1.0], [0.0], [1e-3], [1e-9], [1e-4], [10], **RATES, budget=BUDGET, bar=BAR)
    with pytest.raises(ValueError, match=r"equal-length .*got shapes \[\(2,\), \(1,\)"):
        plateaus.unconverged([1.0, 1.0], [0.5], [1e-3], [1e-9], [1e-4], [10], **RATES, budget=BUDGET, bar=BAR)
