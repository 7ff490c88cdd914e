"""The numeric theory against itself and against closed forms (neural-tangents style)."""
import numpy as np
import pytest

from reptheory import theory as th

RATES = dict(eta_h=7.4e-4, eta_y=4.5e-2, dx2=1.0, dy2=0.5)


def _w0(y2, dy2, cos):
    # w = y2 - Δy·Δŷ with Δy·Δŷ = cos·sqrt(dy2·y2)
    return y2 - cos * np.sqrt(dy2 * y2)


@pytest.mark.parametrize("h0,y0", [(1e-2, 1e-4), (1e-5, 1e-10), (0.3, 0.2)])
def test_solution_at_t0_is_initial_state(h0, y0):
    w0 = _w0(y0, 0.5, 0.3)
    tr = th.solve(np.arange(100.0), h0, y0, w0, **RATES)
    assert (tr.h2[0], tr.y2[0], tr.w[0]) == (h0, y0, w0)


@pytest.mark.parametrize("h0,y0,cos", [(1e-2, 1e-4, 0.3), (1e-5, 1e-10, -0.9), (0.3, 0.2, 0.0), (2.0, 3.0, 0.8)])
def test_long_time_solution_is_h_inf(h0, y0, cos):
    w0 = _w0(y0, 0.5, cos)
    tr = th.solve(np.array([0.0, 3e5]), h0, y0, w0, **RATES)
    hinf = th.h_inf(h0, y0, **RATES)
    np.testing.assert_allclose(tr.h2[-1], hinf, rtol=1e-6)
    np.testing.assert_allclose(tr.y2[-1], 0.5, rtol=1e-6)   # the prediction reaches the target distance
    assert abs(tr.w[-1]) < 1e-7


def test_c_is_conserved_along_solutions():
    t = np.arange(6000.0)
    for h0, y0 in [(1e-2, 1e-4), (1e-4, 1e-8), (0.3, 0.2)]:
        tr = th.solve(t, h0, y0, _w0(y0, 0.5, 0.3), **RATES)
        c = th.conserved(tr.h2, tr.y2, RATES["eta_h"], RATES["eta_y"], RATES["dx2"])
        terms = np.maximum(tr.y2 / tr.h2, th.a_coefficient(RATES["eta_h"], RATES["eta_y"], 1.0) * tr.h2)
        assert np.max(np.abs(c - c[0]) / terms) < 1e-7


def test_conservation_fails_for_a_wrong_system():
    # guard: the conservation check is able to fail (perturbed eta_y in C)
    tr = th.solve(np.arange(3000.0), 1e-2, 1e-4, _w0(1e-4, 0.5, 0.3), **RATES)
    c = th.conserved(tr.h2, tr.y2, RATES["eta_h"], 1.1 * RATES["eta_y"], 1.0)
    assert np.ptp(c) / np.abs(c).max() > 1e-2


@pytest.mark.parametrize("h0,y0", [(0.3, 0.2), (0.05, 0.5), (0.2, 1e-3)])
def test_bernoulli_closed_form_matches_ode_for_identical_targets(h0, y0):
    t = np.linspace(0, 5000, 501)
    tr = th.solve(t, h0, y0, y0, RATES["eta_h"], RATES["eta_y"], 1.0, 0.0, rtol=1e-11)
    cf = th.identical_output(t, h0, y0, RATES["eta_h"], RATES["eta_y"], 1.0)
    for name in ("h2", "y2", "w"):
        np.testing.assert_allclose(getattr(tr, name), getattr(cf, name), rtol=1e-7, atol=1e-14)


def test_bernoulli_c_zero_limit():
    a = th.a_coefficient(1e-3, 2e-2, 1.0)
    h0 = 0.1
    cf = th.identical_output(np.array([0.0, 10.0]), h0, a * h0**2, 1e-3, 2e-2, 1.0)   # C = 0 exactly
    np.testing.assert_allclose(cf.h2[-1], h0 / (1 + 2e-2 * h0 * 10.0), rtol=1e-12)


def test_batch_equals_single_solves():
    t = np.arange(0, 2000.0, 10.0)
    h0 = np.array([1e-3, 1e-2, 0.3])
    y0 = np.array([1e-6, 1e-3, 0.2])
    w0 = _w0(y0, 0.5, 0.5)
    eta_h = np.array([1e-3, 7e-4, 2e-3])
    b = th.solve_batch(t, h0, y0, w0, eta_h, 4.5e-2, 1.0, 0.5)
    assert b.h2.shape == (3, t.size) and len(b) == 3
    for i in range(3):
        s = th.solve(t, h0[i], y0[i], w0[i], eta_h[i], 4.5e-2, 1.0, 0.5)
        np.testing.assert_allclose(b[i].h2, s.h2, rtol=1e-12)
        np.testing.assert_allclose(b[i].w, s.w, rtol=1e-12, atol=1e-15)


def test_batch_in_parallel_processes_equals_serial():
    t = np.arange(0, 500.0, 5.0)
    kw = dict(h2_0=[1e-2, 2e-2], y2_0=[1e-4, 1e-3], w_0=[1e-4, 1e-3], eta_h=1e-3, eta_y=4e-2, dx2=1.0, dy2=0.5)
    np.testing.assert_array_equal(th.solve_batch(t, **kw).h2, th.solve_batch(t, **kw, n_jobs=2).h2)


def test_rich_and_lazy_limits():
    eh, ey = 1e-3, 4e-2
    # rich: tiny initial state -> A_low, independent of the initial state
    for h0 in (1e-8, 1e-10):
        np.testing.assert_allclose(th.h_inf(h0, 0.1 * h0**2, eh, ey, 1.0, 0.5), th.rich_limit(eh, ey, 1.0, 0.5), rtol=1e-4)
    # lazy with A_high > 0: h_inf -> A_high; lazy with A_high < 0: h_inf -> 0
    np.testing.assert_allclose(th.h_inf(100.0, 1.0, eh, ey, 1.0, 0.5), th.lazy_limit(100.0, 1.0, eh, ey, 1.0), rtol=1e-4)
    assert th.h_inf(10.0, 1e5, eh, ey, 1.0, 0.5) < 1e-2
    assert th.lazy_limit(10.0, 1e5, eh, ey, 1.0) == 0.0
    # the numerically stable branch agrees with the plain formula where both are accurate
    ah, al = th.a_high(0.5, 20.0, eh, ey, 1.0), th.a_low(eh, ey, 1.0, 0.5)
    np.testing.assert_allclose(th.h_inf(0.5, 20.0, eh, ey, 1.0, 0.5), 0.5 * ah + np.sqrt(0.25 * ah**2 + al**2), rtol=1e-9)


def test_loss_at_convergence_is_mean_part_only():
    t = np.array([0.0, 1e6])
    L = th.loss(t, np.array([0.1, 0.5]), np.array([0.05, 0.0]), 0.5, 0.01, 0.3)
    assert L[-1] == pytest.approx(0.0, abs=1e-15)
    assert L[0] == pytest.approx(0.5 * 0.3 + 0.25 * 0.05 + 0.125 * 0.4)


def test_scaled_variables_reproduce_a_direct_integration_of_eq7():
    # solve() integrates (ln h2, y2/h2, w/h2); a plain integration of rhs() must give the same curves
    from scipy.integrate import solve_ivp
    t = np.arange(0, 3000.0, 10.0)
    z0 = [1e-2, 1e-4, _w0(1e-4, 0.5, 0.3)]
    p = tuple(RATES.values())
    ref = solve_ivp(lambda _t, z: th.rhs(_t, z, *p), (0, t[-1]), z0, method="LSODA", t_eval=t,
                    rtol=1e-11, atol=1e-16)
    tr = th.solve(t, *z0, **RATES, rtol=1e-11)
    for i, name in enumerate(("h2", "y2", "w")):
        np.testing.assert_allclose(getattr(tr, name), ref.y[i], rtol=1e-6, atol=1e-9 * np.abs(ref.y[i]).max())


@pytest.mark.parametrize("h0, y0", [(1e200, 0.0), (1e300, 0.0), (1e300, 1e10), (1e-300, 1.0), (1e-300, 1e-300),
                                    (1e-150, 1e-301), (1e-200, 1e100), (3.0, 1e250)])
def test_h_inf_is_exact_over_the_whole_float_range(h0, y0):
    """Eq. 10 in 60-digit arithmetic (mpmath) against the float implementation, at 1e±300."""
    import mpmath
    mpmath.mp.dps = 60
    eh, ey, dx2, dy2 = 1e-3, 4e-2, 1.0, 0.5
    a = mpmath.mpf(ey) / (mpmath.mpf(eh) * dx2)
    ah = mpmath.mpf(h0) - mpmath.mpf(y0) / (a * mpmath.mpf(h0))
    al2 = mpmath.mpf(dy2) / a
    root = mpmath.sqrt(ah**2 / 4 + al2)
    exact = ah / 2 + root if ah >= 0 else al2 / (root - ah / 2)     # no cancellation at any precision
    got = th.h_inf(h0, y0, eh, ey, dx2, dy2)
    assert isinstance(got, float) and np.isfinite(got)
    assert got == pytest.approx(float(exact), rel=1e-12, abs=1e-300)
