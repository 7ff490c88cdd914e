"""The weight-sharing tests (arXiv:2602.15593): their settings, the Langevin sampler and the two verdicts."""
import dataclasses

import numpy as np
import pytest
import torch

from reptheory import cache
from reptheory.configs.sharing import SHARING_INTERPOLATION, SHARING_TRANSITION, SharingSetting, described
from reptheory.sequel import langevin, sharing_tests

TINY = dataclasses.replace(SHARING_TRANSITION, widths=(8,), signals=(1.0, 4.0), seeds=(0, 1), langevin_steps=40,
                           every=10)


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("REPTHEORY_CACHE", str(tmp_path))


@pytest.mark.parametrize("field, value", [("task", "parity"), ("widths", (0,)), ("widths", ()), ("signals", (-1.0,)),
                                          ("signals", (float("nan"),)), ("supervised", (0, 2)),
                                          ("supervised", (7,)), ("supervised", (2, 2)), ("time_steps", 1),
                                          ("every", 5000), ("gain", 0), ("seeds", (-1,)), ("step_size", "0.1")])
def test_bad_settings_name_the_field_and_value(field, value):
    with pytest.raises(ValueError, match=f"{field} = {value!r}".replace("(", r"\(").replace(")", r"\)")):
        dataclasses.replace(SHARING_TRANSITION, **{field: value})


def test_lists_become_tuples_and_the_run_fields_leave_the_axes_out():
    st = dataclasses.replace(SHARING_TRANSITION, widths=[8], signals=[1.0], seeds=[0], supervised=[6])
    assert st.widths == (8,) and st.signals == (1.0,) and st.seeds == (0,) and st.supervised == (6,)
    assert not {"widths", "signals", "seeds", "note", "name"} & set(st.run_fields())


def test_every_field_is_described_and_the_paper_unknown_unless_the_abstract_says():
    rows = described(SHARING_INTERPOLATION)
    assert {r["field"] for r in rows} == {f.name for f in dataclasses.fields(SharingSetting)} - {"name", "note"}
    assert all(r["meaning"] for r in rows)
    paper = {r["field"]: r["paper"] for r in rows}
    assert paper["gain"] == paper["omega"] == "unknown" and "mean-field" in paper["widths"]
    assert next(r for r in rows if r["field"] == "supervised")["value"] == "1, 2, 3, 6, 7, 8"


def test_targets():
    y = langevin.targets(SHARING_TRANSITION)
    assert y.shape == (6, 16) and not y[:-1].any() and set(np.abs(y[-1])) == {1.0}
    s = langevin.targets(SHARING_INTERPOLATION)
    assert np.allclose(s[2, 0], np.sin(2 * np.pi / 8 * 2)) and np.allclose(s[0, 2], np.sin(2 * np.pi * 2 / 8))


def test_the_overlap_is_one_for_a_repeated_state_and_small_for_independent_ones():
    g = torch.Generator().manual_seed(0)
    h = torch.randn(1, 2000, 6, generator=g)
    Y, f, mask = torch.zeros(4, 6), torch.zeros(1, 4, 6), torch.ones(4)
    same = langevin._observe([h] * 4, Y, f, mask)
    assert np.isclose(float(same["overlap"][0]), 1.0) and np.isclose(float(same["cka"][0]), 1.0)
    rotated = [h, h, h[:, torch.randperm(2000, generator=g)], h]       # same kernel, other neurons
    sharing_obs = langevin._observe(rotated, Y, f, mask)
    assert float(sharing_obs["cka"][0]) > 0.99 and float(sharing_obs["overlap"][0]) < 0.7
    indep = langevin._observe([torch.randn(1, 2000, 6, generator=g) for _ in range(4)], Y, f, mask)
    assert float(indep["overlap"][0]) < 0.1


def test_a_chain_is_reproducible_and_both_networks_start_from_the_same_weights():
    a = langevin._run(TINY, True, 8, 0)
    b = langevin._run(TINY, True, 8, 0)
    assert all(np.array_equal(a[k], b[k], equal_nan=True) for k in a)
    assert set(a) == set(sharing_tests.OBSERVABLES) and a["step_error"].shape == (2, 6)
    zero = dataclasses.replace(TINY, langevin_steps=2, every=1, step_size=1e-12)   # no move: the initial weights
    rnn, dnn = langevin._run(zero, True, 8, 0), langevin._run(zero, False, 8, 0)
    assert np.allclose(rnn["step_error"][:, :2], dnn["step_error"][:, :2])     # h_1, h_2 identical
    assert not np.allclose(rnn["step_error"][:, 2:], dnn["step_error"][:, 2:])


def test_a_strong_signal_fits_the_labels_and_a_weak_one_samples_near_the_prior():
    st = dataclasses.replace(SHARING_TRANSITION, widths=(16,), signals=(0.05, 20.0), seeds=(0,),
                             langevin_steps=1500)
    r = langevin._run(st, True, 16, 0)
    assert r["loss"][1] < 0.2 < 0.8 < r["loss"][0] and r["alignment"][1] > r["alignment"][0]


def test_a_diverged_chain_is_flagged_and_counted():
    st = dataclasses.replace(TINY, step_size=50.0, signals=(1.0,), seeds=(0,))
    out = sharing_tests.chains(st, n_jobs=1, progress=False)
    assert out["diverged"].all() and out["diverged_count"] == 2 and np.isnan(out["overlap"]).all()


def test_sample_checks_its_arguments_and_a_new_note_keeps_the_cache():
    with pytest.raises(ValueError, match="width must be one of"):
        langevin.sample(TINY, True, 9, 0)
    with pytest.raises(ValueError, match="seed must be one of"):
        langevin.sample(TINY, True, 8, 7)
    with pytest.raises(TypeError, match="shared must be"):
        langevin.sample(TINY, 1, 8, 0)
    langevin.sample(TINY, True, 8, 0)
    reworded = dataclasses.replace(TINY, name="other", note="reworded", widths=(8, 16), signals=TINY.signals)
    desc = {"setting": reworded.run_fields(), "signals": list(reworded.signals), "shared": True, "width": 8,
            "seed": 0}
    assert cache.exists("langevin_run", desc)


def _runs(rnn, dnn, key="overlap"):
    """A runs dict of one width from per-(signal, seed) arrays of each network."""
    return {key: np.array([[rnn], [dnn]])}


def test_the_threshold_is_where_the_gap_clears_its_no_signal_value_for_good():
    st = dataclasses.replace(SHARING_TRANSITION, widths=(8,), signals=(0.5, 1.0, 2.0, 4.0), seeds=(0, 1, 2))
    dnn = np.full((4, 3), 0.03) + [0.0, 0.001, -0.001]
    rnn = np.array([[0.07, 0.072, 0.068], [0.07, 0.071, 0.069], [0.4, 0.42, 0.41], [0.5, 0.52, 0.49]])
    tr = sharing_tests.Transition(st, _runs(rnn, dnn))
    assert tr.departed(8).tolist() == [False, False, True, True] and tr.threshold(8) == (1.0, 2.0)
    flat = sharing_tests.Transition(st, _runs(np.full((4, 3), 0.07) + [0, 0.01, -0.01], dnn))
    assert flat.threshold(8) == (None, float("inf"))
    dips = rnn.copy()
    dips[3] = [0.07, 0.072, 0.068]                      # departed at 2 but not at 4: not for good
    assert sharing_tests.Transition(st, _runs(dips, dnn)).threshold(8) == (None, float("inf"))
    noisy = rnn.copy()
    noisy[2] = [0.07, 0.4, 0.9]                         # a mean gap within three seed sds is not a departure
    assert sharing_tests.Transition(st, _runs(noisy, dnn)).departed(8)[2] == False  # noqa: E712


def _interp(rnn, dnn):
    st = dataclasses.replace(SHARING_INTERPOLATION, seeds=tuple(range(len(rnn))))
    err = np.zeros((2, 1, 1, len(rnn), 8))
    err[0, 0, 0, :, 3:5] = np.asarray(rnn)[:, None]
    err[1, 0, 0, :, 3:5] = np.asarray(dnn)[:, None]
    return sharing_tests.Interpolation(st, {"step_error": err})


def test_the_interpolation_verdict_needs_significance_and_a_margin():
    verdict, p = _interp([0.1, 0.12, 0.11, 0.13, 0.1], [1.0, 0.9, 1.1, 1.05, 0.95]).verdict()
    assert verdict == "RNN" and np.isclose(p, 1 / 252)
    assert _interp([1.0, 0.9, 1.1, 1.05, 0.95], [0.1, 0.12, 0.11, 0.13, 0.1]).verdict()[0] == "DNN"
    assert _interp([0.5, 0.6, 0.4, 0.55, 0.45], [0.52, 0.58, 0.43, 0.6, 0.5]).verdict()[0] == "undecided"
    # significant ranks but a gap inside three seed sds: undecided
    assert _interp([0.1, 0.2, 0.3, 0.4, 0.5], [0.51, 0.6, 0.7, 0.8, 0.9]).verdict()[0] == "undecided"
    ip = _interp([0.1] * 5, [1.0] * 5)
    assert np.allclose(ip.errors(0, supervised=True), 0.0) and np.allclose(ip.errors(1, supervised=False), 1.0)


def test_each_claim_refuses_the_other_claims_setting():
    with pytest.raises(ValueError, match="task = 'sequence'"):
        sharing_tests.transition(SHARING_INTERPOLATION)
    with pytest.raises(ValueError, match="task = 'endpoint'"):
        sharing_tests.interpolation(SHARING_TRANSITION)
    with pytest.raises(ValueError, match="leaves no step out"):
        sharing_tests.interpolation(dataclasses.replace(SHARING_INTERPOLATION, supervised=tuple(range(1, 9))))
