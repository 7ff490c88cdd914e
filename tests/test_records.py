"""The committed Fig. 5 records: well formed, self-consistent, and reproduced by a CPU re-run of a grid point."""
import json

import numpy as np
import pytest

from reptheory import configs, experiments, records


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("REPTHEORY_CACHE", str(tmp_path / "cache"))


def test_every_record_loads_and_its_statistics_follow_from_its_points():
    recs = records.fig5_records()
    assert "paper-cuda" in recs and recs["paper-cuda"]
    for folder in recs.values():
        for r in folder.values():
            dy, meas, pred = r.arrays()
            assert np.all(np.isfinite(pred)) and np.all(meas > 0)
            assert np.corrcoef(pred, meas)[0, 1] == pytest.approx(r.stats["pearson r"], rel=1e-9)
            assert np.median(np.abs(pred - meas) / meas) == pytest.approx(r.stats["median |rel err|"], rel=1e-9)
            assert r.rates["eta_h"] == pytest.approx(np.mean([u[1] for u in r.rates["used"]]), rel=1e-12)
            assert r.settings["grid"] == experiments._desc(configs.get(f"fig5_grid/{r.row}", r.profile))


def test_a_committed_paper_scale_grid_point_is_reproduced_on_the_cpu():
    """The GPU's float32 rounding differs from the CPU kernel's; a converging grid run lands on the same final
    distance to well under 0.1 % and stops at the same epoch."""
    r = records.fig5_records()["paper-cuda"]["shallow"]
    p = min(r.points, key=lambda p: p["epochs"])
    grid = configs.get("fig5_grid/shallow", "paper")
    a = experiments._grid_chunk(grid, [(p["dx"], p["dy"], p["seed"])])[0]
    assert int(a["epochs"]) == p["epochs"]
    assert float(a["h2_0"]) == pytest.approx(p["h2_0"], rel=1e-5)
    assert float(a["h2_final"]) == pytest.approx(p["h2_final"], rel=1e-3)


def test_a_malformed_record_is_an_error_naming_its_file(tmp_path):
    good = next(iter(records.fig5_records()["paper-cuda"].values())).path
    d = json.loads(good.read_text())
    folder = tmp_path / "paper-cpu"
    folder.mkdir()
    del d["stats"]
    (folder / "bad.json").write_text(json.dumps(d))
    with pytest.raises(ValueError, match=r"bad.json: the record lacks \['stats'\]"):
        records.fig5_records(tmp_path)
    (folder / "bad.json").write_text("{")
    with pytest.raises(ValueError, match="bad.json: not a readable JSON record"):
        records.fig5_records(tmp_path)
    with pytest.raises(FileNotFoundError, match="no Fig. 5 records"):
        records.fig5_records(tmp_path / "nowhere")
