"""The book's figures are drawn at the column's width with text of at least 9 pt, axis labels on every panel
row, and colour bars on every matrix (checked on stand-in results)."""
from types import SimpleNamespace as NS

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from reptheory.presentation import phase_plots, plots  # noqa: E402


@pytest.fixture(autouse=True)
def _style():
    plots.style()
    yield
    plt.close("all")


def _traj(scale=1.0):
    t = np.arange(50.0)
    return NS(t=t, h2=scale * (1 - np.exp(-t / 10)), y2=scale * (1 - np.exp(-t / 8)), w=-scale * np.exp(-t / 9))


def _two_point(name, gain=1.0):
    m = NS(traj=_traj(), loss=np.exp(-np.arange(50.0) / 10) + 1e-3)
    return NS(setting=NS(name=name, gain=gain), measured=m, fit=NS(theory=_traj(1.01)), fit_message="",
              loss_theory=m.loss * 1.02)


def _texts(fig):
    return [t for t in fig.findobj(matplotlib.text.Text) if t.get_text().strip() and t.get_visible()]


def _check_column(fig):
    assert fig.get_size_inches()[0] == pytest.approx(plots.COLUMN)
    small = [(t.get_text(), t.get_fontsize()) for t in _texts(fig) if t.get_fontsize() < 9]
    assert not small, small


@pytest.mark.parametrize("panel", ["curves", "loss"])
def test_architecture_grid(panel):
    results = {f"net{k}": _two_point(f"net{k}") for k in range(11)}
    fig = plots.architecture_grid(results, panel)
    _check_column(fig)
    drawn = [ax for ax in fig.axes if ax.get_title()]
    assert len(drawn) == 11
    assert all(ax.get_ylabel() for ax in fig.axes if ax.get_subplotspec().is_first_col() and ax.get_title())


def test_probe_curves_cut_each_panel_after_the_transition():
    results = {f"net{k}": _two_point(f"net{k}") for k in range(6)}
    failed = _two_point("failed")
    failed.fit, failed.fit_message = None, "the optimum lies on the search boundary"
    results["failed"] = failed
    results["net1"].measured.loss = np.exp(-np.arange(50.0) / 3)     # below 1 % of its start from t = 14
    fig = plots.probe_curves(results)
    _check_column(fig)
    assert fig.axes[0].get_xlim()[1] == pytest.approx(49.0)    # slow loss (t = 48): the whole run
    assert fig.axes[1].get_xlim()[1] == pytest.approx(42.0)    # 3 × 14
    assert any("no theory" in t.get_text() for t in _texts(fig))


def test_gain_rows():
    fig = plots.gain_rows({g: _two_point("g", g) for g in (0.9, 1.1, 1.3, 1.4)})
    _check_column(fig)
    assert len(fig.axes) == 8 and all(ax.get_ylabel() for ax in fig.axes)


def test_final_distance_grid_labels_every_panel_and_has_a_colour_bar():
    pts = [NS(h2_final=0.1 * k + 0.1, predicted=0.1 * k + 0.12, dx=1.0, dy=0.25 * (k % 5), converged=k != 3)
           for k in range(25)]
    res = NS(points=pts, stats=lambda: {"pearson r": 0.9, "median |rel err|": 0.1})
    fig = plots.final_distance_grid({f"a{k}": res for k in range(10)}, [f"a{k}" for k in range(10)], 1.0)
    _check_column(fig)
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert len(panels) == 10 and all(ax.get_xlabel() and ax.get_ylabel() for ax in panels)
    assert len(fig.axes) == 11                       # the colour bar


def test_distance_matrices_have_colour_bars_and_a_blank_diagonal():
    D = np.array([[1e-10, 1.0, 2.0], [1.0, 0.0, 1.5], [2.0, 1.5, 0.0]])
    r = NS(D0=D, D_end=D * 0.5, D_theory=D * 0.4)
    fig = plots.distance_matrices({"a": r, "b": r}, ["p", "q", "s"])
    _check_column(fig)
    assert len(fig.axes) == 6 + 2
    written = [t.get_text() for t in fig.axes[0].texts]
    assert len(written) == 6 and "1e-10" not in written


def test_class_matrices_have_colour_bars():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 60)
    M = rng.random((60, 60))
    fig = plots.class_matrices({"a": M, "b": M, "c": M}, labels, np.argsort(labels, kind="stable"))
    _check_column(fig)
    assert len(fig.axes) == 3 + 3


def test_column_figure_refuses_bad_shapes():
    with pytest.raises(ValueError, match="nrows must be an integer >= 1, got 0"):
        plots.column_figure(0, 2)
    with pytest.raises(TypeError, match="ncols must be an integer >= 1, got 2.0"):
        plots.column_figure(1, 2.0)


def _phase_result(fit_ok=(True, True, True, False)):
    import reptheory as rt
    gains = np.array([0.9, 1.0, 1.1, 1.3])
    rows = ("gain_0.9", "default", "gain_1.1", "gain_1.3")
    dy = np.geomspace(0.25, 2.0, 9)
    eh, ey = np.array([[1e-3, 2e-3, 3e-3, 4e-3]]), np.array([[0.04, 0.03, 0.02, 0.01]])
    h0, y0 = np.array([1e-3, 1e-2, 1e-1, 0.5]), np.array([1e-6, 1e-4, 1e-2, 0.1])
    a_high = np.stack([rt.a_high(h0, y0, eh[0], ey[0], 1.0)] * dy.size, axis=-1)[None]
    points = [{"layer": 10, "row": r, "gain": g, "dy": 0.71, "h2_0": h, "h2_final": 0.1, "fitted": True}
              for r, g, h in zip(rows, gains, h0)]
    return NS(layers=(10,), gains=gains, rows=rows, dy=dy, eta_h=eh, eta_y=ey, fit_ok=np.array([fit_ok]),
              a_high=a_high, a_low=np.full((1, 4, dy.size), 0.05), points=points,
              h_inf=np.full((1, 4, dy.size), 0.1)), (h0, y0, eh[0], ey[0])


def test_phase_map_is_eq10_at_the_trained_gains_and_stops_at_a_failed_fit():
    import reptheory as rt
    res, (h0, y0, eh, ey) = _phase_result()
    m = phase_plots.phase_map(res, 10, n_gain=21)
    assert m["span"] == (0.9, 1.1)                        # gain 1.3's fit failed: not interpolated to
    for k, g in enumerate((0.9, 1.0, 1.1)):
        i = int(np.argmin(np.abs(m["gain"] - g)))
        np.testing.assert_allclose(m["h_inf"][i], rt.h_inf(h0[k], y0[k], eh[k], ey[k], 1.0, m["dy"] ** 2),
                                   rtol=1e-9)
    assert m["ratio"].shape == (21, 9) and np.all(m["ratio"] > 0)
    fig = phase_plots.phase_diagram(res, 10)
    _check_column(fig)


def test_phase_map_needs_two_converged_fits():
    res, _ = _phase_result(fit_ok=(True, False, False, False))
    assert phase_plots.phase_map(res, 10)["h_inf"] is None
