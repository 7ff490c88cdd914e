"""The full matrix gradient flow of the linearised model against the 3-D ODE of Eq. 7."""
import numpy as np
import pytest

from reptheory.theory import linear as L


def _compare(state, eta_h, eta_y, t):
    mt, _, dev = L.compare_with_theory(t, state, eta_h, eta_y)
    return mt, dev


@pytest.mark.parametrize("seed,n_x,n_h,n_y,scale", [(0, 3, 6, 2, 0.3), (1, 4, 10, 3, 0.05), (2, 1, 5, 1, 1.0)])
def test_matrix_flow_on_manifold_matches_3d_ode(seed, n_x, n_h, n_y, scale):
    rng = np.random.default_rng(seed)
    state = L.manifold_state(rng, rng.standard_normal(n_x), rng.standard_normal(n_y), n_h, scale)
    assert L.rotation(state) < 1e-12
    mt, dev = _compare(state, 0.05, 0.2, np.linspace(0, 400, 401))
    assert max(dev.values()) < 1e-6, dev
    # the manifold is invariant: no rotation while the error is not yet at round-off level (at convergence
    # D_yᵀE -> 0 and the rotation share is 0/0)
    e2 = 2 * mt.scalars.w - mt.scalars.y2 + state.dy @ state.dy
    assert mt.rotation[e2 > 1e-8 * e2[0]].max() < 1e-9


def test_matrix_flow_off_manifold_does_not_match():
    rng = np.random.default_rng(3)
    state = L.random_state(rng, rng.standard_normal(3), rng.standard_normal(2), 6, 0.3)
    assert L.rotation(state) > 0.3
    _, dev = _compare(state, 0.05, 0.2, np.linspace(0, 400, 401))
    # off the manifold Eq. 7 is only an approximation: deviations of percent size, not 1e-6
    assert max(dev.values()) > 1e-2, dev


def test_flow_is_the_gradient_of_the_loss():
    # finite differences of the ½-MSE loss of Eq. 16 (difference part) against flow() with eta = k/2
    rng = np.random.default_rng(4)
    s = L.random_state(rng, rng.standard_normal(2), rng.standard_normal(2), 3)
    loss = lambda Dh, Dy: np.sum((Dy @ Dh @ s.dx - s.dy) ** 2) / 8
    dDh, dDy = L.flow(s, 1.0, 1.0)            # = -2 ∂L/∂D
    eps = 1e-6
    for M, dM, which in ((s.D_h, dDh, 0), (s.D_y, dDy, 1)):
        for idx in np.ndindex(M.shape):
            P = M.copy(); P[idx] += eps
            Mm = M.copy(); Mm[idx] -= eps
            args_p = (P, s.D_y) if which == 0 else (s.D_h, P)
            args_m = (Mm, s.D_y) if which == 0 else (s.D_h, Mm)
            g = (loss(*args_p) - loss(*args_m)) / (2 * eps)
            assert dM[idx] == pytest.approx(-2 * g, rel=1e-6, abs=1e-9)


def test_shapes_are_checked():
    with pytest.raises(ValueError, match="D_y must have shape"):
        L.MatrixState(np.ones((3, 2)), np.ones((2, 4)), np.ones(2), np.ones(2))
    with pytest.raises(ValueError, match="n_h must be >= 2"):
        L.manifold_state(np.random.default_rng(0), np.ones(2), np.ones(2), 1)


def test_representations_crossing_follow_the_matrix_flow():
    # Δŷ against Δy: the flow drives Δh through 0 in finite time; h2 = ||Δh||² touches 0 and Eq. 7 (solved in
    # signed variables) must follow the matrix flow through the crossing
    rng = np.random.default_rng(5)
    dx, dy = rng.standard_normal(2), rng.standard_normal(1)
    s = L.manifold_state(rng, dx, dy, 5, 0.5)
    s = L.MatrixState(s.D_h, -3.0 * s.D_y, s.dx, s.dy)      # still on the manifold, prediction anti-aligned
    mt, dev = _compare(s, 0.05, 0.2, np.linspace(0, 300, 3001))
    assert mt.scalars.h2.min() < 1e-3 * mt.scalars.h2[0]     # the crossing happened
    assert max(dev.values()) < 1e-6, dev
