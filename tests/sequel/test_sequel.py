"""The streaming-parity sequel: task, automata, RNN theory, weight sharing (small and fast)."""
import dataclasses

import numpy as np
import pytest
import torch

from reptheory import configs
from reptheory.sequel import automata as A
from reptheory.sequel import parity, parity_batch, rnn_expansion, rnn_theory, weight_sharing
from reptheory.theory import symbolic


def test_strings_prefixes_and_parity():
    s = parity.strings(3)
    assert s.shape == (8, 3) and s[5].tolist() == [1, 0, 1]
    assert parity.parity(s).tolist() == [0, 1, 1, 0, 1, 0, 0, 1]
    P = parity.prefix_index(3)
    assert len(P) == 15 and P[0] == (0, 0) and P[-1] == (3, 7)


@pytest.mark.parametrize("field, value, msg", [("gain", 0, "gain"), ("frac", 1.5, "frac"), ("nonlinearity", "gelu", "nonlinearity"),
                                               ("max_len", 30, "max_len"), ("seeds", (), "seeds")])
def test_bad_settings_name_the_field(field, value, msg):
    with pytest.raises(ValueError, match=msg):
        dataclasses.replace(configs.sequel.PARITY_PAPER, **{field: value})


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
    s = dataclasses.replace(configs.sequel.PARITY_PAPER, width=8, max_len=3, epochs=4, track_every=2, seeds=(0,))
    r = parity_batch.train(s, 0)
    assert r.epochs.tolist() == [0, 2, 4]
    assert r.states.shape == (3, 15, 8) and r.outputs(-1).shape == (15,)
    assert set(r.long_acc) == set(parity.LONG_LENGTHS)
    np.testing.assert_allclose(r.states[:, 0], 1.0)          # the empty prefix is h0 = ones
    back = parity.ParityRun.from_arrays(r.to_arrays(), s, 0)   # what the cache stores reads back the same run
    for f in ("epochs", "train_loss", "states", "readout_w", "readout_b"):
        np.testing.assert_array_equal(getattr(back, f), getattr(r, f))
    assert back.long_acc.keys() == r.long_acc.keys() and (back.stopped, back.seconds) == (r.stopped, r.seconds)


def test_rnn_two_point_system_is_eq7_with_n_for_dx2():
    step = rnn_theory.two_point_reduction(2)
    assert step.holds and all(v == 0 for v in step.extra["mean_invariant"])
    assert rnn_theory.merges(0.1, 0.01, 0.01, 0.01, 2.0, 0.0)         # agree, A_high = 0.1 - 2·0.01/0.1 < 0
    assert not rnn_theory.merges(0.1, 0.01, 0.01, 0.01, 2.0, 0.5)      # disagreeing prefixes never merge
    assert not rnn_theory.merges(1.0, 1e-4, 0.01, 0.01, 1.0, 0.0)      # A_high > 0


def test_fixed_expansion_is_derived_and_behaves_as_the_sequel_says():
    step = rnn_expansion.derivation(2)
    assert step.holds and step.extra["loss"].holds
    t = np.concatenate([[0.0], np.geomspace(0.1, 1e6, 300)])
    unequal = rnn_expansion.fixed_expansion((1, 10), (1.0, 1.0), scale=0.06, t=t)
    equal = rnn_expansion.fixed_expansion((5, 5), (1.0, 1.0), scale=0.06, t=t)
    apart = rnn_expansion.fixed_expansion((1, 10), (1.0, 0.0), scale=0.06, t=t)
    assert unequal.expansion() > 10 and unequal.distance[-1] < 1e-6 * unequal.distance.max()
    assert np.all(np.diff(equal.distance) <= 1e-15 * equal.distance[0])
    assert apart.distance[-1] > 1 and apart.loss[-1] < 1e-8 and unequal.loss[-1] < 1e-8
    # the loss decreases along the flow (a gradient flow, whatever the rates)
    assert np.all(np.diff(unequal.loss) <= 1e-12)
    assert unequal.h1.shape == t.shape and unequal.lengths == (1, 10)


def test_fixed_expansion_with_a_symbolic_stated_form_that_is_wrong_fails():
    import sympy as sp
    step = rnn_expansion.derivation(1)
    wrong = sp.Matrix(step.stated)
    wrong[0] = wrong[0] * 2
    assert not symbolic.Step("wrong", step.derived, wrong).holds


@pytest.mark.parametrize("kwargs, field", [
    ({"lengths": (0, 10)}, "lengths"), ({"lengths": (1,)}, "lengths"), ({"lengths": (1.5, 2)}, "lengths"),
    ({"targets": ("a", 1.0)}, "targets"), ({"targets": (1.0, np.nan)}, "targets"),
    ({"targets": ((1.0, 0.0), 1.0)}, "targets"), ({"n": 0}, "n"), ({"n": True}, "n"), ({"lr": -1}, "lr"),
    ({"scale": 0.0}, "scale"), ({"t": [2.0, 1.0]}, "t"), ({"seed": -1}, "seed"), ({"seed": 1.5}, "seed"),
])
def test_fixed_expansion_rejects_bad_input(kwargs, field):
    args = {"lengths": (1, 10), "targets": (1.0, 1.0), "scale": 0.05, "t": [0.0, 1.0]} | kwargs
    with pytest.raises((ValueError, TypeError), match=field):
        rnn_expansion.fixed_expansion(args.pop("lengths"), args.pop("targets"), **args)


def test_initial_scale_is_the_authors_statistic_of_the_untrained_hidden_states():
    s = dataclasses.replace(configs.sequel.PARITY_PAPER, width=16)
    rnn, _ = parity.build(s, 3)
    # the hidden states after the inputs "0" and "1" (rows), h0 = ones and zero biases: inputs x units
    manual = torch.relu(rnn.weight_ih_l0.T + rnn.weight_hh_l0.sum(1)).detach().double()
    # the authors' DataFrame.std().std(): each unit's std over the two inputs, then their std over the units
    authors = float(manual.std(dim=0, unbiased=True).std(unbiased=True))
    assert parity.initial_scale(s, 3) == pytest.approx(authors, rel=1e-6)
    assert parity.initial_scale(s, 3, statistic="all entries") == pytest.approx(float(manual.std()), rel=1e-6)
    assert parity.initial_scale(s, 3) < parity.initial_scale(s, 3, statistic="all entries")
    with pytest.raises(ValueError, match="seed"):
        parity.initial_scale(s, -1)
    with pytest.raises(ValueError, match="statistic"):
        parity.initial_scale(s, 3, statistic="mean")


def _sharing_reference(shared, gamma, seed, n, T, P, g, steps):
    """The proxy as its module docstring writes it, one network, plain full-batch gradient descent."""
    gen = torch.Generator().manual_seed(seed)
    y = torch.where(torch.rand(P, generator=gen) < 0.5, -1.0, 1.0)
    U = torch.randn(n, P, generator=gen).requires_grad_()
    Ws = [(torch.randn(n, n, generator=gen) * g).requires_grad_() for _ in range(1 if shared else T - 1)]
    v = torch.randn(n, generator=gen).requires_grad_()
    params = [U, v, *Ws]
    for step in range(steps + 1):
        h = torch.tanh(torch.eye(P) @ U.T)
        for t in range(T - 1):
            h = torch.tanh(h @ Ws[0 if shared else t].T / np.sqrt(n))
        loss = 0.5 * torch.mean((h @ v / (gamma * n) - y) ** 2)
        if step == steps:
            break
        with torch.no_grad():
            for p, gr in zip(params, torch.autograd.grad(loss, params)):
                p -= 0.5 * gamma**2 * n * gr
    return float(loss.detach()), max(float(np.max(np.abs(np.linalg.eigvals(w.detach().numpy() / np.sqrt(n)))))
                                     for w in Ws)


@pytest.mark.parametrize("shared", [True, False])
def test_weight_sharing_proxy_on_the_batched_engine_matches_a_plain_loop(shared):
    """One network on :func:`reptheory.networks.stack.train_stack` against plain gradient descent (float32
    rounding: the loss falls by four orders in 60 steps, so it is compared to 1e-4 of its size plus 1e-7)."""
    r = weight_sharing.train(shared, 2.0, 3, n=16, T=3, P=4, steps=60)
    loss, top = _sharing_reference(shared, 2.0, 3, 16, 3, 4, 1.2, 60)
    assert r.shared == shared and not r.diverged
    assert r.final_loss == pytest.approx(loss, rel=1e-4, abs=1e-7) and r.top_eig == pytest.approx(top, rel=1e-4)


@pytest.mark.parametrize("kw, match", [({"gamma": 0.0}, "gamma"), ({"gamma": float("inf")}, "gamma"),
                                       ({"T": 1}, "T"), ({"n": 2.5}, "n"), ({"seed": -1}, "seed")])
def test_weight_sharing_refuses_bad_settings(kw, match):
    args = {"shared": True, "gamma": 1.0, "seed": 0, "n": 16, "T": 3, "P": 4, "steps": 2} | kw
    with pytest.raises((ValueError, TypeError), match=match):
        weight_sharing.train(**args)


@pytest.mark.parametrize("lengths", [(1, 3), (3, 3), (0, 2)])
def test_length_pair_distance_equals_the_mean_over_explicit_pairs(lengths):
    from reptheory.sequel import algorithm
    s = configs.ParitySetting(width=5, max_len=3, epochs=2, track_every=1, track_long=False, seeds=(0,))
    r = parity_batch.train(s, 0)
    P = parity.prefix_index(3)
    par = [bin(v).count("1") % 2 for _, v in P]
    d = algorithm.length_pair_distance(r, *lengths)
    for key, same in (("agree", True), ("disagree", False)):
        pairs = [(i, j) for i, (a, _) in enumerate(P) for j, (b, _) in enumerate(P)
                 if (a, b) == lengths and i != j and (par[i] == par[j]) == same]
        brute = np.mean([((r.states[:, i].astype(float) - r.states[:, j]) ** 2).sum(1) for i, j in pairs], axis=0)
        np.testing.assert_allclose(d[key], brute, rtol=1e-10)
    with pytest.raises(ValueError, match="len2"):
        algorithm.length_pair_distance(r, 1, 4)
