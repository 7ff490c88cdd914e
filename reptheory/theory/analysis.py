"""The analysis of Eq. 7 derived with sympy (paper App. A.3-A.5), continuing :mod:`reptheory.theory.symbolic`.

As there, nothing is typed in as a result: each step starts from the derived Eq. 7
(:func:`~reptheory.theory.symbolic.rhs_expr`) and returns what it derived next to the form the paper states.

* :func:`conservation` – Eq. 23-24; :func:`reduced_system` – Eq. 25;
* :func:`fixed_points` – Eq. 26-28, 36; :func:`stability_at_h_plus` – Eq. 29-31;
* :func:`saddle_at_zero` – Eq. 32-35; :func:`identical_outputs` – Eq. 37-40;
* :func:`lazy_rescaling` – Eq. 41-43; :func:`change_of_variables` – Eq. 44-45.

>>> conservation().holds, sorted(map(str, fixed_points().extra))
(True, ['h_minus', 'h_plus'])
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from reptheory.theory.symbolic import STATE, C, Step, a, dx2, dy2, eta_h, eta_y, h2, rhs_expr, t, w, y2

__all__ = ["conservation", "reduced_system", "fixed_points", "stability_at_h_plus", "saddle_at_zero",
           "identical_outputs", "lazy_rescaling", "change_of_variables"]

# 7.-8. Conservation and the reduced 2-D system

def _ddt(expr):
    """Time derivative of an expression in ``(h2, y2, w)`` along the derived Eq. 7."""
    f = rhs_expr()
    return sum(sp.diff(expr, s) * f[i] for i, s in enumerate(STATE))


@lru_cache(maxsize=None)
def conservation() -> Step:
    """Eq. 23-24: ``d/dt(y2/h2) = a · d/dt h2`` with a constant ``a`` found by sympy, hence
    ``C = y2/h2 − a h2`` is conserved and ``y2 = a h2² + C h2``."""
    ratio = sp.simplify(_ddt(y2 / h2) / _ddt(h2))
    assert not ratio.free_symbols & set(STATE), "d(y2/h2)/dh2 is not constant along Eq. 7"
    c_expr = y2 / h2 - ratio * h2
    return Step("Eq. 23-24", ratio, eta_y / (eta_h * dx2),
                {"C": c_expr, "dC/dt": sp.simplify(_ddt(c_expr)), "y2": sp.solve(sp.Eq(C, c_expr.subs(ratio, a)), y2)[0]})


def _a_in_rates():
    return sp.Eq(a, eta_y / (eta_h * dx2))


@lru_cache(maxsize=None)
def reduced_system() -> Step:
    """Eq. 25: ``(ḣ2, ẇ)`` with ``y2 = a h2² + C h2`` substituted and ``eta_y = a eta_h dx2``."""
    f = rhs_expr()
    y_of_h = conservation().extra["y2"]
    sub = {y2: y_of_h}
    ey = sp.solve(_a_in_rates(), eta_y)[0]
    derived = tuple(sp.expand(sp.simplify(f[i].subs(sub).subs(eta_y, ey))) for i in (0, 2))
    stated = (-dx2 * eta_h * w,
              -h2 * ey / 2 * (3 * w - a * h2**2 - C * h2 + dy2) - dx2 * eta_h / 2 * (a * h2 + C + w / h2) * w)
    return Step("Eq. 25", derived, tuple(sp.expand(s) for s in stated))


@lru_cache(maxsize=None)
def fixed_points() -> Step:
    """Eq. 26-28, 36: solve ``ḣ2 = 0`` (gives ``w* = 0``), then ``ẇ(h2, 0) = 0`` for ``h2``."""
    f_h, f_w = reduced_system().derived
    w_star = sp.solve(f_h, w)
    hh = sp.Symbol("hh", real=True)    # h2 without the positivity assumption, to see every root
    roots = sp.solve(f_w.subs(w, 0).subs(h2, hh), hh)
    disc = sp.sqrt(C**2 + 4 * a * dy2)
    h_plus, h_minus = (-C + disc) / (2 * a), (-C - disc) / (2 * a)
    return Step("Eq. 26-28", (sp.FiniteSet(*w_star), sp.FiniteSet(*roots)),
                (sp.FiniteSet(0), sp.FiniteSet(0, h_plus, h_minus)), {"h_plus": h_plus, "h_minus": h_minus})


@lru_cache(maxsize=None)
def stability_at_h_plus() -> Step:
    """Eq. 29-31: the Jacobian of Eq. 25 at ``(h_+, 0)``, its trace and determinant, and their signs.

    The signs are shown for positive parameters by eliminating ``C`` through the fixed-point relation
    ``C = dy2/h_+ − a h_+`` (Eq. 44), after which sympy decides them from the symbols' assumptions.
    """
    f_h, f_w = reduced_system().derived
    J = sp.Matrix([f_h, f_w]).jacobian(sp.Matrix([h2, w]))
    hp = sp.Symbol("h_+", positive=True)
    at = {w: 0, h2: hp}
    C_of_hp = dy2 / hp - a * hp
    J_hp = sp.simplify(J.subs(at).subs(C, C_of_hp))
    tr, det = sp.simplify(J_hp.trace()), sp.factor(sp.simplify(J_hp.det()))
    ey = eta_h * dx2 * a
    stated_tr = -3 * hp * ey / 2 - dx2 * dy2 * eta_h / (2 * hp)
    stated_det = dx2 * eta_h * ey / 2 * hp * (2 * a * hp + C_of_hp)
    # with dy2 > 0 the signs are strict
    dyp = sp.Symbol("dy2", positive=True)
    return Step("Eq. 29-31", (tr, det), (stated_tr, sp.factor(sp.simplify(stated_det))),
                {"J": J_hp, "trace_negative": tr.subs(dy2, dyp).is_negative,
                 "det_positive": det.subs(dy2, dyp).is_positive,
                 "2a h+ + C": sp.simplify((2 * a * hp + C).subs(C, C_of_hp))})


@lru_cache(maxsize=None)
def saddle_at_zero() -> Step:
    """Eq. 32-35: along the ray ``w = μ h2`` the field is linear in ``h2`` to first order; requiring it to
    point along ``(1, μ)`` gives ``μ² − Cμ − a dy2 = 0``; ``λ = −eta_h dx2 μ``; one root of each sign."""
    f_h, f_w = reduced_system().derived
    mu = sp.Symbol("mu", real=True)
    ray = {w: mu * h2}
    lin_h = sp.limit(f_h.subs(ray) / h2, h2, 0)
    lin_w = sp.limit(sp.expand(f_w.subs(ray)) / h2, h2, 0)
    # eigenvector condition: (lin_h, lin_w) ∥ (1, μ)  ⇔  lin_w − μ lin_h = 0
    char = sp.expand(sp.simplify((lin_w - mu * lin_h) * (2 / (eta_h * dx2))).subs(eta_y, a * eta_h * dx2))
    mus = sp.solve(char, mu)
    lam = [sp.simplify(lin_h.subs(mu, r)) for r in mus]
    dyp = sp.Symbol("dy2", positive=True)
    product = sp.simplify(sp.prod(mus).subs(dy2, dyp))   # Vieta: the two roots' product
    return Step("Eq. 33-35", char, mu**2 - C * mu - a * dy2,
                {"linear_field": (lin_h, lin_w), "mu": mus, "lambda": lam,
                 "root_product": product, "opposite_signs": product.is_negative})


# ----------------------------------------------------------------------------------------------------------
# 12.-14. Special cases

@lru_cache(maxsize=None)
def identical_outputs() -> dict[str, Step]:
    """Eq. 37-40: ``Δy = 0`` keeps ``w = y2`` invariant; ``h2`` then obeys a Bernoulli equation that
    ``dsolve`` integrates."""
    f = rhs_expr()
    sub = {dy2: 0, w: y2}
    invariance = Step("Eq. 37: d(w − y2)/dt = 0 on w = y2", sp.simplify((f[2] - f[1]).subs(sub)), sp.Integer(0))
    y_of_h = conservation().extra["y2"]
    bern_rhs = sp.expand(f[0].subs(sub).subs(y2, y_of_h).subs(eta_y, a * eta_h * dx2))
    stated_38 = -a * eta_h * dx2 * h2**2 - dx2 * C * eta_h * h2
    H = sp.Function("H")
    h0 = sp.Symbol("h0", positive=True)
    ode = sp.Eq(H(t).diff(t), bern_rhs.subs(h2, H(t)))
    general = sp.dsolve(ode, H(t))   # sympy classifies it as Bernoulli (and separable)
    C1 = sp.Symbol("C1")
    const = sp.solve(sp.Eq(general.rhs.subs(t, 0), h0), C1)[0]     # the initial condition H(0) = h0
    sol = sp.Eq(H(t), sp.simplify(general.rhs.subs(C1, const)))
    e = sp.exp(-dx2 * C * eta_h * t)
    stated_39 = C * h0 * e / (C + a * h0 * (1 - e))
    return {
        "invariance": invariance,
        "bernoulli": Step("Eq. 38", bern_rhs, sp.expand(stated_38)),
        "solution": Step("Eq. 39", sol.rhs, stated_39, {"ode": ode, "checkodesol": sp.checkodesol(ode, sp.Eq(H(t), stated_39))}),
        "C=0": Step("Eq. 39, C = 0", sp.limit(stated_39, C, 0), h0 / (1 + a * eta_h * dx2 * h0 * t)),
    }


@lru_cache(maxsize=None)
def lazy_rescaling() -> Step:
    """Eq. 41-43: with ``h2 = α h̃``, ``y2 = α² ỹ``, ``w = α² w̃``, ``t = s/α`` Eq. 7 maps onto itself with
    ``dy2 → dy2/α²``; as ``α → ∞`` this is the identical-output system (Eq. 37)."""
    alpha = sp.Symbol("alpha", positive=True)
    ht, yt, wt = sp.symbols(r"\tilde{h} \tilde{y} \tilde{w}", real=True)   # named as printed
    f = rhs_expr()
    back = {h2: alpha * ht, y2: alpha**2 * yt, w: alpha**2 * wt}
    # d x̃/ds = (1/α^p) dx/dt · dt/ds = f_x / α^(p+1)
    derived = tuple(sp.simplify(f[i].subs(back) / alpha ** (p + 1)) for i, p in enumerate((1, 2, 2)))
    tilde = {h2: ht, y2: yt, w: wt, dy2: dy2 / alpha**2}
    stated = tuple(sp.simplify(f[i].subs(tilde, simultaneous=True)) for i in range(3))
    limit = tuple(sp.limit(s, alpha, sp.oo) for s in stated)
    return Step("Eq. 41-43", derived, stated,
                {"alpha_to_infinity": limit,
                 "identical_output_system": tuple(f[i].subs({dy2: 0}).subs({h2: ht, y2: yt, w: wt}, simultaneous=True) for i in range(3))})


@lru_cache(maxsize=None)
def change_of_variables() -> Step:
    """Eq. 44-45: invert the fixed point for ``C`` and transform a density ``p_C`` to ``p(h_∞)``.

    ``C(h) = dy2/h − a h`` is strictly decreasing on ``h > 0`` (its derivative is negative), so the map is
    one-to-one and ``p(h) = p_C(C(h)) |dC/dh|``."""
    h = sp.Symbol("h", positive=True)
    C_of_h = sp.solve(sp.Eq(a * h**2 + C * h - dy2, 0), C)[0]
    dC = sp.diff(C_of_h, h)
    pC = sp.Function("p_C")
    density = pC(C_of_h) * sp.Abs(dC)
    dyp = sp.Symbol("dy2", positive=True)
    return Step("Eq. 44-45", (C_of_h, sp.simplify(density)),
                (dy2 / h - a * h, pC(dy2 / h - a * h) * (dy2 / h**2 + a)),
                {"dC/dh": dC, "decreasing": dC.subs(dy2, dyp).is_negative})
