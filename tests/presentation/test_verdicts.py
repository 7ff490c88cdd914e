"""Fig. 5's nulls and the statistics over seed sets (reptheory.presentation.verdicts)."""
import numpy as np
import pytest

from reptheory.presentation import records, verdicts
from reptheory.theory import ode

DX, DY = np.repeat([0.5, 0.75, 1.0, 1.25, 1.5], 4), np.tile([0.25, 0.5, 0.75, 1.0], 5)
H0, Y0 = 0.01 * DX**2, np.full(20, 1e-6)
ETA_H, ETA_Y = 1e-3, 1e-2
NOISE = np.exp(0.02 * np.sin(3.0 * np.arange(20)))


def test_networks_that_follow_eq10_beat_both_nulls_and_bear_out_its_dx_term():
    meas = ode.h_inf(H0, Y0, ETA_H, ETA_Y, DX**2, DY**2) * NOISE
    n = verdicts.fig5_nulls(DX, DY, H0, Y0, meas, ETA_H, ETA_Y)
    assert n.verdict_nulls == "Eq. 10 predicts better than both nulls" and n.verdict_dx == "borne out"
    assert n.err["Eq. 10"] < 0.03 < min(n.err["Eq. 10 at ‖Δx‖ = 1"], n.err["‖Δy‖ alone"])


def test_a_final_distance_that_ignores_dx_is_found_by_the_nulls():
    """The default network's pattern at the paper's protocol: the final distance grows like ||Δx||^0.25."""
    meas = 0.05 * DX**0.25 * DY * NOISE
    n = verdicts.fig5_nulls(DX, DY, H0, Y0, meas, ETA_H, ETA_Y)
    assert n.verdict_dx == "not borne out" and n.a_high < 0.5 and abs(n.a_eq10 - 1) < 0.1
    assert n.verdict_nulls == f"the null '{n.best_null}' predicts better than Eq. 10"


def test_a_point_at_the_edge_of_an_interval_decides_nothing():
    base = verdicts.fig5_nulls(DX, DY, H0, Y0, ode.h_inf(H0, Y0, ETA_H, ETA_Y, DX**2, DY**2) * NOISE, ETA_H, ETA_Y)
    half = (base.a_high - base.a_low) / 2
    import dataclasses
    edge = dataclasses.replace(base, a_eq10=base.a_high + 0.05 * half)
    out = dataclasses.replace(base, a_eq10=base.a_high + 0.5 * half)
    assert (edge.verdict_dx, out.verdict_dx) == ("undecided", "not borne out")


def test_the_nulls_of_a_committed_record_use_the_runs_its_statistics_use():
    rec = records.profile_records(records.fig5_records(), "paper")["default"]
    n = verdicts.nulls_of(rec)
    assert n.n == len(rec.arrays()[0])
    assert n.r["Eq. 10"] == pytest.approx(rec.stats["pearson r"], abs=1e-6)
    assert n.a == pytest.approx(rec.scaling["a (dx)"], abs=1e-9)


@pytest.mark.parametrize("args,match", [
    ((DX[:5], DY[:5], H0[:5], Y0[:5], H0[:5]), "at least 6 runs"),
    ((DX, DY[:-1], H0, Y0, H0), "one value per run"),
    ((DX, DY * 0, H0, Y0, H0), "positive"),
])
def test_bad_runs_are_named(args, match):
    with pytest.raises(ValueError, match=match):
        verdicts.fig5_nulls(*args, ETA_H, ETA_Y)


def test_a_statistic_over_seed_sets_is_decided_only_beyond_its_spread():
    s = verdicts.over_seed_sets([0.80, 0.84, 0.82])
    assert (s.against(0.5, ">="), s.against(0.85, ">="), s.against(0.95, ">=")) == ("passes", "undecided", "fails")
    assert (s.against(0.9, "<="), s.against(0.5, "<=")) == ("passes", "fails")
    for bad in ([0.8], [[0.8, 0.9]], [0.8, np.nan]):
        with pytest.raises(ValueError, match="values must"):
            verdicts.over_seed_sets(bad)
    with pytest.raises(ValueError, match="op must be"):
        s.against(0.5, ">")


def test_a_shift_over_seeds_is_an_exact_permutation_test_over_the_seeds():
    # 3 against 3 seeds: 20 splits; the observed split and its tie (the two 0.4s swapped) are the 2 extreme ones
    s = verdicts.shift_over_seeds([0.6, 0.4, 0.6], [0.4, 0.15, 0.15])
    assert (s.p, s.p_min, s.verdict) == (pytest.approx(2 / 20), pytest.approx(1 / 20), "undecided: too few seeds")
    # 4 against 4, fully separated: the most extreme of 70 splits
    s = verdicts.shift_over_seeds([7, 5.5, 7, 7], [3.5, 4.5, 3.5, 3.5])
    assert (s.p, s.verdict) == (pytest.approx(1 / 70), "significant")
    # the same values the other way round: no shift
    assert verdicts.shift_over_seeds([3.5, 4.5, 3.5, 3.5], [7, 5.5, 7, 7]).p == pytest.approx(1.0)
    # interleaved groups with enough seeds to decide (p_min 1/924): no shift, undecided
    s = verdicts.shift_over_seeds([1.5, 2.5, 3.5, 4.5, 5.5, 6.5], [1, 2, 3, 4, 5, 6])
    assert s.p > 0.2 and s.p_min < 0.05 and s.verdict == "undecided"
    for bad in ([1.0], [1.0, np.inf], [[1.0, 2.0]]):
        with pytest.raises(ValueError, match="larger must hold"):
            verdicts.shift_over_seeds(bad, [1.0, 2.0])


def test_bar_rows_count_the_misses_and_decide_only_beyond_two_spreads():
    rows = verdicts.bar_rows({"tight": [0.10, 0.11, 0.12], "near": [0.25, 0.35, 0.3], "far": [0.6, 0.62, 0.61]},
                             0.30, "<=", "networks")
    assert [r["verdict"] for r in rows] == ["passes", "undecided", "fails"]
    assert [r["networks missing it"] for r in rows] == ["0 of 3", "1 of 3", "3 of 3"]
    assert rows[0]["mean ± sd over the networks"] == "0.11 ± 0.01" and rows[0]["bar"] == "≤\u00a00.3"
    assert verdicts.bar_rows({"x": [0.6, 0.7]}, 0.5, ">=")[0]["seeds missing it"] == "0 of 2"
    with pytest.raises(ValueError, match="op must be"):
        verdicts.bar_rows({"x": [1, 2]}, 0.5, "<")
    with pytest.raises(ValueError, match="at least 2"):
        verdicts.bar_rows({"x": [1.0]}, 0.5, "<=")
