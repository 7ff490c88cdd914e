"""The parity engine against a plain ``torch.nn.RNN`` loop with ``torch.optim`` (to float32 rounding), one trial
at a time; its records, its cache entries and its refusals."""
import dataclasses

import numpy as np
import pytest
import torch

from reptheory import configs
from reptheory.networks import stop
from reptheory.sequel import parity, parity_batch, parity_phase


def _reference(s, seed):
    """One trial as App. C.1 writes it: ``torch.nn.RNN``, ``torch.optim.SGD`` or ``Adam``, one shuffled loader per
    length; the loss over all training strings after every epoch, the stop rule on it, records every
    ``track_every`` epochs (the long strings at the first and last, or at every one with ``track_long``)."""
    torch.set_num_threads(1)
    rnn, out = parity.build(s, seed)
    params = list(rnn.parameters()) + list(out.parameters())
    opt = (torch.optim.SGD if s.optimizer == "sgd" else torch.optim.Adam)(params, lr=s.lr)
    data = parity._train_sets(s, seed)
    tensors = {L: (parity._onehot(x), torch.from_numpy(parity.parity(x))) for L, x in data.items()}
    gen = torch.Generator().manual_seed(seed)
    n = sum(len(x) for x in data.values())
    recs = []

    def loss_now():
        return sum(parity.evaluate(rnn, out, s.h0, x, s.loss)[0] * len(x) for x in data.values()) / n

    def record(e, loss, long):
        recs.append((e, loss, parity._prefix_states(rnn, s.h0, s.max_len),
                     {L: parity.evaluate(rnn, out, s.h0, x, s.loss) if long else (np.nan, np.nan)
                      for L, x in parity.long_strings().items()}))

    first = loss_now()
    record(0, first, True)
    stopped = ""
    for e in range(1, s.epochs + 1):
        for x, y in tensors.values():
            for idx in torch.randperm(len(x), generator=gen).split(s.batch_size):
                h = parity._hidden(rnn, x[idx], s.h0)[:, -1]
                loss = parity._loss(out(h), y[idx], s.loss)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
        cur = loss_now()
        stopped = stop.verdict(cur, first, s.stop_loss)
        if stopped or e == s.epochs:
            record(e, cur, True)
            break
        if e % s.track_every == 0:
            record(e, cur, s.track_long)
    return recs, stopped


def _compare(trials):
    batched = parity_batch.train_batch(trials)
    for (setting, seed), b in zip(trials, batched):
        recs, stopped = _reference(setting, seed)
        assert b.stopped == stopped and b.epochs.tolist() == [r[0] for r in recs]
        # float32 scale (README, "The rule for compared outputs"): the loss starts near 0.5, so 1e-7 is about two
        # float32 units of its initial size. The hidden states are compared after training: each of the two
        # loops rounds at every step, in its own reduction order, so the bound is two float32 units of the
        # states' size per epoch trained (on numba's generic target and torch's portable kernels: 2.0e-5 after 120
        # epochs of states up to 2.1, against this bound's 6.0e-5; the fixed 1e-5 used before failed there)
        np.testing.assert_allclose(b.train_loss, [r[1] for r in recs], rtol=1e-4, atol=1e-7)
        states = np.stack([r[2] for r in recs])
        scale = max(1.0, float(np.max(np.abs(states))))
        np.testing.assert_allclose(b.states, states, atol=2 * np.finfo(np.float32).eps * scale * setting.epochs)
        for L in parity.LONG_LENGTHS:
            np.testing.assert_allclose(b.long_acc[L], [r[3][L][1] for r in recs])
            np.testing.assert_allclose(b.long_loss[L], [r[3][L][0] for r in recs], rtol=1e-4)
    return batched


def test_trials_that_stop_at_different_epochs_match_single_runs():
    base = configs.ParitySetting(width=16, max_len=4, epochs=120, lr=0.3, stop_loss=0.02, track_every=120,
                                track_long=False, batch_size=4)
    runs = _compare([(dataclasses.replace(base, gain=g), seed) for g in (0.5, 1.0) for seed in (0, 1)])
    assert {r.stopped for r in runs} == {"converged", ""}          # some stop early, some reach the cap
    assert len({int(r.epochs[-1]) for r in runs}) >= 2


def test_cross_entropy_and_data_fractions_match_single_runs():
    base = configs.ParitySetting(width=12, max_len=5, epochs=15, frac=0.6, loss="ce", track_every=15,
                                track_long=False, batch_size=8)
    _compare([(dataclasses.replace(base, gain=g), seed) for g, seed in ((0.3, 0), (1.0, 2))])


def test_batched_runs_are_cached_per_trial(tmp_path, monkeypatch):
    monkeypatch.setenv("REPTHEORY_CACHE", str(tmp_path))
    s = configs.ParitySetting(name="tiny", width=8, max_len=3, epochs=3, track_every=3, track_long=False,
                             seeds=(0, 1))
    first = parity_batch.runs([s], n_jobs=1, progress=False)
    assert len(list((tmp_path / "parity_run").glob("*.npz"))) == 2
    again = parity_batch.runs([s], n_jobs=1, progress=False)
    for k in first:
        np.testing.assert_array_equal(first[k].states, again[k].states)
    out = parity_phase.outcomes(again, {(s.gain, s.frac): s})
    assert set(out) == {(0.1, 1.0, 0), (0.1, 1.0, 1)} and all(o.n_train == 14 for o in out.values())


def test_adam_tanh_and_records_along_training_match_single_runs():
    """Adam (whose moments a trial that sits a step out keeps: the two trials' data fractions give them different
    numbers of batches), the tanh recurrence, records every 4 epochs with the long strings at each."""
    base = configs.ParitySetting(width=10, max_len=4, epochs=10, frac=0.7, optimizer="adam", lr=0.01,
                                nonlinearity="tanh", track_every=4, track_long=True, batch_size=3)
    runs = _compare([(dataclasses.replace(base, gain=g), seed) for g, seed in ((0.5, 0), (1.0, 3))])
    assert [r.epochs.tolist() for r in runs] == [[0, 4, 8, 10]] * 2
    assert all(np.isfinite(r.long_acc[25]).all() for r in runs)


def test_records_between_the_ends_leave_out_the_long_strings_unless_asked():
    s = configs.ParitySetting(width=6, max_len=3, epochs=5, track_every=2, track_long=False)
    r = _compare([(s, 1)])[0]
    assert r.epochs.tolist() == [0, 2, 4, 5]
    assert np.isnan(r.long_acc[100][1:3]).all() and np.isfinite(r.long_acc[100][[0, -1]]).all()


def test_batched_engine_refuses_mixed_groups_and_bad_seeds():
    s = configs.ParitySetting(epochs=5, track_every=5, track_long=False)
    with pytest.raises(ValueError, match="differ only"):
        parity_batch.train_batch([(s, 0), (dataclasses.replace(s, lr=0.1), 0)])
    with pytest.raises(ValueError, match="seed"):
        parity_batch.train_batch([(s, -1)])
    with pytest.raises(ValueError, match="non-empty"):
        parity_batch.train_batch([])
    with pytest.raises(ValueError, match="group_size"):
        parity_batch.runs([s], group_size=0)


def test_transitions_bracket_the_data_axis():
    acc = {(1.0, p, s): a for s, row in enumerate(([0.5, 0.5, 1.0], [0.5, 1.0, 1.0], [0.5, 1.0, 0.6]))
           for p, a in zip((0.3, 0.5, 0.7), row)}
    t = parity_phase.transitions(acc)[1.0]
    assert t.brackets == ((0.5, 0.7), (0.3, 0.5), (0.7, float("inf")))
    assert t.estimate == float("inf") and (t.low, t.high) == (0.3, float("inf"))
    with pytest.raises(ValueError, match="missing"):
        parity_phase.transitions({(1.0, 0.3, 0): 1.0, (1.0, 0.5, 1): 1.0})
    assert parity_phase.grid(acc, [1.0], [0.3, 0.5, 0.7]).ravel().tolist() == [0.5, 1.0, 1.0]
