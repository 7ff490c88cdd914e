"""The controlled experiment on the Fig. 5 CNN's plateau (``lab.cnn_plateau``), its table and verdict
(``presentation.plateaus``) and its committed record (``presentation.records``), on small networks and stand-in
rows whose answer is known."""
import dataclasses
import json

import pytest
import torch

from reptheory.lab import cnn_plateau as cp
from reptheory.networks import models
from reptheory.presentation import plateaus, records

SMALL = dataclasses.replace(cp.CONVOLUTION, width=130)


def test_the_paper_form_is_the_paper_network_output_for_output():
    x = torch.tensor([[-1.0], [0.0], [0.7]])
    for seed in (0, 3):
        assert torch.equal(cp.CNN(SMALL, seed)(x), models.build(SMALL, 1, 1, seed)(x)[0])


def test_a_linear_form_differs_only_where_it_is_linear():
    x = torch.linspace(-3.0, 3.0, 13)[:, None]
    # seed 1: some of its one-channel pre-activations are negative at initialisation (for seeds 0 and 3 none are)
    one, middle = (cp.CNN(SMALL, 1, cp.linear_at(SMALL, v)) for v in cp.VARIANTS[1:])
    assert cp.linear_at(SMALL, cp.VARIANTS[1]) == SMALL.hidden_layers + 1 == len(one.layers) - 2
    assert cp.linear_at(SMALL, cp.VARIANTS[2]) == SMALL.layer
    for a, b in zip(one.parameters(), cp.CNN(SMALL, 1).parameters()):
        assert torch.equal(a, b)                          # the same initial weights in every form
    assert not torch.equal(one(x), cp.CNN(SMALL, 1)(x)) and not torch.equal(middle(x), one(x))


@pytest.mark.parametrize("kw, match", [
    ({"variant": "padded"}, "variant must be one of"),
])
def test_an_unknown_form_is_named(kw, match):
    with pytest.raises(ValueError, match=match):
        cp.linear_at(SMALL, kw["variant"])


@pytest.mark.parametrize("linear,error", [(-1, ValueError), (12, ValueError), (True, TypeError), (1.0, TypeError)])
def test_a_bad_linear_index_is_named(linear, error):
    """Out of range: ValueError; not an integer: TypeError (the one rule of reptheory.validate)."""
    with pytest.raises(error, match=r"linear must be an integer in \[0, 11\], got "):
        cp.CNN(SMALL, 0, linear)


def test_a_setting_that_is_not_a_cnn_is_refused():
    with pytest.raises(ValueError, match="setting.arch must be 'cnn'"):
        cp.CNN(dataclasses.replace(SMALL, arch="mlp"), 0)


@pytest.mark.parametrize("kw, match", [({"width": 110}, "width must be an integer >= 111"),
                                       ({"seeds": (0, -1)}, r"seeds\[1\] must be an integer >= 0"),
                                       ({"seeds": ()}, "seeds must be a non-empty sequence"),
                                       ({"variants": ("as in the paper", "x")}, "variant must be one of"),
                                       ({"epochs": 1}, "epochs must be an integer >= 2")])
def test_bad_runs_arguments_are_named_before_training(kw, match):
    with pytest.raises(ValueError, match=match):
        cp.runs(**kw)


@pytest.mark.parametrize("seeds", [5, "01", (0, True), (0, 1.0)])
def test_seeds_that_are_not_integers_are_named(seeds):
    with pytest.raises(TypeError, match=r"seeds(\[1\])? must be"):
        cp.runs(seeds=seeds)


def test_runs_give_one_row_per_seed_and_form(tmp_path, monkeypatch):
    monkeypatch.setenv("REPTHEORY_CACHE", str(tmp_path))
    rows = cp.runs(width=115, seeds=(0, 1), epochs=20, n_jobs=1)
    assert [(r["variant"], r["seed"]) for r in rows] == [(v, s) for v in cp.VARIANTS for s in (0, 1)]
    for r in rows:
        assert r["epochs"] == 20 and r["stuck"] == (r["final loss"] > 1e-2) and not r["diverged"]


def test_a_runs_row_does_not_depend_on_the_batch_it_trains_in(tmp_path, monkeypatch):
    """The jobs of runs() batch at most CHUNK seeds: while every network of a batch trains (no run stops early
    here), seeds 0-4 in one batch and in batches of 2 and 3 give the same rows, to the last bit."""
    monkeypatch.setenv("REPTHEORY_CACHE", str(tmp_path))
    together = cp.runs(width=115, seeds=tuple(range(5)), variants=cp.VARIANTS[:2], epochs=30, n_jobs=1)
    monkeypatch.setattr(cp, "CHUNK", 3)
    split = cp.runs(width=115, seeds=tuple(range(5)), variants=cp.VARIANTS[:2], epochs=30, n_jobs=1)
    assert together == split and len(together) == 10


def _rows(columns):
    return [{"variant": v, "seed": k, "stuck": bool(s), "epochs": 1000 + k}
            for v, col in zip(cp.VARIANTS, columns) for k, s in enumerate(col)]


def test_the_paired_test_counts_freed_and_caught_seeds():
    rows = _rows(([1, 1, 1, 1, 1, 0, 0], [0, 0, 0, 0, 0, 0, 1], [1, 1, 1, 1, 1, 0, 0]))
    t = cp.paired_test(rows, cp.VARIANTS[1])
    assert (t["seeds"], t["freed"], t["caught"]) == (7, 5, 1) and t["p"] == pytest.approx(7 / 64)
    assert cp.paired_test(rows, cp.VARIANTS[2])["p"] == 1.0
    assert cp.stuck_counts(rows) == {cp.VARIANTS[0]: (5, 7), cp.VARIANTS[1]: (1, 7), cp.VARIANTS[2]: (5, 7)}
    with pytest.raises(ValueError, match="no seed ran in both"):
        cp.paired_test(rows, "another form")


@pytest.mark.parametrize("columns, verdict", [
    (([1] * 6 + [0] * 4, [0] * 10, [1] * 6 + [0] * 4), "the one-channel layer's activation"),
    (([1] * 6 + [0] * 4, [0] * 10, [0] * 10), "any linear layer"),
    (([1] * 6 + [0] * 4, [1] * 6 + [0] * 4, [1] * 6 + [0] * 4), "not the one-channel layer"),
    (([1] * 4 + [0] * 6, [0] * 10, [1] * 4 + [0] * 6), "undecided: too few stuck runs"),
])
def test_the_verdict_reads_the_two_paired_tests(columns, verdict):
    rows = _rows(columns)
    assert plateaus.cnn_verdict(rows) == verdict
    table = plateaus.cnn_forms(rows)
    assert [r["form"] for r in table] == list(cp.VARIANTS) and table[0]["p"] == "–"
    assert table[0]["stuck"] == f"{sum(columns[0])} of 10"


def test_the_committed_record_loads_and_a_broken_one_is_named(tmp_path):
    rec = records.cnn_plateau_record(500)
    assert rec["width"] == 500 and {r["variant"] for r in rec["rows"]} == set(cp.VARIANTS)
    (tmp_path / "width500-cpu.json").write_text(json.dumps({"width": 500, "rows": []}))
    with pytest.raises(ValueError, match=r"width500-cpu.json: the record lacks \['settings', 'provenance'\]"):
        records.cnn_plateau_record(500, tmp_path)
    with pytest.raises(ValueError, match="not a readable JSON record"):
        records.cnn_plateau_record(150, tmp_path)
