"""Precomputed sliders and the theory explorer."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from reptheory.presentation import explorer, widgets


def _draw(a, b):
    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([0, 1], [0, a * b])
    ax.set_ylim(0, 10)
    return fig


def test_frames_cover_the_product_and_every_slider_moves():
    s = widgets.FrameSlider(_draw, {"a": (1, 2, 3), "b": (1.0, 2.0)}, labels={"a": "A"}, initial={"a": 1})
    assert s.shape == (3, 2) and len(s.frames) == 6
    assert s.initial_index == (0, 1)
    assert s.moves() == {"a": True, "b": True}
    assert s.frames[s.index(a=3, b=1.0)] == s.frames[np.ravel_multi_index((2, 0), (3, 2))]
    assert all(f[:8] == b"\x89PNG\r\n\x1a\n" for f in s.frames)


def test_a_slider_that_changes_nothing_is_reported():
    s = widgets.FrameSlider(lambda a, b: _draw(a, 1.0), {"a": (1, 2), "b": (0, 1)})
    assert s.moves() == {"a": True, "b": False}


def test_html_is_self_contained_and_deterministic():
    s = widgets.FrameSlider(_draw, {"a": (1, 2), "b": (1, 3)})
    h = s._repr_html_()
    assert h.count('type="range"') == 2 and "data:image/png;base64," in h
    assert "http" not in h                       # no CDN, no network
    assert h == widgets.FrameSlider(_draw, {"a": (1, 2), "b": (1, 3)})._repr_html_()


@pytest.mark.parametrize("params, initial, msg", [
    ({}, None, "non-empty"),
    ({"a": (1,)}, None, "at least 2 values"),
    ({"a": tuple(range(21)), "b": tuple(range(20))}, None, "allowed range is 1 to 400"),
    ({"a": (1, 2)}, {"a": 5}, "not one of its values"),
])
def test_bad_parameters_are_named(params, initial, msg):
    with pytest.raises(ValueError, match=msg):
        widgets.FrameSlider(_draw, params, initial=initial)


def test_explorer_limits():
    rich = explorer.state(0.1, 1e-4, 1.0, 1.0)
    assert rich.regime == "rich" and rich.converged
    assert rich.h_inf == pytest.approx(rich.a_low, rel=1e-2)
    lazy = explorer.state(0.01, 3.0, 1.0, 1.0)
    assert lazy.regime == "lazy" and lazy.h_inf == pytest.approx(lazy.traj.h2[0], rel=0.05)
    with pytest.raises(ValueError, match="alpha"):
        explorer.state(0.1, -1.0, 1.0, 1.0)


def test_frames_drawn_in_worker_processes_equal_the_frames_drawn_here():
    import matplotlib.pyplot as plt
    with plt.rc_context({"axes.spines.top": False, "lines.linewidth": 3.0}):    # settings the workers must copy
        one = widgets.FrameSlider(_draw, {"a": (1, 2, 3), "b": (0.5, 1.0)}, n_jobs=1)
        two = widgets.FrameSlider(_draw, {"a": (1, 2, 3), "b": (0.5, 1.0)}, n_jobs=2)
    plain = widgets.FrameSlider(_draw, {"a": (1, 2, 3), "b": (0.5, 1.0)}, n_jobs=1)
    assert one.frames == two.frames and one.frames != plain.frames


def test_fewer_colours_make_lighter_frames_and_bad_counts_are_named():
    def draw(a, b):
        fig, ax = plt.subplots(figsize=(3, 2))
        for k in range(8):
            ax.plot([0, 1], [0, a * b * (k + 1)], lw=2)
        return fig
    full = widgets.FrameSlider(draw, {"a": (1, 2), "b": (1, 3)}, n_jobs=1)
    few = widgets.FrameSlider(draw, {"a": (1, 2), "b": (1, 3)}, n_jobs=1, colors=16)
    assert sum(map(len, few.frames)) < sum(map(len, full.frames))
    for bad, error in ((1, ValueError), (257, ValueError), (True, TypeError), (2.5, TypeError)):
        with pytest.raises(error, match="colors"):
            widgets.FrameSlider(draw, {"a": (1, 2), "b": (1, 3)}, colors=bad)


def test_the_explorer_offers_seven_rate_ratios():
    assert len(explorer.PARAMS["eta_ratio"][1]) >= 7
    assert all(v in explorer.PARAMS[k][1] for k, v in explorer.INITIAL.items())
