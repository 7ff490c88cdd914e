"""The sequel (arXiv:2507.09897): streaming parity and its RNN (:mod:`~reptheory.sequel.parity`, many trials as
one batched model in :mod:`~reptheory.sequel.parity_batch`), automata extracted from hidden states
(:mod:`~reptheory.sequel.automata`), what a run learned (:mod:`~reptheory.sequel.algorithm`), phase diagrams
(:mod:`~reptheory.sequel.parity_phase`), the RNN two-point theory (:mod:`~reptheory.sequel.rnn_theory`), the
fixed-expansion model (:mod:`~reptheory.sequel.rnn_expansion`) and weight sharing (a gradient-descent proxy,
:mod:`~reptheory.sequel.weight_sharing`; posterior samples, :mod:`~reptheory.sequel.langevin`, and the verdicts on
two claims of arXiv:2602.15593, :mod:`~reptheory.sequel.sharing_tests`)."""
