"""The compiled fixed-step scheme for Eq. 7 (what :func:`reptheory.theory.fit.fit_rates` searches with): classical
RK4 in the signed variables ``(α, r, ρ)`` (``h2 = α²``, ``y2 = r α²``, ``w = r α² − α ρ``; derived in
:func:`reptheory.theory.symbolic.signed_variables`), in which Eq. 7 is polynomial. :func:`reptheory.theory.solve`
with ``method="rk4"`` calls it and turns its status into a :class:`reptheory.theory.SolveError`.

>>> import numpy as np
>>> y, status = rk4_signed(np.arange(0.0, 11.0), *signed_start((1.0, 1.0, 0.5)), 1e-3, 1e-3, 1.0, 4.0,
...                        RK4_COURANT, RK4_MAX_SUBSTEPS)
>>> status, y.shape
(0, (3, 11))
"""
from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["RK4_COURANT", "RK4_MAX_SUBSTEPS", "rk4_signed", "signed_start"]

#: fixed-step scheme: every RK4 step keeps ``step × ||J||_∞ <= RK4_COURANT`` (J: the signed system's Jacobian)
RK4_COURANT = 0.1
#: fixed-step scheme: at most this many RK4 steps between two consecutive sample times
RK4_MAX_SUBSTEPS = 20000


@njit(cache=True)
def rk4_signed(t, al, r, rho, eta_h, eta_y, dx2, dy2, courant, max_sub):  # pragma: no cover (compiled)
    """Classical RK4 on the signed system of ``reptheory.theory.ode._rhs_signed`` through the sample times ``t``.
    Between two samples it takes ``m`` equal steps with ``m`` chosen from the Jacobian's row-sum norm at the
    interval's start, so that ``step × ||J||_∞ <= courant`` (stability and accuracy on the stiff large-``h2``
    side). Returns a ``(3, T)`` array of ``(α, r, ρ)`` and a status: 0 ok, 1 more than ``max_sub`` steps needed,
    2 non-finite."""
    n = t.size
    out = np.empty((3, n))
    out[0, 0], out[1, 0], out[2, 0] = al, r, rho
    ex = 0.5 * eta_h * dx2
    for i in range(1, n):
        norm = max(ex * (abs(r) + abs(al) + 1.0),
                   eta_y * (abs(2.0 * r * al - rho) + al * al + abs(al)),
                   0.5 * eta_y * (abs(dy2 - 2.0 * al * rho) + al * al))
        dt = t[i] - t[i - 1]
        steps = dt * norm / courant
        if not steps < max_sub:             # compared as a float: int() of a huge or NaN count would wrap
            return out, 1
        m = int(steps) + 1
        h = dt / m
        for _ in range(m):
            e = r * al - rho
            k1a, k1r, k1p = -ex * e, -eta_y * al * e, 0.5 * eta_y * al * (dy2 - al * rho)
            a2, r2, p2 = al + 0.5 * h * k1a, r + 0.5 * h * k1r, rho + 0.5 * h * k1p
            e = r2 * a2 - p2
            k2a, k2r, k2p = -ex * e, -eta_y * a2 * e, 0.5 * eta_y * a2 * (dy2 - a2 * p2)
            a3, r3, p3 = al + 0.5 * h * k2a, r + 0.5 * h * k2r, rho + 0.5 * h * k2p
            e = r3 * a3 - p3
            k3a, k3r, k3p = -ex * e, -eta_y * a3 * e, 0.5 * eta_y * a3 * (dy2 - a3 * p3)
            a4, r4, p4 = al + h * k3a, r + h * k3r, rho + h * k3p
            e = r4 * a4 - p4
            k4a, k4r, k4p = -ex * e, -eta_y * a4 * e, 0.5 * eta_y * a4 * (dy2 - a4 * p4)
            al += h / 6.0 * (k1a + 2.0 * k2a + 2.0 * k3a + k4a)
            r += h / 6.0 * (k1r + 2.0 * k2r + 2.0 * k3r + k4r)
            rho += h / 6.0 * (k1p + 2.0 * k2p + 2.0 * k3p + k4p)
        if not (np.isfinite(al) and np.isfinite(r) and np.isfinite(rho)):
            return out, 2
        out[0, i], out[1, i], out[2, i] = al, r, rho
    return out, 0


def signed_start(z0) -> tuple:
    """The signed variables ``(α, r, ρ)`` of a state ``(h2, y2, w)`` with ``h2 > 0``: ``α = √h2``,
    ``r = y2/h2``, ``ρ = (y2 − w)/α``."""
    h0, y0, w0 = z0
    al0 = np.sqrt(h0)
    return al0, y0 / h0, (y0 - w0) / al0
