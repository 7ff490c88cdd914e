"""The width sweep of the lab chapter (``lab.width``), its figure and tables (``presentation.width_plots``), the
shared power-law helper (``reptheory.stats``) and the paired test over seeds (``presentation.verdicts``), on a
short sweep of small networks and on arrays whose answer is known."""
import numpy as np
import pytest

from reptheory import stats
from reptheory.lab import width, zoo
from reptheory.presentation import verdicts, width_plots
from reptheory.theory import ode


@pytest.fixture(scope="module")
def short():
    # two small widths, three seeds, a short budget: every run path (scale rule, fits, held out, half step)
    return width.sweep("mixer", widths=(8, 16), seeds=3, lr=1e-3, epochs=400, n_jobs=1, progress=False)


def test_sequence_sets_the_width_and_keeps_everything_else():
    a, b = zoo.sequence("transformer", 16), zoo.ZOO["transformer"]
    assert (a.name, a.in_shape, a.layer, a.description) == (b.name, b.in_shape, b.layer, b.description)
    net = zoo.sequence("transformer", 48).build(0, 0.25)
    assert net.embed.out_features == 48 and net.blocks[0].mlp.up.out_features == 96
    for x, y in zip(a.build(3, 0.5).parameters(), b.build(3, 0.5).parameters()):
        assert x.shape == y.shape and bool((x == y).all())


@pytest.mark.parametrize("args, error, words", [
    (("resnet", 16), ValueError, "name must be one of"),
    (("transformer", 15), ValueError, "must be even"),
    (("mixer", 1), ValueError, "d must be an integer >= 2"),
    (("mixer", 16.0), TypeError, "d must be an integer"),
])
def test_a_bad_sequence_is_refused_by_name(args, error, words):
    with pytest.raises(error, match=words):
        zoo.sequence(*args)


@pytest.mark.parametrize("kw, error, words", [
    ({"name": "GELU MLP"}, ValueError, "name must be one of"),
    ({"name": "mixer", "widths": ()}, ValueError, "at least one width"),
    ({"name": "mixer", "widths": (16, 1)}, ValueError, "widths must be an integer >= 2"),
    ({"name": "mixer", "seeds": 1}, ValueError, "seeds must be an integer >= 2"),
])
def test_a_bad_sweep_is_refused_before_training(kw, error, words):
    with pytest.raises(error, match=words):
        width.sweep(**{"lr": 1e-3, "epochs": 10, **kw})


def test_sweeps_of_several_architectures_give_each_ones_sweep():
    # one pool over both architectures and every width, widest first: each width's runs where one sweep of
    # that architecture finds them (the sweeps alone read the pool's batches from the cache, by their keys)
    kw = {"widths": (8, 10), "seeds": 2, "lr": 1e-3, "epochs": 100, "progress": False}
    both = width.sweeps(("transformer", "mixer"), n_jobs=2, **kw)
    assert list(both) == ["transformer", "mixer"]

    def runs(sw):       # every run's final loss and ||Δh||², width by width, with the chosen scale
        out = []
        for a in sw.at:
            rs = (*a.fits, *a.held_out, *([a.half_step] if a.half_step is not None else []))
            out.append((a.width, a.scale, repr(a.tried),
                        [repr((float(r.loss[-1]), float(r.measured.traj.h2[-1]))) for r in rs]))
        return out

    for name in both:
        assert runs(both[name]) == runs(width.sweep(name, n_jobs=1, **kw))
    assert runs(both["mixer"]) != runs(both["transformer"])
    with pytest.raises(ValueError, match="name must be one of"):
        width.sweeps(("mixer", "GELU MLP"), lr=1e-3, epochs=10)


def test_the_step_rule_keeps_the_time_and_lowers_the_rate_above_its_width():
    assert width.step(1e-3, 10000, width.LR_WIDTH) == (1e-3, 10000)
    assert width.step(1e-3, 10000, 16) == (1e-3, 10000)
    lr, epochs = width.step(1e-3, 10000, 4 * width.LR_WIDTH)
    assert lr == pytest.approx(2.5e-4) and epochs == 40000 and lr * epochs == pytest.approx(10.0)


def test_a_sweep_holds_every_run_and_its_values_per_seed(short):
    assert short.widths == (8, 16)
    for a in short.at:
        assert a.scale in (0.25, 0.5, 1.0, 2.0, 4.0) and len(a.tried) == 5
        assert len(a.fits) == 3 and len(a.held_out) == len(width.HELD_OUT) and a.half_step is not None
        assert np.isfinite(a.step_error())
    for key in width.KEYS:
        v = short.values(key)
        assert v.shape == (2, len(width.HELD_OUT) if key.startswith("held") else 3)
    with pytest.raises(ValueError, match="key must be one of"):
        short.values("nonsense")


def test_the_held_out_networks_are_other_seeds_at_other_distances(short):
    ref = short.at[0].fits[0].measured
    assert (ref.dx2, ref.dy2) == pytest.approx((1.0, 0.5))
    for r, (dx, dy) in zip(short.at[0].held_out, width.HELD_OUT):
        assert (r.measured.dx2, r.measured.dy2) == pytest.approx((dx ** 2, dy ** 2))
        assert r.fit is None                                      # never fitted: predicted only
    assert (dx, dy) != (1.0, np.sqrt(0.5))


def test_leave_one_out_uses_the_other_seeds_rates_only(short):
    a = short.at[-1]
    got = a.values("other seeds")
    for k, r in enumerate(a.fits):
        others = [(q.fit.eta_h, q.fit.eta_y) for j, q in enumerate(a.fits)
                  if j != k and q.fit is not None and q.fit.identifiable and q.converged]
        if not r.converged or not others:
            assert np.isnan(got[k])
            continue
        eh, ey = np.mean(others, axis=0)
        m = r.measured
        want = abs(ode.h_inf(m.traj.h2[0], m.traj.y2[0], eh, ey, m.dx2, m.dy2) / m.traj.h2[-1] - 1)
        assert got[k] == pytest.approx(want)
    lazy = a.values("lazy null")
    for k, r in enumerate(a.fits):
        h2 = r.measured.traj.h2
        assert np.isnan(lazy[k]) if not r.converged else lazy[k] == pytest.approx(abs(h2[0] / h2[-1] - 1))


def test_against_a_bar_says_where_the_seeds_sit():
    vals = [[0.1, 0.2, 0.05], [0.3, 0.1, np.nan], [0.4, 0.5, 0.6], [np.nan, np.nan, np.nan]]
    assert width.against(vals, 0.25) == ["all within", "both sides", "all beyond", "no value"]
    assert width.against([[0.25, 0.1]], 0.25) == ["all within"]             # at the bar counts as within


def test_the_tables_and_the_figure_draw_a_short_sweep(short):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rows = width_plots.rows(short, 1e-3)
    assert [r["width"] for r in rows] == [8, 16] and all(r["learning rate"] == "0.001" for r in rows)
    slope_rows = width_plots.slopes({"mixer": short}, keys=("moved",))
    assert "exponent" in list(slope_rows[0])[1]
    fig = width_plots.figure({"mixer": short})
    assert len(fig.axes) == 2
    plt.close(fig)
    assert "lr·64/width" in width_plots.settings(1e-3, 10000)


def test_log_slope_finds_a_power_law_and_its_bootstrap_covers_it():
    rng = np.random.default_rng(1)
    x = np.array([16, 32, 64, 128, 256])
    v = x[:, None] ** -1.0 * np.exp(0.1 * rng.standard_normal((5, 8)))
    assert stats.log_slope(x, v) == pytest.approx(-1.0, abs=0.05)
    lo, hi = stats.log_slope_interval(x, v)
    assert lo < -1.0 < hi and hi - lo < 0.3
    v[2, :5] = np.nan                                             # runs without a value are left out
    assert stats.log_slope(x, v) == pytest.approx(-1.0, abs=0.05)
    assert np.isfinite(stats.log_slope_interval(x, v)).all()


@pytest.mark.parametrize("x, v, words", [
    ([16], [[1.0]], "at least two positive sizes"),
    ([16, -2], [[1.0], [1.0]], "at least two positive sizes"),
    ([16, 32], [[1.0], [1.0], [1.0]], "v must be"),
])
def test_log_slope_refuses_bad_arrays(x, v, words):
    with pytest.raises(ValueError, match=words):
        stats.log_slope(x, v)


def test_the_paired_test_reads_the_same_seeds_and_ignores_missing_ones():
    s = verdicts.paired_over_seeds([0.5, 0.6, 0.4, 0.7, 0.5, 0.6], [0.1, 0.2, 0.1, 0.2, 0.1, 0.1])
    assert s.verdict == "significant" and s.p == pytest.approx(1 / 64) and s.p_min == pytest.approx(1 / 64)
    # one seed reversed: 2 of 64 sign patterns reach the observed mean or more
    s = verdicts.paired_over_seeds([0.5, 0.6, 0.4, 0.7, 0.5, 0.0], [0.1, 0.2, 0.1, 0.2, 0.1, 0.1])
    assert s.p > 1 / 64
    assert verdicts.paired_over_seeds([0.5, np.nan, 0.4], [0.1, 0.2, 0.1]).p_min == pytest.approx(0.25)
    with pytest.raises(ValueError, match="the same seeds"):
        verdicts.paired_over_seeds([0.5, 0.4], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="at least 2 seeds"):
        verdicts.paired_over_seeds([0.5, np.nan], [0.1, 0.2])
