"""The effective two-point theory, numerically (paper Sec. 2, Eq. 7, 9, 10-11; App. A.3-A.5).

State ``z = (h2, y2, w)`` with

* ``h2 = ||Δh||²``  the squared representational distance of the two points,
* ``y2 = ||Δŷ||²``  the squared distance of the two predictions,
* ``w = Δŷ·(Δŷ − Δy)`` the alignment,

and constants ``dx2 = ||Δx||²``, ``dy2 = ||Δy||²``. Time ``t`` is in epochs (one full-batch step each) and
the effective rates ``eta_h``, ``eta_y`` (encoder, decoder) and ``eta_ybar`` (output mean) are in 1/epoch.

Normalisation: Eq. 7 is used exactly as the paper prints it (the authors' code normalisation). Relative to
Eq. 6 read literally with the ½-MSE loss, ``eta_h = 1/(2 τ_h)``, ``eta_y = 1/(2 τ_y)`` and
``eta_ybar = 1/τ_ȳ``; :mod:`reptheory.theory.symbolic` derives this. Fitted rates absorb the SGD learning rate, so
they are never predicted from it.
"""
from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp

from reptheory import validate as _v
from reptheory.theory import rk4 as _rk4
from reptheory.theory.closed_form import *  # noqa: F401,F403  (the closed forms: Eq. 9-13, 24)
from reptheory.theory.closed_form import __all__ as _closed_forms
from reptheory.theory.closed_form import a_coefficient, h_inf
from reptheory.theory.trajectory import SolveError, Trajectory

__all__ = ["TAU_MAX", "RATIO_MAX", "DRIFT_FACTOR",
    "SolveError", "Trajectory", "rhs", "jacobian", "solve", "solve_batch", *_closed_forms,
]


# ----------------------------------------------------------------------------------------------------------
# Right-hand side of Eq. 7 and its Jacobian (unchecked inner versions used by the integrator)

def _rhs(z, eta_h, eta_y, dx2, dy2):
    h, y, w = z[0], z[1], z[2]
    dh = -eta_h * dx2 * w
    dy = -w * (eta_y * h + eta_h * dx2 * y / h)
    dw = -0.5 * eta_y * (3.0 * w - y + dy2) * h - 0.5 * eta_h * dx2 * (y + w) * w / h
    return np.array([dh, dy, dw])


def _jac(z, eta_h, eta_y, dx2, dy2):
    h, y, w = z[0], z[1], z[2]
    ex = eta_h * dx2
    return np.array([
        [0.0, 0.0, -ex],
        [-w * (eta_y - ex * y / h**2), -w * ex / h, -(eta_y * h + ex * y / h)],
        [-0.5 * eta_y * (3.0 * w - y + dy2) + 0.5 * ex * (y + w) * w / h**2,
         0.5 * eta_y * h - 0.5 * ex * w / h,
         -1.5 * eta_y * h - 0.5 * ex * (y + 2.0 * w) / h],
    ])


def _check_rates(eta_h, eta_y, dx2, dy2):
    return (_v.positive("eta_h", eta_h), _v.positive("eta_y", eta_y),
            _v.positive("dx2", dx2), _v.nonnegative("dy2", dy2))


def rhs(t, z, eta_h, eta_y, dx2, dy2):
    """Eq. 7: ``d/dt (h2, y2, w)``.

    .. math::
        \\begin{aligned}
        \\dot h_2 &= -\\eta_h\\,dx_2\\,w,\\\\
        \\dot y_2 &= -w\\,(\\eta_y h_2 + \\eta_h dx_2\\, y_2/h_2),\\\\
        \\dot w &= -\\tfrac12\\eta_y(3w - y_2 + dy_2)\\,h_2\\\\
        &\\quad - \\tfrac12\\eta_h dx_2 (y_2 + w)\\,w/h_2
        \\end{aligned}

    ``z`` has shape ``(3,)`` or ``(3, n)`` (a batch of states); the rates broadcast against ``z[0]``.
    ``t`` is unused (the system is autonomous) and kept for the ``solve_ivp`` signature.

    >>> rhs(0.0, [1.0, 0.5, -0.1], 1e-3, 1e-2, 1.0, 0.5).round(6)   # w < 0: the points move apart
    array([0.0001 , 0.00105, 0.00152])
    """
    z = _v.finite("z", z)
    if z.shape[:1] != (3,):
        raise ValueError(f"z must have shape (3,) or (3, n) holding (h2, y2, w), got shape {z.shape}")
    _v.positive("h2 (z[0])", z[0])
    _v.nonnegative("y2 (z[1])", z[1])
    return _rhs(z, *_check_rates(eta_h, eta_y, dx2, dy2))


def jacobian(z, eta_h, eta_y, dx2, dy2):
    """The 3×3 Jacobian ``∂(ḣ2, ẏ2, ẇ)/∂(h2, y2, w)`` of Eq. 7 at a single state ``z``."""
    z = _v.finite("z", z)
    if z.shape != (3,):
        raise ValueError(f"z must have shape (3,) holding (h2, y2, w), got shape {z.shape}")
    _v.positive("h2 (z[0])", z[0])
    return _jac(z, *(float(p) for p in _check_rates(eta_h, eta_y, dx2, dy2)))


# ----------------------------------------------------------------------------------------------------------
# Solving

def _check_initial(h2_0, y2_0, w_0, dy2):
    h2_0 = _v.positive("h2_0", h2_0)
    y2_0 = _v.nonnegative("y2_0", y2_0)
    w_0 = _v.finite("w_0", w_0)
    # w = y2 - Δy·Δŷ and |Δy·Δŷ| <= sqrt(dy2*y2) (Cauchy-Schwarz): a state outside cannot come from vectors.
    reach = np.sqrt(dy2 * y2_0)
    slack = 1e-6 * (y2_0 + dy2) + 1e-300
    if np.any(np.abs(w_0 - y2_0) > reach + slack):
        raise ValueError("w_0 must lie in [y2_0 - sqrt(dy2*y2_0), y2_0 + sqrt(dy2*y2_0)] "
                         "(w = y2 - Δy·Δŷ and Cauchy-Schwarz), got a value outside")
    return h2_0, y2_0, w_0


def _rhs_signed(z, eta_h, eta_y, dx2, dy2):
    """Eq. 7 in the signed variables ``(α, r, ρ)`` with ``h2 = α²``, ``y2 = r α²``, ``w = r α² − α ρ``
    (derived in :func:`reptheory.theory.symbolic.signed_variables`): ``α̇ = −½eta_h dx2 (rα − ρ)``,
    ``ṙ = −eta_y α (rα − ρ)``, ``ρ̇ = ½eta_y α (dy2 − αρ)``. Polynomial: no singularity at ``h2 = 0``."""
    al, r, rho = z
    e = r * al - rho
    return np.array([-0.5 * eta_h * dx2 * e, -eta_y * al * e, 0.5 * eta_y * al * (dy2 - al * rho)])


def _jac_signed(z, eta_h, eta_y, dx2, dy2):
    al, r, rho = z
    ex = 0.5 * eta_h * dx2
    return np.array([
        [-ex * r, -ex * al, ex],
        [-eta_y * (2.0 * r * al - rho), -eta_y * al**2, eta_y * al],
        [0.5 * eta_y * (dy2 - 2.0 * al * rho), 0.0, -0.5 * eta_y * al**2],
    ])


#: the solver's horizon for ``dy2 = 0``, in the rescaled time ``tau = max(eta_h, eta_y) t``: a trajectory that
#: has not reached its fixed point by then (``A_high <= 0``: the distance decays to 0 without end) is refused
#: beyond it rather than integrated for ever
TAU_MAX = 1e30
#: Radau resolves the fast encoder mode of Eq. 7 when ``q = eta_h dx2 / eta_y <= RATIO_MAX`` (measured against a
#: solve at rtol 1e-12 with absolute tolerances of 1e-30: 2e-9 relative at q = 1e10, 0.1 % at 1e12; below 1e-13
#: for any small q); beyond, a collapse of ``h2`` by the fast mode goes below what its absolute tolerance resolves
RATIO_MAX = 1e10
#: the largest initial state and data (``h2_0``, ``y2_0``, ``|w_0|``, ``dx2``, ``dy2``) :func:`solve` takes: the
#: signed variables' products stay inside the float range
MAGNITUDE_MAX = 1e100
#: a solution whose conserved quantity (Eq. 24) drifts by more than this many times ``rtol`` (relative to its
#: terms) is refused as inaccurate; the book's solves drift by at most about ``rtol``
DRIFT_FACTOR = 1e3


def _fixed_point(z0, eta_h, eta_y, dx2, dy2) -> np.ndarray:
    """The stable fixed point ``(h_inf, dy2, 0)`` on the level set of Eq. 24 through ``z0`` (Eq. 10)."""
    return np.array([float(h_inf(z0[0], z0[1], eta_h, eta_y, dx2, dy2)), dy2, 0.0])


def _solve_one(t, z0, eta_h, eta_y, dx2, dy2, rtol, atol):
    """One trajectory by Radau. Eq. 7 is homogeneous of degree one in the rates, so it is integrated in
    ``tau = c (t − t[0])`` with ``c = max(eta_h, eta_y)`` and rates ``eta/c`` (rates of any size, even 1e25/epoch,
    give the same well-scaled problem). For ``dy2 > 0`` the integration ends once the state is within
    ``rtol/100`` of its stable fixed point (a terminal event; relative to ``h_inf`` for ``h2``, to
    ``max(dy2, y2_0)`` for ``y2`` and ``w``, the scales the integration resolves); later samples take the fixed
    point, so that times of any size (1e50 epochs) cost no more than the time to converge."""
    if t.size == 1:
        return z0[:, None].copy()
    h0, y0, w0 = z0
    star = _fixed_point(z0, eta_h, eta_y, dx2, dy2)
    c = max(eta_h, eta_y)
    args = (eta_h / c, eta_y / c, dx2, dy2)
    with np.errstate(over="ignore", under="ignore"):
        tau = c * (t - t[0])                    # inf past the float range: such samples lie past the horizon
    s0 = np.array(_rk4.signed_start(z0))
    # no motion to float precision over the span (1e-310 epochs, rates of 5e-324): the initial state
    with np.errstate(over="ignore", invalid="ignore"):
        still = tau[-1] * max(np.max(np.abs(_rhs_signed(s0, *args)) / np.maximum(np.abs(s0), 1e-300)),
                              np.max(np.abs(_jac_signed(s0, *args)).sum(1))) < 1e-17
    if still:
        return np.repeat(z0[:, None], t.size, axis=1)
    al0 = s0[0]
    if atol is None:
        # relative accuracy in α (so in h2 = α²) where it is small, as on the rich regime's plateau; r and ρ
        # on the larger of their initial and final (fixed-point) magnitudes
        # (h_inf is 0 for identical targets with C > 0: the distance then decays to 0 like an exponential)
        hinf = max(star[0], 1e-12 * h0)
        scale = np.array([min(al0, np.sqrt(hinf)), max(s0[1], dy2 / hinf),
                          max(abs(s0[2]), dy2 / np.sqrt(hinf), np.sqrt(dy2 * s0[1]))])
        atol = 1e-3 * rtol * np.maximum(scale, 1e-300)
    y_scale = max(dy2, y0, 1e-300)

    def converged(_tau, s):             # < 0 once the state is within rtol/100 of the fixed point
        al, r, rho = s
        h, y = al * al, r * al * al
        return max(abs(h - star[0]) / star[0], abs(y - dy2) / y_scale, abs(y - al * rho) / y_scale) - 1e-2 * rtol
    converged.terminal, converged.direction = True, -1
    # for dy2 = 0 the fixed point has y2 = w = 0, approached like an exponential: relative accuracy in y2 and
    # w then needs the integration itself, up to the horizon
    events = converged if star[0] > 0 and dy2 > 0 else None
    if events is not None and converged(0.0, s0) < 0:     # it starts at its fixed point: it stays there
        return np.repeat(z0[:, None], t.size, axis=1)
    end = min(float(tau[-1]), TAU_MAX)
    inside = tau[tau <= end]
    cut = inside.size < tau.size                # the horizon cuts the times: the state there is needed too,
    extra = cut and inside[-1] < end            # as one more sample unless one lies exactly on it
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            sol = solve_ivp(lambda _t, z: _rhs_signed(z, *args), (0.0, end), s0, method="Radau",
                            t_eval=np.append(inside, end) if extra else inside,
                            jac=lambda _t, z: _jac_signed(z, *args), rtol=rtol, atol=atol, events=events)
    except ValueError as exc:           # the right-hand side overflowed
        raise SolveError(f"Eq. 7 integration failed at eta_h={eta_h:g}, eta_y={eta_y:g} over t in "
                         f"[{t[0]:g}, {t[-1]:g}]: {exc}") from None
    if sol.status == -1:
        raise SolveError(f"Eq. 7 integration failed at eta_h={eta_h:g}, eta_y={eta_y:g}: {sol.message}")
    done = sol.y.shape[1]
    if cut and sol.status == 0:                 # reached the horizon: check the state there (and drop it if
        done -= extra                           # it is not a sample)
        if not (star[0] > 0 and converged(end, sol.y[:, -1]) < 0):
            why = " (dy2 = 0, A_high <= 0: the distance decays to 0 without end)" if star[0] == 0 else ""
            raise SolveError(f"Eq. 7 has not reached its fixed point by the horizon t = t[0] + {TAU_MAX:g}/max(eta_h, "
                             f"eta_y) = {t[0] + TAU_MAX / c:g} epochs{why}; got times up to {t[-1]:g}")
    if not np.all(np.isfinite(sol.y)):
        raise SolveError("Eq. 7 integration produced non-finite values")
    al, r, rho = sol.y[:, :done]
    h = al**2
    out = np.empty((3, t.size))
    out[:, :done] = [h, r * h, r * h - al * rho]
    out[:, done:] = star[:, None]       # after the terminal event or the horizon: at the fixed point to rtol/100
    out[:, 0] = z0                      # exactly the initial state at t[0] (no round trip through the variables)
    return out


def _solve_one_rk4(t, z0, eta_h, eta_y, dx2, dy2):
    al0, r0, rho0 = _rk4.signed_start(z0)
    y, status = _rk4.rk4_signed(t, al0, r0, rho0, eta_h, eta_y, dx2, dy2, _rk4.RK4_COURANT, _rk4.RK4_MAX_SUBSTEPS)
    if status == 1:
        raise SolveError(f"Eq. 7 is too stiff for the fixed-step scheme at eta_h={eta_h:g}, eta_y={eta_y:g} "
                         f"over t in [{t[0]:g}, {t[-1]:g}] (more than {_rk4.RK4_MAX_SUBSTEPS} RK4 steps between two "
                         "sample times): use method='radau', which takes rates and times of any size, or closer times")
    if status == 2:
        raise SolveError(f"Eq. 7 integration produced non-finite values at eta_h={eta_h:g}, eta_y={eta_y:g}")
    al, r, rho = y
    h = al**2
    out = np.array([h, r * h, r * h - al * rho])
    out[:, 0] = z0
    return out


def _check_solvable(h2_0, y2_0, w_0, eta_h, eta_y, dx2, dy2, rtol, atol) -> None:
    """Magnitudes up to :data:`MAGNITUDE_MAX`, ``rtol`` in ``(0, 0.1]``, ``atol`` ``None`` or positive (a number,
    or one per signed variable)."""
    for name, v in (("h2_0", h2_0), ("y2_0", y2_0), ("w_0", w_0), ("dx2", dx2), ("dy2", dy2)):
        big = float(np.max(np.abs(v)))
        if big > MAGNITUDE_MAX:
            raise ValueError(f"{name} must have magnitude <= {MAGNITUDE_MAX:g} (the signed variables' products must "
                             f"stay inside the float range), got {big:g}")
    rtol = _v.scalar("rtol", rtol)
    if not 0 < rtol <= 0.1:
        raise ValueError(f"rtol must lie in (0, 0.1], got {rtol!r}")
    if atol is not None:
        a = _v.positive("atol", atol)
        if a.shape not in ((), (3,)):
            raise ValueError(f"atol must be None, a number > 0 or three of them (for α, r, ρ), got shape {a.shape}")


def _check_ratio(eta_h, eta_y, dx2) -> None:
    """Radau's range of the rate ratio ``q = eta_h dx2 / eta_y`` (:data:`RATIO_MAX`); a :class:`SolveError`."""
    with np.errstate(over="ignore", under="ignore", divide="ignore"):
        q = np.asarray(eta_h) * np.asarray(dx2) / np.asarray(eta_y)
    bad = ~(q <= RATIO_MAX)
    if np.any(bad):
        raise SolveError(f"eta_h·dx2/eta_y = {float(np.ravel(q)[np.argmax(np.ravel(bad))]):g} is above "
                         f"{RATIO_MAX:g}, where Radau resolves Eq. 7 (beyond, the fast encoder mode's collapse of h2 "
                         "is below its absolute tolerance); method='rk4' steps the fast mode itself")


def _check_drift(tr: Trajectory, eta_h, eta_y, dx2, rtol) -> None:
    """A solution keeps Eq. 24's ``C = y2/h2 − a h2`` to :data:`DRIFT_FACTOR` × ``rtol`` of its terms, or it
    lost the solution (a :class:`SolveError`, never a wrong answer)."""
    a = np.asarray(eta_y / (np.asarray(eta_h) * np.asarray(dx2)), dtype=float).reshape(-1, 1)
    h2, y2 = np.atleast_2d(tr.h2), np.atleast_2d(tr.y2)
    with np.errstate(all="ignore"):
        c = y2 / h2 - a * h2
        drift = np.abs(c - c[:, :1]) / np.maximum(y2 / h2, a * h2)
    worst = float(np.nanmax(np.where(h2 > 0, drift, 0.0)))
    if not worst <= DRIFT_FACTOR * rtol:
        raise SolveError(f"Eq. 7 integration lost the solution: the conserved quantity of Eq. 24 drifted by "
                         f"{worst:.2g} of its terms (allowed {DRIFT_FACTOR * rtol:.2g}); the inputs are too badly "
                         "scaled for the integrator")


def solve(t, h2_0, y2_0, w_0, eta_h, eta_y, dx2, dy2, *, rtol=1e-8, atol=None, method: str = "radau") -> Trajectory:
    """Integrate Eq. 7 from ``(h2_0, y2_0, w_0)`` at ``t[0]`` and sample it at the epochs ``t``.

    Eq. 7 is singular where ``h2`` is small (the ``y2/h2`` and ``w/h2`` terms): exactly the rich regime's
    plateau, where ``h2``, ``y2``, ``w`` are tiny and their relative accuracy sets the transition time, and
    where a trajectory whose prediction difference points against the target difference drives the two
    representations through each other (``h2`` touches 0 in finite time; ``Δh`` changes sign). It is
    therefore integrated in the signed variables ``(α, r, ρ)`` of ``_rhs_signed`` (``Δh = α u`` on the
    no-rotation manifold), in which the system is polynomial, so both cases are regular.

    ``method="radau"`` (the reference): the implicit Radau IIA method (scipy) with the analytic Jacobian for
    the stiffness at large ``h2``, adaptive to ``rtol``; ``atol`` (if given) applies to ``(α, r, ρ)``. It is
    integrated in the rescaled time ``max(eta_h, eta_y) · t`` and stops once the state is within ``rtol/100``
    of its stable fixed point ``(h_inf, dy2, 0)`` (Eq. 10), which every later sample takes: rates and times of
    any size cost the same. For ``dy2 = 0`` (``y2`` and ``w`` decay to 0) it integrates up to a horizon,
    :data:`TAU_MAX` in that rescaled time, past which samples take the fixed point if the state has reached it
    (``A_high > 0``); if not (``A_high <= 0``: the distance decays to 0 without end) it refuses.
    ``method="rk4"`` (fast; what :func:`reptheory.theory.fit.fit_rates` searches with): compiled classical RK4 with
    a step chosen per sampling interval from the Jacobian's norm (``step × ||J||_∞ <= RK4_COURANT``,
    :mod:`reptheory.theory.rk4`); ``rtol``/``atol`` do not apply. Raises :class:`SolveError` if the integration
    fails, never a partial or wrong trajectory: Radau refuses ``eta_h dx2/eta_y >`` :data:`RATIO_MAX` and a
    solution whose Eq. 24 drifts by more than :data:`DRIFT_FACTOR` × ``rtol``.

    >>> import numpy as np
    >>> t = np.arange(0.0, 3001.0)
    >>> a = solve(t, 1.0, 1.0, 0.5, 1e-3, 1e-3, 1.0, 4.0)
    >>> b = solve(t, 1.0, 1.0, 0.5, 1e-3, 1e-3, 1.0, 4.0, method="rk4")
    >>> bool(np.max(np.abs(a.h2 - b.h2)) < 1e-6 * np.max(a.h2))
    True
    """
    t = _v.time_grid("t", t)
    for name, v in (("eta_h", eta_h), ("eta_y", eta_y), ("dx2", dx2), ("dy2", dy2), ("h2_0", h2_0),
                    ("y2_0", y2_0), ("w_0", w_0)):
        _v.scalar(name, v)              # one trajectory: scalars only (solve_batch takes arrays)
    eta_h, eta_y, dx2, dy2 = (float(p) for p in _check_rates(eta_h, eta_y, dx2, dy2))
    z0 = np.array([float(v) for v in _check_initial(h2_0, y2_0, w_0, dy2)])
    if method not in ("radau", "rk4"):
        raise ValueError(f"method must be 'radau' or 'rk4', got {method!r}")
    _check_solvable(*z0, eta_h, eta_y, dx2, dy2, rtol, atol)
    if method == "rk4":
        y = _solve_one_rk4(t, z0, eta_h, eta_y, dx2, dy2)
        return Trajectory(t, y[0], y[1], y[2])
    _check_ratio(eta_h, eta_y, dx2)
    y = _solve_one(t, z0, eta_h, eta_y, dx2, dy2, float(rtol), atol)
    tr = Trajectory(t, y[0], y[1], y[2])
    _check_drift(tr, eta_h, eta_y, dx2, float(rtol))
    return tr


def solve_batch(t, h2_0, y2_0, w_0, eta_h, eta_y, dx2, dy2, *, rtol=1e-8, atol=None, n_jobs=1) -> Trajectory:
    """:func:`solve` for a batch: initial states and rates broadcast to a common shape ``(n,)``.

    Each member is integrated with its own adaptive steps (a stiff member does not slow the others).
    ``n_jobs`` > 1 runs members in parallel processes through joblib. Returns arrays of shape ``(n, T)``.

    >>> import numpy as np
    >>> tr = solve_batch(np.array([0.0, 1e5]), 1e-3, 1e-5, -1e-3, 7.4e-4, [4.5e-2, 4.5e-1], 1.0, 0.5)
    >>> tr.h2.shape, bool(np.allclose(tr.h2[:, -1], h_inf(1e-3, 1e-5, 7.4e-4, [4.5e-2, 4.5e-1], 1.0, 0.5)))
    ((2, 2), True)
    """
    t = _v.time_grid("t", t)
    rates = _check_rates(eta_h, eta_y, dx2, dy2)
    h2_0, y2_0, w_0 = (_v.finite(n, v) for n, v in (("h2_0", h2_0), ("y2_0", y2_0), ("w_0", w_0)))
    try:
        cols = np.broadcast_arrays(h2_0, y2_0, w_0, *rates)
    except ValueError as exc:
        raise ValueError("h2_0, y2_0, w_0, eta_h, eta_y, dx2 and dy2 must broadcast to one shape (n,): "
                         f"{exc}") from None
    cols = [np.atleast_1d(c).astype(float).ravel() for c in cols]
    h, y, w, eh, ey, x2, d2 = cols
    if h.size == 0:
        raise ValueError("h2_0, y2_0, w_0, eta_h, eta_y, dx2 and dy2 must hold at least one member, got empty arrays")
    _check_initial(h, y, w, d2)
    _check_solvable(h, y, w, eh, ey, x2, d2, rtol, atol)
    _check_ratio(eh, ey, x2)
    jobs = [(t, np.array([h[i], y[i], w[i]]), eh[i], ey[i], x2[i], d2[i], rtol, atol) for i in range(h.size)]
    if n_jobs == 1:
        out = [_solve_one(*j) for j in jobs]
    else:
        from joblib import Parallel, delayed
        out = Parallel(n_jobs=n_jobs)(delayed(_solve_one)(*j) for j in jobs)
    y_all = np.stack(out)
    tr = Trajectory(t, y_all[:, 0], y_all[:, 1], y_all[:, 2])
    _check_drift(tr, eh, ey, x2, float(rtol))
    return tr
