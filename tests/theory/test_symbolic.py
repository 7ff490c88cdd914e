"""Every sympy derivation step equals the form the paper states, and the derived Eq. 7 equals the numeric one."""
import numpy as np
import pytest
import sympy as sp

from reptheory.theory import analysis as A
from reptheory.theory import symbolic as S
from reptheory.theory import ode as th


@pytest.mark.parametrize("step", S.all_steps(), ids=lambda s: s.name)
def test_derivation_step_matches_stated_form(step):
    assert step.holds, f"{step.name}: derived − stated = {step.difference}"


def test_derivation_is_not_vacuous():
    # A wrong stated form must be caught: perturb Eq. 7's third component.
    step = S.effective_system()
    wrong = S.Step("perturbed", step.derived, step.stated + sp.Matrix([0, 0, S.w / 100]))
    assert not wrong.holds


def test_dimensions_do_not_matter():
    m = S.linearised_model(1, 2, 1)
    assert all(s.holds for s in S.scalar_derivatives(m).values())
    assert S.loss_decomposition(m).holds


def test_signs_at_fixed_points():
    st = A.stability_at_h_plus()
    assert st.extra["trace_negative"] is True and st.extra["det_positive"] is True
    assert A.saddle_at_zero().extra["opposite_signs"] is True
    assert A.change_of_variables().extra["decreasing"] is True
    assert A.conservation().extra["dC/dt"] == 0


def test_lambdified_rhs_equals_numeric_rhs():
    f = S.rhs_function()
    rng = np.random.default_rng(1)
    for _ in range(200):
        h2, y2 = 10 ** rng.uniform(-6, 1, 2)
        w = y2 - rng.uniform(-1, 1) * np.sqrt(y2 * 0.5)
        p = 10 ** rng.uniform(-4, 0, 4)
        z = np.array([h2, y2, w])
        np.testing.assert_allclose(f(h2, y2, w, *p), th.rhs(0, z, *p), rtol=1e-12, atol=1e-300)


def test_lambdified_jacobian_equals_numeric_jacobian():
    J = S.jacobian_function()
    rng = np.random.default_rng(2)
    for _ in range(100):
        h2, y2 = 10 ** rng.uniform(-4, 1, 2)
        w = rng.normal()
        p = 10 ** rng.uniform(-3, 0, 4)
        np.testing.assert_allclose(np.array(J(h2, y2, w, *p), dtype=float), th.jacobian([h2, y2, w], *p),
                                   rtol=1e-10, atol=1e-14)


def test_lambdified_loss_equals_numeric_loss():
    f = S.loss_function()
    t = np.linspace(0, 50, 11)
    y2, w = np.linspace(0.1, 0.5, 11), np.linspace(0.05, 0.0, 11)
    np.testing.assert_allclose(f(t, y2, w, 0.5, 0.03, 0.2), th.loss(t, y2, w, 0.5, 0.03, 0.2), rtol=1e-13)


def test_signed_system_lambdified_equals_solver_rhs():
    st = S.signed_variables()
    f = sp.lambdify((*st.extra["symbols"], S.eta_h, S.eta_y, S.dx2, S.dy2), list(st.derived), "numpy")
    rng = np.random.default_rng(3)
    for _ in range(100):
        z = rng.normal(size=3)
        p = 10 ** rng.uniform(-3, 0, 4)
        np.testing.assert_allclose(f(*z, *p), th._rhs_signed(z, *p), rtol=1e-12, atol=1e-300)
        J = sp.lambdify((*st.extra["symbols"], S.eta_h, S.eta_y, S.dx2, S.dy2),
                        sp.Matrix(st.derived).jacobian(sp.Matrix(st.extra["symbols"])).tolist(), "numpy")
        np.testing.assert_allclose(np.array(J(*z, *p), dtype=float), th._jac_signed(z, *p), rtol=1e-12, atol=1e-15)
