"""reptheory: the effective two-point theory of representation learning (van Rossem & Saxe, ICML 2024).

Modules, each with one job:

* :mod:`reptheory.symbolic` – the theory derived with sympy from the linearised two-point model (Sec. 2, App. A).
* :mod:`reptheory.theory` – Eq. 7 numerically: right-hand side, stiff solver, loss (Eq. 9), fixed point (Eq. 10-11).
* :mod:`reptheory.fit` – effective rates fitted to measured trajectories (Eq. 49).
* :mod:`reptheory.linear` – the linearised model in matrix form, its gradient flow and the invariant manifold.
* :mod:`reptheory.display` – rounded printing for checked notebook output.
"""
from .display import fmt, table
from .fit import FitError, MeanRateFit, RateFit, fit_mean_rate, fit_rates, max_relative_deviation
from .theory import (SolveError, Trajectory, a_high, a_low, conserved, h_inf, identical_output, lazy_limit,
                     loss, rhs, rich_limit, solve, solve_batch)

__version__ = "0.1.0"

__all__ = [
    "fmt", "table", "FitError", "MeanRateFit", "RateFit", "fit_mean_rate", "fit_rates", "max_relative_deviation",
    "SolveError", "Trajectory", "a_high", "a_low", "conserved", "h_inf", "identical_output", "lazy_limit", "loss",
    "rhs", "rich_limit", "solve", "solve_batch", "__version__",
]
