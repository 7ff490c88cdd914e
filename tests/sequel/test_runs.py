"""The sequel's one run path (``sequel.parity_runs``) and its families of settings keyed by their fields."""
import dataclasses

import pytest

from reptheory import configs, sequel


def _tiny(**kw):
    return configs.ParitySetting(**{"name": "tiny", "width": 4, "max_len": 2, "epochs": 2, "seeds": (0, 1), **kw})


def test_every_setting_trains_on_the_one_engine_and_is_cached_per_trial(tmp_path, monkeypatch):
    """A setting recorded at its first and last epoch and one recorded along training go through the same engine
    and the same kind of cache entry, one per trial; the runs come back in the order of the settings and their
    seeds."""
    monkeypatch.setenv("REPTHEORY_CACHE", str(tmp_path))
    ends = _tiny(name="ends", track_every=2, track_long=False)
    along = _tiny(name="along", track_every=1, track_long=False, seeds=(3,))
    got = sequel.parity_runs([along, ends], n_jobs=1, progress=False)
    assert list(got) == [("along", 3), ("ends", 0), ("ends", 1)]
    assert sorted(p.parent.name for p in tmp_path.rglob("*.npz")) == ["parity_run"] * 3
    assert list(got["along", 3].epochs) == [0, 1, 2] and list(got["ends", 0].epochs) == [0, 2]


@pytest.mark.parametrize("settings, group_size, error, match", [
    ([_tiny()], 0, ValueError, "group_size"),
    ([_tiny()], 1.5, TypeError, "group_size"),
    (["tiny"], 16, TypeError, "ParitySetting objects, got str"),
])
def test_parity_runs_refuses_bad_input_before_training(tmp_path, monkeypatch, settings, group_size, error, match):
    monkeypatch.setenv("REPTHEORY_CACHE", str(tmp_path))
    with pytest.raises(error, match=match):
        sequel.parity_runs(settings, group_size=group_size, n_jobs=1, progress=False)
    assert not list(tmp_path.rglob("*.npz"))


def test_outcomes_are_keyed_by_the_cells_fields_and_a_missing_run_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("REPTHEORY_CACHE", str(tmp_path))
    s = _tiny(track_every=2, track_long=False)
    runs = sequel.parity_runs(s, n_jobs=1, progress=False)
    out = sequel.outcomes(runs, {("mse", s.gain): s})
    assert set(out) == {("mse", s.gain, 0), ("mse", s.gain, 1)}
    other = dataclasses.replace(s, name="other")
    with pytest.raises(KeyError, match="'other', seed 0"):
        sequel.outcomes(runs, {"x": other})


@pytest.mark.parametrize("profile", sorted(configs.PROFILES))
def test_the_parity_families_are_keyed_by_their_fields(profile):
    """Each cell's key is its setting's fields, so no page rebuilds or parses a setting's name."""
    d = configs.phase_diagram(profile)
    assert len(d.cells) == len(d.losses) * len(d.gains) * len(d.fractions)
    assert all((s.loss, s.gain, s.frac, s.epochs, s.seeds) == (loss, g, p, d.cap, d.seeds)
               for (loss, g, p), s in d.cells.items())
    assert all(configs.get(s.name, profile) == s for s in d.settings())
    g = configs.length_grid(profile)
    assert all((s.gain, s.max_len, s.stop_loss, s.seeds) == (gain, L, 1e-4, g.seeds)
               for (gain, L), s in g.cells.items())
    assert all(s.stop_loss is None and g.cells[k].epochs == s.epochs for k, s in g.unstopped.items())
    assert all(s.gain == gain and s.frac == 0.5 for gain, s in g.half_data.items())
    assert len({s.name for s in g.settings() + d.settings()}) == len(g.settings()) + len(d.settings())
    assert d.generalises == g.generalises == configs.bars.PARITY["generalises"]
