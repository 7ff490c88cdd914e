"""The fit recovers known rates and reports failure as failure."""
import pathlib
import pickle

import numpy as np
import pytest

from reptheory import theory as th
from reptheory.theory import fit
from reptheory.theory.fit import FitError, fit_rates

DATA = pathlib.Path(__file__).parents[1] / "data" / "network_trajectories.npz"


@pytest.fixture(scope="module")
def synthetic():
    t = np.arange(3000.0)
    tr = th.solve(t, 1e-3, 1e-5, 1e-5 - 0.9 * np.sqrt(0.5e-5), 7.4e-4, 4.5e-2, 1.0, 0.5)
    return t, tr


def test_fit_recovers_known_rates(synthetic):
    t, tr = synthetic
    r = fit.fit_rates(t, tr.h2, tr.y2, tr.w, 1.0, 0.5)
    assert r.identifiable
    np.testing.assert_allclose([r.eta_h, r.eta_y], [7.4e-4, 4.5e-2], rtol=1e-4)
    assert r.cost < 1e-8 and max(r.max_rel_dev.values()) < 1e-4


def test_fit_with_noise_stays_close(synthetic):
    t, tr = synthetic
    rng = np.random.default_rng(0)
    # 1 % multiplicative noise on the squared distances (they stay >= 0), additive noise on w
    h2 = tr.h2 * (1 + 0.01 * rng.standard_normal(t.size))
    y2 = tr.y2 * (1 + 0.01 * rng.standard_normal(t.size))
    w = tr.w + 0.002 * np.max(np.abs(tr.w)) * rng.standard_normal(t.size)
    h2[0], y2[0], w[0] = tr.h2[0], tr.y2[0], tr.w[0]
    noisy = (h2, y2, w)
    r = fit.fit_rates(t, *noisy, 1.0, 0.5)
    np.testing.assert_allclose([r.eta_h, r.eta_y], [7.4e-4, 4.5e-2], rtol=0.05)


def test_mean_rate_recovered(synthetic):
    t, tr = synthetic
    L = th.loss(t, tr.y2, tr.w, 0.5, 3e-3, 0.2)
    r = fit.fit_mean_rate(t, L, tr.y2, tr.w, 0.5, 0.2)
    assert r.eta_ybar == pytest.approx(3e-3, rel=1e-5)
    assert r.max_rel_dev < 1e-6


def test_unfittable_data_raises_a_fit_error_with_its_reason():
    # constant curves: no finite rates reproduce a frozen state with nonzero w
    t = np.arange(200.0)
    h2, y2, w = np.full(200, 0.1), np.full(200, 0.2), np.full(200, 0.2)
    with pytest.raises(fit.FitError, match="^fit_rates failed: ") as err:
        fit.fit_rates(t, h2, y2, w, 1.0, 0.5)
    assert err.value.reason and err.value.where == "fit_rates" and str(err.value).endswith(err.value.reason)
    again = pickle.loads(pickle.dumps(err.value))            # it crosses worker processes intact
    assert str(again) == str(err.value) and again.reason == err.value.reason


def test_mean_rate_undetermined_is_reported_failed():
    t = np.arange(10.0)
    with pytest.raises(fit.FitError, match="m0 = 0"):
        fit.fit_mean_rate(t, np.zeros(10), np.zeros(10), np.zeros(10), 0.5, 0.0)


def test_max_relative_deviation():
    assert fit.max_relative_deviation([0.0, 2.0, -4.0], [0.0, 2.0, -3.0]) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="identically zero"):
        fit.max_relative_deviation([0.0, 0.0], [0.0, 1.0])


def test_boundary_optimum_is_flagged_not_hidden():
    # a frozen encoder (h2 constant) with a moving output: the best eta_h is 0, on the search boundary
    t = np.arange(400.0)
    tr = th.solve(t, 0.3, 0.01, 0.01 - 0.9 * np.sqrt(0.5 * 0.01), 1e-12, 2e-2, 1.0, 0.5)
    with pytest.raises(fit.FitError, match="boundary"):
        fit.fit_rates(t, np.full(t.size, 0.3), tr.y2, tr.w, 1.0, 0.5)
    r = fit.fit_rates(t, np.full(t.size, 0.3), tr.y2, tr.w, 1.0, 0.5, allow_boundary=True)
    assert r.at_boundary == ("eta_h",) and r.eta_h < 1e-8


def _stored(name):
    """A trained network's two-point trajectory (6001 epochs; stored so the test needs no training)."""
    with np.load(DATA) as f:
        return {k: f[f"{name}/{k}"] for k in ("t", "h2", "y2", "w", "dx2", "dy2")}


@pytest.mark.parametrize("name", ["default", "gain_1.4", "relu"])
def test_fast_search_finds_the_reference_optimum_on_network_trajectories(name):
    """The compiled RK4 search and the adaptive Radau search agree on the rates to 1e-3 (relative)."""
    d = _stored(name)
    args = (d["t"], d["h2"], d["y2"], d["w"], float(d["dx2"]), float(d["dy2"]))
    fast = fit.fit_rates(*args, allow_boundary=True)
    ref = fit.fit_rates(*args, allow_boundary=True, method="radau")
    assert fast.eta_h == pytest.approx(ref.eta_h, rel=1e-3) and fast.eta_y == pytest.approx(ref.eta_y, rel=1e-3)
    assert fast.cost == pytest.approx(ref.cost, rel=1e-3)


def test_fast_solver_matches_radau_on_the_stiff_side():
    """Large rates force many RK4 steps per epoch; the scheme stays on the Radau solution or refuses."""
    t = np.arange(0.0, 201.0)
    a = th.solve(t, 2.0, 0.5, 0.2, 0.5, 2.0, 1.0, 1.0, rtol=1e-10)
    b = th.solve(t, 2.0, 0.5, 0.2, 0.5, 2.0, 1.0, 1.0, method="rk4")
    for k in ("h2", "y2", "w"):
        assert fit.max_relative_deviation(getattr(a, k), getattr(b, k)) < 1e-6
    with pytest.raises(th.SolveError, match="too stiff"):
        th.solve(t, 2.0, 0.5, 0.2, 1e6, 1e6, 1.0, 1.0, method="rk4")
    with pytest.raises(ValueError, match="method"):
        th.solve(t, 2.0, 0.5, 0.2, 0.5, 2.0, 1.0, 1.0, method="euler")


def test_fit_says_when_the_data_cannot_decide_the_rates():
    t = np.arange(0.0, 3000.0, 10.0)
    # a fixed point: nothing moves, any rates fit with cost 0
    flat = np.full(t.size, 0.2)
    with pytest.raises(FitError, match="do not move"):
        fit_rates(t, flat, flat, flat, 1.0, 0.5)
    # noise without a trend: the fit explains nothing
    rng = np.random.default_rng(0)
    h2, y2 = np.abs(rng.normal(1, 0.5, t.size)), np.abs(rng.normal(1, 0.5, t.size))
    w = np.clip(np.abs(rng.normal(1, 0.5, t.size)) * 0.5, 0, y2 + np.sqrt(0.5 * y2))
    w[0] = y2[0]
    f = fit_rates(t, h2, y2, w, 1.0, 0.5, allow_boundary=True)
    assert not f.identifiable and f.unexplained > 0.5
    assert f.message.startswith("not identifiable") and "unexplained" in f.flags[0]
    assert "theory" not in repr(f) and len(repr(f)) < 400
    # a network trajectory is identifiable, with wide margins on both criteria
    d = np.load(DATA)
    k = "default"
    g = fit_rates(d[f"{k}/t"], d[f"{k}/h2"], d[f"{k}/y2"], d[f"{k}/w"], float(d[f"{k}/dx2"]), float(d[f"{k}/dy2"]))
    assert g.identifiable and g.unexplained < 0.05 and g.sensitivity > 0.01
