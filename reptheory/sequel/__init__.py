"""The sequel (arXiv:2507.09897): streaming parity, its RNN and what the network learns. The names below are the
package's public API, which the book's pages call; the modules hold them by job:

* runs: :func:`parity_runs` trains or loads any parity settings (:mod:`~reptheory.sequel.runs`) on the one parity
  engine, :mod:`~reptheory.sequel.parity_batch` (many trials as one batched model; ``train_parity`` one trial),
  :class:`ParityRun` the record of one run (:mod:`~reptheory.sequel.parity`: the task, the network, the record);
* automata extracted from hidden states (:mod:`~reptheory.sequel.automata`) and what a run learned
  (:mod:`~reptheory.sequel.algorithm`);
* phase diagrams: each run's :class:`Outcome`, the :class:`Transition` along a data axis
  (:mod:`~reptheory.sequel.parity_phase`);
* theory: the RNN two-point reduction (:mod:`~reptheory.sequel.rnn_theory`) and the fixed-expansion model
  (:mod:`~reptheory.sequel.rnn_expansion`);
* weight sharing: the gradient-descent proxy (:mod:`~reptheory.sequel.weight_sharing`), posterior samples
  (:mod:`~reptheory.sequel.langevin`) and the verdicts on two claims of arXiv:2602.15593
  (:mod:`~reptheory.sequel.sharing_tests`).

A name that two modules share gets the module's subject in front here (``train_parity``, ``train_sharing``,
``SharingTransition``), so that no name of this package shadows one of its modules.

>>> from reptheory import sequel
>>> sequel.prefix_index(2)
[(0, 0), (1, 0), (1, 1), (2, 0), (2, 1), (2, 2), (2, 3)]
"""
from reptheory.sequel.algorithm import (RunSummary, example_pairs, length_pair_distance, median_relative,
                                        merged_pair_distances, pair_distance, smallest_finite_factor, state_counts,
                                        summarise)
from reptheory.sequel.automata import PARITY_DFA, Automaton, extract, merged_fraction, minimise, states_at
from reptheory.sequel.parity import (LONG_LENGTHS, ParityRun, evaluate, initial_scale, long_strings, prefix_index,
                                     strings)
from reptheory.sequel.parity_batch import train as train_parity
from reptheory.sequel.parity_phase import Outcome, Transition, outcome, outcomes, transitions
from reptheory.sequel.parity_phase import grid as median_over_seeds
from reptheory.sequel.rnn_expansion import FixedExpansion, fixed_expansion
from reptheory.sequel.rnn_expansion import derivation as expansion_derivation
from reptheory.sequel.rnn_theory import a_high, h_inf, merges, two_point_reduction
from reptheory.sequel.runs import parity_runs
from reptheory.sequel.sharing_tests import Interpolation as SharingInterpolation
from reptheory.sequel.sharing_tests import Transition as SharingTransition
from reptheory.sequel.sharing_tests import interpolation as sharing_interpolation
from reptheory.sequel.sharing_tests import transition as sharing_transition
from reptheory.sequel.weight_sharing import SharingResult
from reptheory.sequel.weight_sharing import sweep as sharing_sweep
from reptheory.sequel.weight_sharing import train as train_sharing

__all__ = ["parity_runs", "ParityRun", "train_parity", "LONG_LENGTHS", "strings", "prefix_index", "long_strings",
           "evaluate", "initial_scale", "Automaton", "extract", "minimise", "merged_fraction", "states_at",
           "PARITY_DFA", "RunSummary", "summarise", "state_counts", "pair_distance", "example_pairs",
           "smallest_finite_factor", "length_pair_distance", "merged_pair_distances", "median_relative", "Outcome",
           "outcome", "outcomes", "Transition", "transitions", "median_over_seeds", "two_point_reduction", "a_high",
           "h_inf", "merges", "expansion_derivation", "FixedExpansion", "fixed_expansion", "SharingResult",
           "train_sharing", "sharing_sweep", "SharingTransition", "sharing_transition", "SharingInterpolation",
           "sharing_interpolation"]
