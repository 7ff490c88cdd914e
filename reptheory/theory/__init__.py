"""The effective theory, with no network in sight: Eq. 7 derived with sympy (:mod:`~reptheory.theory.symbolic`),
integrated and its fixed point (:mod:`~reptheory.theory.ode`, :mod:`~reptheory.theory.closed_form`; the result
type :mod:`~reptheory.theory.trajectory`), fitted to measured curves (Eq. 49,
:mod:`~reptheory.theory.fit`), the linearised model's matrix flow (:mod:`~reptheory.theory.linear`), the rich,
lazy and random regimes (:mod:`~reptheory.theory.regimes`), and the statistics the figures assert on
(:mod:`~reptheory.theory.stats`). This layer imports only the settings and input checks below it.

The package's own names are Eq. 7's numerics (:mod:`~reptheory.theory.ode`), so that ``theory.solve`` and
``theory.h_inf`` read as the paper does:

>>> from reptheory import theory
>>> round(float(theory.h_inf(1.0, 0.5, 1e-3, 1e-2, 1.0, 0.5)), 3) > 0
True
"""
from reptheory.theory.ode import *  # noqa: F401,F403  (the names of ode.__all__)
from reptheory.theory.ode import __all__  # noqa: F401
