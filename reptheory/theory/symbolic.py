"""The effective theory derived with sympy from the linearised two-point model (paper Sec. 2, App. A).

Nothing here is typed in as a result. Each step starts from the previous one by a sympy operation
(expansion, differentiation, solving, substitution, ``dsolve``), and each function returns what it derived
next to the form the paper states (``stated``), so that a test or a book cell can assert that the
difference simplifies to zero.

Chain of derivations (equation numbers of arXiv:2402.09142):

* :func:`linearised_model` – Eq. 5/15: the two points, encoder and decoder linearised around their mean,
  with concrete small dimensions and a symbol for every matrix entry; the ½-MSE loss (Eq. 1).
* :func:`loss_decomposition` – Eq. 16; :func:`gradients` – Eq. 17.
* :func:`scalar_derivatives` – Eq. 6 and 20: time derivatives of ``h2, y2, w`` under the matrix flow,
  for arbitrary matrices; this fixes the code normalisation ``eta_h = k_h/2``, ``eta_y = k_y/2``.
* :func:`effective_system` – Eq. 19 and 7/21: the no-rotation restriction closes the system.
* :func:`loss_expression` – Eq. 9/22 (with Eq. 18).
* The analysis of Eq. 7 (App. A: conservation, the reduced system, fixed points and their stability,
  identical outputs, the lazy rescaling, the change of variables) continues the chain in
  :mod:`reptheory.theory.analysis`.

Symbols use the code's names: ``h2 = ||Δh||²``, ``y2 = ||Δŷ||²``, ``w``, ``dx2 = ||Δx||²``,
``dy2 = ||Δy||²``, ``eta_h``, ``eta_y``, ``eta_ybar``; ``a`` and ``C`` as in Eq. 24.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import sympy as sp

from reptheory import validate as _v

# ----------------------------------------------------------------------------------------------------------
# Scalar symbols of the effective theory

# (a symbol is its name and its assumptions: these are the same symbols wherever they are built)
h2 = sp.Symbol("h2", positive=True)              #: ‖Δh‖², squared distance of the two points' representations
dx2 = sp.Symbol("dx2", positive=True)            #: ‖Δx‖², squared distance of the two inputs
eta_h = sp.Symbol("eta_h", positive=True)        #: η_h, effective rate of the representation (encoder), Eq. 7
eta_y = sp.Symbol("eta_y", positive=True)        #: η_y, effective rate of the read-out (decoder), Eq. 7
eta_ybar = sp.Symbol("eta_ybar", positive=True)  #: η̄_y, effective rate of the mean output (Eq. 9)
a = sp.Symbol("a", positive=True)                #: a = η_y / (η_h ‖Δx‖²), the coefficient of ‖Δh‖⁴ in Eq. 24
t = sp.Symbol("t", nonnegative=True)             #: time of the gradient flow
y2 = sp.Symbol("y2", nonnegative=True)           #: ‖Δŷ‖², squared distance of the two outputs
dy2 = sp.Symbol("dy2", nonnegative=True)         #: ‖Δy‖², squared distance of the two targets
m0 = sp.Symbol("m0", nonnegative=True)           #: initial squared error of the mean output (Eq. 9)
w = sp.Symbol("w", real=True)                    #: w = ‖Δŷ‖² − Δŷ·Δy, the outputs' alignment with the targets
C = sp.Symbol("C", real=True)                    #: C = ‖Δŷ₀‖²/‖Δh₀‖² − a‖Δh₀‖², the constant of Eq. 24
k_h = sp.Symbol("k_h", positive=True)            #: rate of Eq. 6 as written (d/dt = −k ∂L/∂·, k = 1/τ_h)
k_y = sp.Symbol("k_y", positive=True)            #: rate of Eq. 6 as written, of the read-out (k = 1/τ_y)
k_ybar = sp.Symbol("k_ybar", positive=True)      #: rate of Eq. 6 as written, of the mean output

#: the state of Eq. 7
STATE = (h2, y2, w)


@dataclass
class Step:
    """One derivation step: what sympy derived, the paper's stated form, and their difference."""

    name: str
    derived: object
    stated: object = None
    extra: dict = field(default_factory=dict)

    @property
    def difference(self):
        """``simplify(derived − stated)`` entrywise; zero (or a zero matrix) when the step checks out."""
        if self.stated is None:
            return None
        if isinstance(self.derived, (tuple, list)):
            return [Step(self.name, d, s).difference for d, s in zip(self.derived, self.stated)]
        if isinstance(self.derived, sp.Set):
            return sp.Union(sp.Complement(self.derived, self.stated), sp.Complement(self.stated, self.derived))
        return sp.simplify(self.derived - self.stated)

    @property
    def holds(self) -> bool:
        diff = self.difference
        if diff is None:
            return True
        if isinstance(diff, list):
            return all(Step(self.name, d, s).holds for d, s in zip(self.derived, self.stated))
        if isinstance(diff, sp.Set):
            return diff is sp.S.EmptySet
        if isinstance(diff, sp.MatrixBase):
            return diff.is_zero_matrix is True
        return diff == 0


def _norm2(v: sp.Matrix):
    return (v.T * v)[0, 0]


def _dot(u: sp.Matrix, v: sp.Matrix):
    return (u.T * v)[0, 0]


# ----------------------------------------------------------------------------------------------------------
# 1. The linearised model with explicit matrices

@dataclass
class LinearisedModel:
    """Eq. 15 with dimensions ``n_x, n_h, n_y`` and a symbol for every entry."""

    n_x: int
    n_h: int
    n_y: int
    D_h: sp.Matrix
    D_y: sp.Matrix
    xbar: sp.Matrix
    dx: sp.Matrix
    ybar: sp.Matrix
    dy: sp.Matrix
    hbar: sp.Matrix
    yhat_bar: sp.Matrix
    h: tuple          # h(x_1), h(x_2)
    yhat: tuple       # ŷ(x_1), ŷ(x_2)
    loss: sp.Expr     # Eq. 1: ½ ⟨||y − ŷ||²⟩ over the two points

    @property
    def dh(self):
        return self.h[1] - self.h[0]

    @property
    def dyhat(self):
        return self.yhat[1] - self.yhat[0]

    @property
    def E(self):
        """The error vector ``E = Δŷ − Δy``."""
        return self.dyhat - self.dy

    @property
    def params(self):
        """All parameters of Eq. 6 as a flat list: entries of ``D_h``, ``D_y`` and ``ŷ̄``."""
        return list(self.D_h) + list(self.D_y) + list(self.yhat_bar)

    def scalars(self):
        """``(h2, y2, w, dx2, dy2)`` as expressions in the matrix entries (Eq. 8)."""
        dyhat = self.dyhat
        return (_norm2(self.dh), _norm2(dyhat), _norm2(dyhat) - _dot(self.dy, dyhat),
                _norm2(self.dx), _norm2(self.dy))


def _vec(name, n):
    return sp.Matrix(n, 1, lambda i, _j: sp.Symbol(f"{name}_{i}", real=True))


def _mat(name, r, c):
    return sp.Matrix(r, c, lambda i, j: sp.Symbol(f"{name}_{i}{j}", real=True))


@lru_cache(maxsize=None)
def linearised_model(n_x: int = 2, n_h: int = 3, n_y: int = 2) -> LinearisedModel:
    """Eq. 5/15: ``h(x_i) = h̄ + D_h (x_i − x̄)``, ``ŷ(h) = ŷ̄ + D_y (h − h̄)``, ``x_{1,2} = x̄ ∓ Δx/2``,
    ``y_{1,2} = ȳ ∓ Δy/2``, and the ½-MSE loss of Eq. 1 averaged over the two points."""
    n_x, n_h, n_y = (_v.integer(name, n, 1) for name, n in (("n_x", n_x), ("n_h", n_h), ("n_y", n_y)))
    D_h, D_y = _mat("Dh", n_h, n_x), _mat("Dy", n_y, n_h)
    xbar, dx, ybar, dy = _vec("xbar", n_x), _vec("dx", n_x), _vec("ybar", n_y), _vec("dy", n_y)
    hbar, yhat_bar = _vec("hbar", n_h), _vec("yhbar", n_y)
    xs = (xbar - dx / 2, xbar + dx / 2)
    ys = (ybar - dy / 2, ybar + dy / 2)
    hs = tuple(hbar + D_h * (x - xbar) for x in xs)
    yh = tuple(yhat_bar + D_y * (h - hbar) for h in hs)
    loss = sp.Rational(1, 2) * sp.Rational(1, 2) * sum(_norm2(yi - y) for yi, y in zip(yh, ys))
    return LinearisedModel(n_x, n_h, n_y, D_h, D_y, xbar, dx, ybar, dy, hbar, yhat_bar, hs, yh, sp.expand(loss))


def loss_decomposition(m: LinearisedModel | None = None) -> Step:
    """Eq. 16: ``L = ½||ŷ̄ − ȳ||² + ⅛||D_y D_h Δx − Δy||²`` (the mean and the difference decouple)."""
    m = m or linearised_model()
    stated = (sp.Rational(1, 2) * _norm2(m.yhat_bar - m.ybar)
              + sp.Rational(1, 8) * _norm2(m.D_y * m.D_h * m.dx - m.dy))
    return Step("Eq. 16", m.loss, sp.expand(stated))


def _grad(expr, M: sp.Matrix) -> sp.Matrix:
    return M.applyfunc(lambda x: sp.diff(expr, x))


def gradients(m: LinearisedModel | None = None) -> dict[str, Step]:
    """Eq. 17: entrywise derivatives of the loss against the stated matrix forms
    ``∂L/∂D_h = ¼ D_yᵀ E Δxᵀ``, ``∂L/∂D_y = ¼ E Δhᵀ``, ``∂L/∂ŷ̄ = ŷ̄ − ȳ``."""
    m = m or linearised_model()
    E, dh = m.D_y * m.D_h * m.dx - m.dy, m.D_h * m.dx
    return {
        "D_h": Step("Eq. 17 (D_h)", _grad(m.loss, m.D_h), (m.D_y.T * E * m.dx.T / 4).applyfunc(sp.expand)),
        "D_y": Step("Eq. 17 (D_y)", _grad(m.loss, m.D_y), (E * dh.T / 4).applyfunc(sp.expand)),
        "yhat_bar": Step("Eq. 17 (ŷ̄)", _grad(m.loss, m.yhat_bar), m.yhat_bar - m.ybar),
    }


def _flow(m: LinearisedModel, rates=(k_h, k_y, k_ybar)) -> dict:
    """Eq. 6: ``dθ/dt = −k ∂L/∂θ`` for each parameter entry (k = 1/τ)."""
    kh, ky, km = rates
    flow = {}
    for M, k in ((m.D_h, kh), (m.D_y, ky), (m.yhat_bar, km)):
        for x in M:
            flow[x] = -k * sp.diff(m.loss, x)
    return flow


def _time_derivative(expr, flow: dict):
    """Chain rule along the flow: ``d expr/dt = Σ_θ ∂expr/∂θ · dθ/dt``."""
    return sp.expand(sum(sp.diff(expr, x) * v for x, v in flow.items()))


def scalar_derivatives(m: LinearisedModel | None = None) -> dict[str, Step]:
    """Eq. 20: ``d/dt`` of ``h2``, ``y2``, ``w`` under the flow of Eq. 6, for arbitrary ``D_h``, ``D_y``.

    The stated forms, in the rates ``k = 1/τ`` of Eq. 6, with ``G1 = (D_yᵀΔŷ)·(D_yᵀE)`` and
    ``G2 = (D_yᵀ(2Δŷ − Δy))·(D_yᵀE)``:

    * ``ḣ2 = −½ k_h dx2 w`` (exact, no restriction),
    * ``ẏ2 = −½ [k_y h2 w + k_h dx2 G1]``,
    * ``ẇ = −¼ [k_y h2 (3w − y2 + dy2) + k_h dx2 G2]``.

    The first line is why the code's rates are ``eta_h = k_h/2`` and ``eta_y = k_y/2``.
    """
    m = m or linearised_model()
    flow = _flow(m)
    H2, Y2, W, DX2, DY2 = m.scalars()
    E, dyhat = m.E, m.dyhat
    G1 = _dot(m.D_y.T * dyhat, m.D_y.T * E)
    G2 = _dot(m.D_y.T * (2 * dyhat - m.dy), m.D_y.T * E)
    half, quarter = sp.Rational(1, 2), sp.Rational(1, 4)
    return {
        "h2": Step("Eq. 20 (h2)", _time_derivative(H2, flow), sp.expand(-half * k_h * DX2 * W)),
        "y2": Step("Eq. 20 (y2)", _time_derivative(Y2, flow), sp.expand(-half * (k_y * H2 * W + k_h * DX2 * G1))),
        "w": Step("Eq. 20 (w)", _time_derivative(W, flow),
                  sp.expand(-quarter * (k_y * H2 * (3 * W - Y2 + DY2) + k_h * DX2 * G2))),
    }


@lru_cache(maxsize=None)
def effective_system() -> Step:
    """Eq. 19 → Eq. 7/21: close Eq. 20 on the no-rotation manifold.

    The restriction (Eq. 19) is ``D_yᵀE = λ Δh``. Taking the inner product with ``Δh`` and using
    ``D_y Δh = Δŷ`` (Eq. 15) gives ``λ h2 = Δŷ·E = w``, solved for ``λ``. Then
    ``G1 = λ (D_yᵀΔŷ)·Δh = λ Δŷ·Δŷ = λ y2`` and ``G2 = λ (2Δŷ − Δy)·Δŷ = λ (y2 + w)``
    (``Δy·Δŷ = y2 − w`` by Eq. 8). Substituted into Eq. 20 with ``k = 2 eta`` this is Eq. 7.
    The inner-product identities are checked on the explicit model in :func:`restriction_identities`.
    """
    lam, G1, G2 = sp.symbols("lambda G1 G2", real=True)
    lam_sol = sp.solve(sp.Eq(lam * h2, w), lam)[0]
    # Eq. 20 written in scalar symbols (the same expressions that scalar_derivatives verifies)
    half, quarter = sp.Rational(1, 2), sp.Rational(1, 4)
    general = (-half * k_h * dx2 * w,
               -half * (k_y * h2 * w + k_h * dx2 * G1),
               -quarter * (k_y * h2 * (3 * w - y2 + dy2) + k_h * dx2 * G2))
    on_manifold = {G1: lam * y2, G2: lam * (2 * y2 - (y2 - w))}
    code_rates = {k_h: 2 * eta_h, k_y: 2 * eta_y}
    derived = tuple(sp.simplify(e.subs(on_manifold).subs(lam, lam_sol).subs(code_rates)) for e in general)
    stated = stated_eq7()
    return Step("Eq. 7", sp.Matrix(derived), sp.Matrix(stated), {"lambda": lam_sol})


def stated_eq7():
    """Eq. 7 as printed in the paper (code normalisation), for comparison only."""
    return (-eta_h * dx2 * w,
            -w * (eta_y * h2 + eta_h * dx2 * y2 / h2),
            -sp.Rational(1, 2) * eta_y * (3 * w - y2 + dy2) * h2
            - sp.Rational(1, 2) * eta_h * dx2 * (y2 + w) * w / h2)


def rhs_expr() -> sp.Matrix:
    """The derived right-hand side of Eq. 7 as a sympy column ``(ḣ2, ẏ2, ẇ)``."""
    return effective_system().derived


def rhs_function():
    """Eq. 7 lambdified to numpy: ``f(h2, y2, w, eta_h, eta_y, dx2, dy2) -> [ḣ2, ẏ2, ẇ]``."""
    return sp.lambdify((h2, y2, w, eta_h, eta_y, dx2, dy2), list(rhs_expr()), "numpy")


def jacobian_function():
    """The Jacobian of the derived Eq. 7 with respect to ``(h2, y2, w)``, lambdified to numpy."""
    J = rhs_expr().jacobian(sp.Matrix(STATE))
    return sp.lambdify((h2, y2, w, eta_h, eta_y, dx2, dy2), J.tolist(), "numpy")


def restriction_identities(m: LinearisedModel | None = None) -> dict[str, Step]:
    """The identities behind :func:`effective_system`, on explicit matrices: for any vector ``v``,
    ``(D_yᵀ v)·Δh = v·Δŷ``; and ``Δy·Δŷ = y2 − w``."""
    m = m or linearised_model()
    v = _vec("v", m.n_y)
    H2, Y2, W, _, _ = m.scalars()
    return {
        "adjoint": Step("(D_yᵀv)·Δh = v·Δŷ", sp.expand(_dot(m.D_y.T * v, m.dh)), sp.expand(_dot(v, m.dyhat))),
        "dy_dot": Step("Δy·Δŷ = y2 − w", sp.expand(_dot(m.dy, m.dyhat)), sp.expand(Y2 - W)),
    }


def manifold_invariance(m: LinearisedModel | None = None) -> Step:
    """Eq. 19 is consistent: on a point of the manifold the flow of ``Δh`` is parallel to ``Δh``.

    Built for a point where ``Δh = α u``, ``D_y = σ v uᵀ + M`` with ``M u = 0``, ``Mᵀv = 0``, ``Δy ∥ v``
    (``u``, ``v`` the first basis vectors): ``dΔh/dt`` must have no component orthogonal to ``u``.
    """
    m = m or linearised_model()
    n_h, n_y = m.n_h, m.n_y
    alpha, sigma, beta = sp.symbols("alpha sigma beta", real=True)
    M = sp.Matrix(n_y, n_h, lambda i, j: 0 if i == 0 or j == 0 else sp.Symbol(f"M_{i}{j}", real=True))
    Dy = sp.Matrix(n_y, n_h, lambda i, j: sigma if (i, j) == (0, 0) else 0) + M
    dh = sp.Matrix(n_h, 1, lambda i, _j: alpha if i == 0 else 0)
    dy = sp.Matrix(n_y, 1, lambda i, _j: beta if i == 0 else 0)
    dyhat = Dy * dh
    E = dyhat - dy
    ddh = -(k_h / 4) * _norm2(m.dx) * Dy.T * E        # Eq. 17: dΔh/dt = (dD_h/dt) Δx
    orth = ddh[1:, 0]
    return Step("Eq. 19 invariant", orth, sp.zeros(n_h - 1, 1))


@lru_cache(maxsize=None)
def signed_variables() -> Step:
    """Eq. 7 in signed variables: ``h2 = α²``, ``y2 = r α²``, ``w = r α² − α ρ``.

    On the manifold ``Δh = α u`` with a signed ``α``, ``r = ||D_y u||²`` and ``ρ = Δy·D_y u``; the chain
    rule turns Eq. 7 into ``α̇ = ḣ2/(2α)``, ``ṙ = d(y2/h2)/dt``, ``ρ̇ = d((y2 − w)/α)/dt``, which sympy
    simplifies to a polynomial system: no ``1/h2`` singularity, and ``α`` may pass through 0 (the two
    representations cross). This is the form :func:`reptheory.theory.solve` integrates.
    """
    al = sp.Symbol("alpha", real=True)
    r, rho = sp.symbols("r rho", real=True)
    f = rhs_expr()
    back = {h2: al**2, y2: r * al**2, w: r * al**2 - al * rho}
    dh, dy_, dw = (sp.simplify(f[i].subs(back, simultaneous=True)) for i in range(3))
    d_al = sp.simplify(dh / (2 * al))
    d_r = sp.simplify((dy_ * al**2 - r * al**2 * dh) / al**4)          # d(y2/h2)/dt
    p_dot = dy_ - dw                                                      # d(y2 − w)/dt
    d_rho = sp.simplify((p_dot * al - al * rho * d_al) / al**2)          # d(p/α)/dt with p = αρ
    stated = (-eta_h * dx2 * (r * al - rho) / 2, -eta_y * al * (r * al - rho), eta_y * al * (dy2 - al * rho) / 2)
    return Step("Eq. 7, signed variables", (sp.expand(d_al), sp.expand(d_r), sp.expand(d_rho)),
                tuple(sp.expand(e) for e in stated), {"symbols": (al, r, rho)})


# ----------------------------------------------------------------------------------------------------------
# 6. Loss

def loss_expression(m: LinearisedModel | None = None) -> dict[str, Step]:
    """Eq. 9/22 from Eq. 16, ``||E||² = 2w − y2 + dy2`` and the mean's decay (Eq. 18, solved by dsolve)."""
    m = m or linearised_model()
    H2, Y2, W, _, DY2 = m.scalars()
    e2 = Step("||E||² = 2w − y2 + dy2", sp.expand(_norm2(m.E)), sp.expand(2 * W - Y2 + DY2))
    mu = sp.Function("mu")    # one component of ŷ̄ − ȳ
    ode = sp.Eq(mu(t).diff(t), -k_ybar * mu(t))
    mu0 = sp.Symbol("mu0", real=True)
    mean_sol = sp.dsolve(ode, mu(t), ics={mu(0): mu0}).rhs
    mean_sq = sp.simplify((mean_sol / mu0) ** 2)          # m(t)/m(0)
    derived = sp.Rational(1, 2) * m0 * mean_sq.subs(k_ybar, eta_ybar) + sp.Rational(1, 8) * (2 * w - y2 + dy2)
    stated = (sp.Rational(1, 2) * sp.exp(-2 * t * eta_ybar) * m0 + sp.Rational(1, 4) * w
              + sp.Rational(1, 8) * (dy2 - y2))
    return {"E2": e2, "mean": Step("Eq. 18", mean_sol, mu0 * sp.exp(-k_ybar * t)),
            "loss": Step("Eq. 9", derived, stated)}


def loss_function():
    """Eq. 9 lambdified: ``L(t, y2, w, dy2, eta_ybar, m0)``."""
    return sp.lambdify((t, y2, w, dy2, eta_ybar, m0), loss_expression()["loss"].derived, "numpy")


def all_steps() -> list[Step]:
    """Every derivation step in order, Sec. 2 here and App. A in :mod:`reptheory.theory.analysis`, for the book's
    summary table and the tests."""
    from reptheory.theory.analysis import (change_of_variables, conservation, fixed_points, identical_outputs,
                                           lazy_rescaling, reduced_system, saddle_at_zero, stability_at_h_plus)
    steps: list[Step] = [loss_decomposition(), *gradients().values(), *scalar_derivatives().values(),
                         *restriction_identities().values(), manifold_invariance(), effective_system(), signed_variables(),
                         *loss_expression().values(), conservation(), reduced_system(), fixed_points(),
                         stability_at_h_plus(), saddle_at_zero(), *identical_outputs().values(),
                         lazy_rescaling(), change_of_variables()]
    return steps


# ----------------------------------------------------------------------------------------------------------
# Printing in the paper's notation

#: each symbol of the theory in the paper's notation, for printing derived expressions
LATEX_NAMES = {
    h2: r"\|\Delta h\|^2", y2: r"\|\Delta\hat y\|^2", dx2: r"\|\Delta x\|^2", dy2: r"\|\Delta y\|^2",
    eta_h: r"\eta_h", eta_y: r"\eta_y", eta_ybar: r"\eta_{\bar y}", m0: r"m_0",
    k_h: r"k_h", k_y: r"k_y", k_ybar: r"k_{\bar y}",
}


def latex(expr) -> str:
    """LaTeX of a derived expression in the paper's notation (``h2`` → ``‖Δh‖²`` …)."""
    if isinstance(expr, (tuple, list)):
        return r",\quad ".join(latex(e) for e in expr)
    return sp.latex(expr, symbol_names=LATEX_NAMES)
