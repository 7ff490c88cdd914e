"""reptheory: the effective two-point theory of representation learning (van Rossem & Saxe, ICML 2024).

Modules, each with one job:

* :mod:`reptheory.theory.symbolic` and :mod:`reptheory.theory.analysis` – the theory derived with sympy from the linearised two-point model (Sec. 2; App. A).
* :mod:`reptheory.theory` – Eq. 7 numerically: right-hand side, stiff solver; :mod:`reptheory.theory.closed_form`:
  loss (Eq. 9), fixed point (Eq. 10-11); :mod:`reptheory.theory.trajectory`: the solution type and its error.
* :mod:`reptheory.theory.fit` – effective rates fitted to measured trajectories (Eq. 49).
* :mod:`reptheory.theory.linear` – the linearised model in matrix form, its gradient flow and the invariant manifold.
* :mod:`reptheory.theory.regimes` – rich, lazy and random regimes (Sec. 4.1, App. A.3-A.6).
* :mod:`reptheory.configs` – Tables 1 and 2 as frozen settings, profiles, settings tables.
* :mod:`reptheory.networks.data`, :mod:`reptheory.networks.models` – the point and blob datasets and the Table 1 architectures.
* :mod:`reptheory.networks.train` – training with a fused numba kernel, PyTorch, or many trials at once (torch.func).
* :mod:`reptheory.networks.measure` – the theory's variables measured on a run.
* :mod:`reptheory.networks.structure` – distance matrices, Eq. 10 pair by pair, collapse and merge measures, MDS (Sec. 4).
* :mod:`reptheory.experiments`, :mod:`reptheory.cache` – cached train → measure → fit entry points.
* :mod:`reptheory.parallel` – the job runner: worker processes, or Dask/Ray through joblib.
* :mod:`reptheory.bench` – the training-step, engine and fit benchmark.
* :mod:`reptheory.presentation` – how results reach a reader: rounded printing and tables (``display``), the plot
  style and figures (``plots``, ``sequel_plots``), precomputed sliders (``widgets``), the effective-theory
  explorer, the default profile against the paper's (``deviations``), checked numbers (``report``).
* :mod:`reptheory.cli` – ``python -m reptheory reproduce``.
* :mod:`reptheory.lab`, :mod:`reptheory.lab.inputs`, :mod:`reptheory.lab.result`, :mod:`reptheory.lab.engines`,
  :mod:`reptheory.lab.key`, :mod:`reptheory.lab.protocol`, :mod:`reptheory.lab.zoo`,
  :mod:`reptheory.lab.cnn_plateau` – the theory tested on any
  PyTorch model (:func:`probe`, many networks of one architecture at once with :func:`probe_many`); their input
  rule; the probed run and its
  verdict; their training engines; their cache key; the Fig. 5 protocol :func:`probe_grid`, the initial-scale
  rule and the chapter's survey; the architectures beyond the paper's that the book probes; the controlled
  experiment on the Fig. 5 CNN's plateau.
* The sequel (arXiv:2507.09897): :mod:`reptheory.sequel.parity` (streaming parity, the RNN, training),
  :mod:`reptheory.sequel.parity_batch` (many parity trials as one batched model),
  :mod:`reptheory.sequel.automata` (extraction, minimisation), :mod:`reptheory.sequel.algorithm` (what a run learned),
  :mod:`reptheory.sequel.parity_phase` (phase diagrams: outcomes, grids, transitions),
  :mod:`reptheory.sequel.rnn_theory` (the RNN two-point theory in sympy), :mod:`reptheory.sequel.rnn_expansion` (the
  fixed-expansion model, derived in sympy and integrated), :mod:`reptheory.sequel.weight_sharing` (a
  gradient-descent proxy), :mod:`reptheory.sequel.langevin` and :mod:`reptheory.sequel.sharing_tests` (posterior
  samples of an RNN and its unrolled DNN, and the verdicts on arXiv:2602.15593's two claims).
"""
import sys as _sys

if _sys.argv[:1] == ["-m"]:     # ``python -m reptheory`` importing the package: a Ctrl-C before the command line
    import signal as _signal    # can handle it (numpy, scipy, torch import for a second) is one line and 130

    def _stopped_while_starting(_signum, _frame):     # nothing has run, so nothing to unwind: end at once (an
        import os as _os                                # exception raised here could land inside an extension's
        print("reptheory: stopped by SIGINT (Ctrl-C) while starting: nothing ran", file=_sys.stderr, flush=True)
        _os._exit(130)                                  # C initialisation, which reports it as an ImportError)
    _signal.signal(_signal.SIGINT, _stopped_while_starting)

from reptheory.presentation.display import table  # noqa: E402
from reptheory.presentation.rounding import fmt  # noqa: E402
from reptheory.sequel.rnn_expansion import FixedExpansion, fixed_expansion
from reptheory.theory.fit import FitError, MeanRateFit, RateFit, fit_mean_rate, fit_rates, max_relative_deviation
from reptheory.theory.ode import (SolveError, Trajectory, a_high, a_low, conserved, h_inf, identical_output,
                                  lazy_limit, loss, rhs, rich_limit, solve, solve_batch)

from reptheory._version import __version__  # noqa: E402

if _sys.argv[:1] == ["-m"]:
    _signal.signal(_signal.SIGINT, _signal.default_int_handler)

__all__ = [
    "fmt", "table", "FixedExpansion", "fixed_expansion", "FitError", "MeanRateFit", "RateFit", "fit_mean_rate",
    "fit_rates", "max_relative_deviation",
    "SolveError", "Trajectory", "a_high", "a_low", "conserved", "h_inf", "identical_output", "lazy_limit", "loss",
    "rhs", "rich_limit", "solve", "solve_batch", "__version__",
    "probe", "probe_many", "probe_grid", "pair_data", "choose_scale", "TwoPointResult", "ProbeGrid",
]

#: names served by :mod:`reptheory.lab` and :mod:`reptheory.lab.protocol`, imported on first use (they need
#: torch, which ``import reptheory`` does not load)
_LAB = {"probe": "lab.probing", "probe_many": "lab.probing", "pair_data": "lab.probing",
        "TwoPointResult": "experiments.result", "probe_grid": "lab.protocol", "choose_scale": "lab.protocol",
        "ProbeGrid": "lab.protocol",
        "ProbeResult": "lab.result"}        # TwoPointResult's earlier name, kept for code that uses it


def __getattr__(name):
    if name in _LAB:
        import importlib
        return getattr(importlib.import_module(f".{_LAB[name]}", __name__), name)
    raise AttributeError(f"module 'reptheory' has no attribute {name!r}")
