"""The linearised two-point model in matrix form (paper Eq. 15-17, App. A.1), numerically.

Parameters are the encoder Jacobian ``D_h`` (``n_h × n_x``) and decoder Jacobian ``D_y`` (``n_y × n_h``).
With the ½-MSE loss, ``E = D_y D_h Δx − Δy`` and the rates in the code normalisation
(``eta = k/2``, see :func:`reptheory.theory.symbolic.scalar_derivatives`) the gradient flow of Eq. 6/17 is

.. math::
    \\dot D_h = -\\tfrac{\\eta_h}{2} D_y^\\top E\\,\\Delta x^\\top, \\qquad
    \\dot D_y = -\\tfrac{\\eta_y}{2} E\\,(D_h\\Delta x)^\\top .

(The output mean decouples, Eq. 16, and is left out.) This module integrates that flow, measures the
three scalars of Eq. 8 along it, and builds initial states on and off the no-rotation manifold of Eq. 19,
on which the 3-D system of Eq. 7 is exact.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp

from reptheory import validate as _v
from reptheory.theory.trajectory import Trajectory

__all__ = ["MatrixState", "MatrixTrajectory", "scalars", "rotation", "flow", "solve_flow", "compare_with_theory",
           "manifold_state", "random_state"]


@dataclass(frozen=True)
class MatrixState:
    """Encoder and decoder Jacobians of the linearised model plus the data differences ``Δx``, ``Δy``."""

    D_h: np.ndarray
    D_y: np.ndarray
    dx: np.ndarray
    dy: np.ndarray

    def __post_init__(self):
        D_h, D_y = _v.finite("D_h", self.D_h), _v.finite("D_y", self.D_y)
        dx, dy = _v.finite("dx", self.dx), _v.finite("dy", self.dy)
        if D_h.ndim != 2 or D_y.ndim != 2 or dx.ndim != 1 or dy.ndim != 1:
            raise ValueError("D_h and D_y must be matrices and dx, dy vectors, got shapes "
                             f"{D_h.shape}, {D_y.shape}, {dx.shape}, {dy.shape}")
        if D_h.shape[1] != dx.size:
            raise ValueError(f"D_h must have shape (n_h, n_x) with n_x = len(dx) = {dx.size}, got {D_h.shape}")
        if D_y.shape != (dy.size, D_h.shape[0]):
            raise ValueError(f"D_y must have shape (n_y, n_h) = ({dy.size}, {D_h.shape[0]}), got {D_y.shape}")
        for name, arr in (("D_h", D_h), ("D_y", D_y), ("dx", dx), ("dy", dy)):
            object.__setattr__(self, name, arr)

    @property
    def dh(self):
        return self.D_h @ self.dx

    @property
    def dyhat(self):
        return self.D_y @ self.dh


def scalars(state: MatrixState) -> tuple[float, float, float]:
    """Eq. 8: ``(h2, y2, w) = (||D_hΔx||², ||D_yD_hΔx||², Δŷ·(Δŷ − Δy))``."""
    dh, dyhat = state.dh, state.dyhat
    return float(dh @ dh), float(dyhat @ dyhat), float(dyhat @ (dyhat - state.dy))


def rotation(state: MatrixState) -> float:
    """How far ``state`` is from the no-rotation manifold (Eq. 19): ``||P_⊥ D_yᵀE|| / ||D_yᵀE||``, the share
    of the representational velocity ``dΔh/dt ∝ D_yᵀE`` orthogonal to ``Δh``; 0 on the manifold. At
    convergence ``E → 0`` and the share is round-off over round-off: read it only while the error is finite."""
    dh = state.dh
    g = state.D_y.T @ (state.dyhat - state.dy)
    ng = np.linalg.norm(g)
    if ng == 0:
        return 0.0
    u = dh / np.linalg.norm(dh)
    return float(np.linalg.norm(g - (g @ u) * u) / ng)


def flow(state: MatrixState, eta_h, eta_y) -> tuple[np.ndarray, np.ndarray]:
    """``(dD_h/dt, dD_y/dt)`` of Eq. 17 in the code normalisation (see the module docstring)."""
    eta_h, eta_y = float(_v.positive("eta_h", eta_h)), float(_v.positive("eta_y", eta_y))
    E = state.dyhat - state.dy
    return -0.5 * eta_h * np.outer(state.D_y.T @ E, state.dx), -0.5 * eta_y * np.outer(E, state.dh)


@dataclass(frozen=True)
class MatrixTrajectory:
    """The scalars of Eq. 8 along the matrix flow, the final state and the rotation measure over time."""

    scalars: Trajectory
    final: MatrixState
    rotation: np.ndarray


def solve_flow(t, state: MatrixState, eta_h, eta_y, *, rtol: float = 1e-11, atol: float = 1e-14) -> MatrixTrajectory:
    """Integrate the matrix gradient flow from ``state`` at ``t[0]`` and sample at ``t`` (explicit DOP853;
    the matrix form has no ``1/h2`` terms and is not stiff)."""
    if not isinstance(state, MatrixState):
        raise TypeError(f"state must be a MatrixState, got {type(state).__name__}")
    t = _v.time_grid("t", t)
    eta_h, eta_y = float(_v.positive("eta_h", eta_h)), float(_v.positive("eta_y", eta_y))
    shp_h, shp_y = state.D_h.shape, state.D_y.shape
    n_h = state.D_h.size

    def unpack(z):
        return MatrixState(z[:n_h].reshape(shp_h), z[n_h:].reshape(shp_y), state.dx, state.dy)

    def f(_t, z):
        dDh, dDy = flow(unpack(z), eta_h, eta_y)
        return np.concatenate([dDh.ravel(), dDy.ravel()])

    z0 = np.concatenate([state.D_h.ravel(), state.D_y.ravel()])
    if t.size == 1:
        zs = z0[:, None]
    else:
        sol = solve_ivp(f, (t[0], t[-1]), z0, method="DOP853", t_eval=t, rtol=rtol, atol=atol)
        if sol.status != 0:
            raise RuntimeError(f"matrix flow integration failed: {sol.message}")
        zs = sol.y
    states = [unpack(zs[:, i]) for i in range(zs.shape[1])]
    sc = np.array([scalars(s) for s in states]).T
    return MatrixTrajectory(Trajectory(t, sc[0], sc[1], sc[2]), states[-1], np.array([rotation(s) for s in states]))


def compare_with_theory(t, state: MatrixState, eta_h, eta_y):
    """Solve the matrix flow and Eq. 7 from the same initial scalars; return both and the per-curve
    deviation ``max|flow − ODE| / max|flow|`` for ``h2``, ``y2``, ``w``."""
    from reptheory.theory.fit import max_relative_deviation
    from reptheory.theory.ode import solve

    mt = solve_flow(t, state, eta_h, eta_y)
    tr = solve(t, *scalars(state), eta_h, eta_y, state.dx @ state.dx, state.dy @ state.dy, rtol=1e-12)
    dev = {n: max_relative_deviation(getattr(mt.scalars, n), getattr(tr, n)) for n in ("h2", "y2", "w")}
    return mt, tr, dev


def _unit(rng, n):
    v = rng.standard_normal(n)
    return v / np.linalg.norm(v)


def _check_dims(n_x, n_h, n_y):
    n_x, n_h, n_y = (_v.integer(name, n, 1) for name, n in (("n_x", n_x), ("n_h", n_h), ("n_y", n_y)))
    if n_h < 2:
        raise ValueError(f"n_h must be >= 2 for a hidden layer with room to rotate, got {n_h}")


def manifold_state(rng: np.random.Generator, dx, dy, n_h: int, scale: float = 1.0) -> MatrixState:
    """A random state on the invariant no-rotation manifold of Eq. 19 (theory.md §3, step 6).

    With unit vectors ``u`` (hidden) and ``v = Δy/||Δy||`` (output): ``D_h Δx = α u``,
    ``D_y = σ v uᵀ + M`` with ``M u = 0`` and ``Mᵀ v = 0``, so ``u`` is a right-singular vector of ``D_y``
    and ``D_yᵀΔy ∥ u``. Entries have magnitude about ``scale``; the off-manifold parts are random.
    """
    dx, dy = _v.finite("dx", dx), _v.finite("dy", dy)
    scale = float(_v.positive("scale", scale))
    _check_dims(dx.size, n_h, dy.size)
    if np.linalg.norm(dy) == 0:
        v = _unit(rng, dy.size)
    else:
        v = dy / np.linalg.norm(dy)
    u = _unit(rng, n_h)
    alpha, sigma = scale * (0.5 + rng.random()), scale * (0.5 + rng.random())
    # D_h: α u along Δx, anything on the complement of Δx
    P_x = np.eye(dx.size) - np.outer(dx, dx) / (dx @ dx)
    D_h = alpha * np.outer(u, dx) / (dx @ dx) + scale * rng.standard_normal((n_h, dx.size)) @ P_x / np.sqrt(n_h)
    P_u, P_v = np.eye(n_h) - np.outer(u, u), np.eye(dy.size) - np.outer(v, v)
    M = P_v @ (scale * rng.standard_normal((dy.size, n_h)) / np.sqrt(n_h)) @ P_u
    D_y = sigma * np.outer(v, u) + M
    return MatrixState(D_h, D_y, dx, dy)


def random_state(rng: np.random.Generator, dx, dy, n_h: int, scale: float = 1.0) -> MatrixState:
    """Gaussian ``D_h``, ``D_y`` with entries of standard deviation ``scale/sqrt(fan_in)`` (generically off
    the manifold)."""
    dx, dy = _v.finite("dx", dx), _v.finite("dy", dy)
    scale = float(_v.positive("scale", scale))
    _check_dims(dx.size, n_h, dy.size)
    D_h = scale * rng.standard_normal((n_h, dx.size)) / np.sqrt(dx.size)
    D_y = scale * rng.standard_normal((dy.size, n_h)) / np.sqrt(n_h)
    return MatrixState(D_h, D_y, dx, dy)
