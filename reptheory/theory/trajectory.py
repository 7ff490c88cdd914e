"""What solving Eq. 7 gives: a sampled solution (:class:`Trajectory`), or the reason it could not be had
(:class:`SolveError`). Produced by :func:`reptheory.theory.ode.solve`, :func:`~reptheory.theory.ode.solve_batch`
and :func:`~reptheory.theory.closed_form.identical_output`; a network's measured curves come in the same type
(:func:`reptheory.networks.measure.two_point_variables`)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SolveError", "Trajectory"]


class SolveError(RuntimeError):
    """The ODE integration of Eq. 7 failed or was refused: the step size collapsed, ``h2`` reached 0, the
    solution drifted off its conserved quantity, or the inputs lie beyond what the method resolves (the message
    names the limit and what to do instead).

    >>> import numpy as np
    >>> from reptheory.theory.ode import solve
    >>> try:                                        # 1e20 epochs of fixed RK4 steps: refused before it starts
    ...     solve(np.array([0.0, 1e20]), 1e-3, 1e-5, -1e-3, 1e-3, 1e-2, 1.0, 0.5, method="rk4")
    ... except SolveError as e:
    ...     print("method='radau'" in str(e))
    True
    """


@dataclass(frozen=True)
class Trajectory:
    """A solution of Eq. 7 sampled at times ``t`` (epochs): ``h2 = ||Δh||²``, ``y2 = ||Δŷ||²`` and the alignment
    ``w``. Arrays have shape ``(T,)`` for one solution or ``(n, T)`` for a batch of ``n``.

    >>> import numpy as np
    >>> from reptheory.theory.ode import solve_batch
    >>> tr = solve_batch(np.linspace(0, 1e3, 5), [1e-3, 2e-3], 1e-5, -1e-3, 1e-3, 1e-2, 1.0, 0.5)
    >>> tr.h2.shape, len(tr), tr[1].h2.shape
    ((2, 5), 2, (5,))
    """

    t: np.ndarray
    h2: np.ndarray
    y2: np.ndarray
    w: np.ndarray

    def __getitem__(self, i) -> "Trajectory":
        """Trial ``i`` of a batch."""
        return Trajectory(self.t, self.h2[i], self.y2[i], self.w[i])

    def __len__(self) -> int:
        return 1 if self.h2.ndim == 1 else self.h2.shape[0]
