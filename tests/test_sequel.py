"""The streaming-parity sequel: task, automata, RNN theory, weight sharing (small and fast)."""
import dataclasses

import numpy as np
import pytest

from reptheory import automata as A
from reptheory import parity, rnn_theory, weight_sharing


def test_strings_prefixes_and_parity():
    s = parity.strings(3)
    assert s.shape == (8, 3) and s[5].tolist() == [1, 0, 1]
    assert parity.parity(s).tolist() == [0, 1, 1, 0, 1, 0, 0, 1]
    P = parity.prefix_index(3)
    assert len(P) == 15 and P[0] == (0, 0) and P[-1] == (3, 7)


@pytest.mark.parametrize("field, value, msg", [("gain", 0, "gain"), ("frac", 1.5, "frac"), ("act", "gelu", "act"),
                                               ("max_len", 30, "max_len"), ("seeds", (), "seeds")])
def test_bad_settings_name_the_field(field, value, msg):
    with pytest.raises(ValueError, match=msg):
        dataclasses.replace(parity.PARITY_PAPER, **{field: value})


def _parity_states(max_len, noise=0.0, tree=False):
    P = parity.prefix_index(max_len)
    par = np.array([bin(v).count("1") % 2 for _, v in P])
    if tree:
        states = np.eye(len(P))                    # every prefix its own state
    else:
        states = np.eye(2)[par] + noise * np.random.default_rng(0).normal(size=(len(P), 2))
    return states, P, par


def test_parity_states_give_the_parity_automaton():
    states, P, par = _parity_states(5, noise=1e-5)
    a = A.extract(states, P, par)
    assert a.finite and a.n_states == 2
    m = A.minimise(a)
    assert m.n_states == 2 and A.equivalent_up_to(m, A.PARITY_DFA, 10)
    frac, wrong = A.merged_fraction(a.group, P, 5)
    assert wrong == 0 and np.nanmin(frac) == 1.0


def test_a_tree_is_not_finite():
    states, P, par = _parity_states(4, tree=True)
    a = A.extract(states, P, par)
    assert not a.finite and a.n_states == len(P)
    with pytest.raises(ValueError, match="finite"):
        A.minimise(a)
    wrong_dfa = A.Automaton(np.array([0]), np.array([[0, 0]]), np.array([0]), 0, 0)
    assert not A.equivalent_up_to(wrong_dfa, A.PARITY_DFA, 3)


def test_short_training_run_records():
    s = dataclasses.replace(parity.PARITY_PAPER, hidden=8, max_len=3, epochs=4, track_every=2, seeds=(0,))
    r = parity.train(s, 0)
    assert r.epochs.tolist() == [0, 2, 4]
    assert r.states.shape == (3, 15, 8) and r.outputs(-1).shape == (15,)
    assert set(r.long_acc) == set(parity.LONG_LENGTHS)
    np.testing.assert_allclose(r.states[:, 0], 1.0)          # the empty prefix is h0 = ones


def test_rnn_two_point_system_is_eq7_with_n_for_dx2():
    step = rnn_theory.two_point_reduction(2)
    assert step.holds and all(v == 0 for v in step.extra["mean_invariant"])
    assert rnn_theory.merges(0.1, 0.01, 0.01, 0.01, 2.0, 0.0)         # agree, A_high = 0.1 - 2·0.01/0.1 < 0
    assert not rnn_theory.merges(0.1, 0.01, 0.01, 0.01, 2.0, 0.5)      # disagreeing prefixes never merge
    assert not rnn_theory.merges(1.0, 1e-4, 0.01, 0.01, 1.0, 0.0)      # A_high > 0


def test_fixed_expansion_diverges_then_merges_only_with_unequal_rates():
    t = np.concatenate([[0.0], np.geomspace(0.1, 2e4, 300)])
    unequal = rnn_theory.fixed_expansion(t, 1, 10, 1.0, 1.0)
    equal = rnn_theory.fixed_expansion(t, 5, 5, 1.0, 1.0)
    assert unequal.max() / unequal[0] > 5 and unequal[-1] / unequal.max() < 1e-3
    assert np.all(np.diff(equal) <= 1e-15 * equal[0])
    with pytest.raises(ValueError, match="len1"):
        rnn_theory.fixed_expansion(t, 0, 1, 1.0, 1.0)


def test_weight_sharing_small():
    r = weight_sharing.train(True, 1.0, 0, n=16, T=3, P=4, steps=20)
    assert np.isfinite(r.final_loss) and r.top_eig > 0 and r.shared
    with pytest.raises(ValueError, match="gamma"):
        weight_sharing.train(True, 0.0, 0)
