"""The batched parity engine gives every trial the run the single-trial engine gives it (to float32 rounding)."""
import dataclasses

import numpy as np
import pytest

from reptheory import configs
from reptheory.sequel import parity, parity_batch, parity_phase


def _compare(trials):
    batched = parity_batch.train_batch(trials)
    single = [parity.train(s, seed) for s, seed in trials]
    for (setting, _), b, s in zip(trials, batched, single):
        assert b.stopped == s.stopped and b.epochs.tolist() == s.epochs.tolist()
        # float32 scale (README, "The rule for compared outputs"): the loss starts near 0.5, so 1e-7 is about two
        # float32 units of its initial size. The hidden states are compared after training: each of the two
        # engines rounds at every step, in its own reduction order, so the bound is two float32 units of the
        # states' size per epoch trained (on numba's generic target and torch's portable kernels: 2.0e-5 after 120
        # epochs of states up to 2.1, against this bound's 6.0e-5; the fixed 1e-5 used before failed there)
        np.testing.assert_allclose(b.train_loss, s.train_loss, rtol=1e-4, atol=1e-7)
        scale = max(1.0, float(np.max(np.abs(s.states))))
        np.testing.assert_allclose(b.states, s.states, atol=2 * np.finfo(np.float32).eps * scale * setting.epochs)
        for L in parity.LONG_LENGTHS:
            np.testing.assert_allclose(b.long_acc[L], s.long_acc[L])
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
    assert len(list((tmp_path / "parity_run_batched").glob("*.npz"))) == 2
    again = parity_batch.runs([s], n_jobs=1, progress=False)
    for k in first:
        np.testing.assert_array_equal(first[k].states, again[k].states)
    out = parity_phase.outcomes(again, {(s.gain, s.frac): s})
    assert set(out) == {(0.1, 1.0, 0), (0.1, 1.0, 1)} and all(o.n_train == 14 for o in out.values())


@pytest.mark.parametrize("change, match", [
    ({"optimizer": "adam"}, "plain SGD"), ({"nonlinearity": "tanh"}, "ReLU"), ({"track_every": 1}, "track_every"),
    ({"track_long": True}, "track_long"),
])
def test_batched_engine_refuses_what_it_does_not_cover(change, match):
    s = dataclasses.replace(configs.ParitySetting(epochs=5, track_every=5, track_long=False), **change)
    with pytest.raises(ValueError, match=match):
        parity_batch.train_batch([(s, 0)])


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
