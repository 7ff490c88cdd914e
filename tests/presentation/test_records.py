"""The committed Fig. 5 records: well formed, self-consistent, and reproduced by a CPU re-run of a grid point."""
import json

import numpy as np
import pytest

from reptheory import configs
from reptheory.experiments import fig5, runs
from reptheory.presentation import plots, records


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
            assert r.settings["grid"] == configs.get(f"fig5_grid/{r.row}", r.profile).run_fields()


def test_a_committed_paper_scale_grid_point_is_reproduced_on_the_cpu():
    """The GPU's float32 rounding differs from the CPU kernel's; a converging grid run lands on the same final
    distance to well under 0.1 % and stops at the same epoch."""
    r = records.fig5_records()["paper-cuda"]["shallow"]
    p = min(r.points, key=lambda p: p["epochs"])
    grid = configs.get("fig5_grid/shallow", "paper")
    a = fig5._grid_chunk(grid, [(p["dx"], p["dy"], p["seed"])])[0]
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


def test_the_paper_profile_merges_every_device_in_figure_order(tmp_path):
    recs = records.fig5_records()
    paper = records.profile_records(recs)
    rows = [row for folder, by_row in recs.items() if folder.startswith("paper-") for row in by_row]
    assert sorted(paper) == sorted(set(rows))
    assert list(paper) == [r for r in configs.FIG5_PROTOCOL.rows if r in paper]
    assert all(r.profile == "paper" for r in paper.values())
    # the same architecture from two devices: the record that finished last
    src = recs["paper-cuda"]["shallow"].path
    for folder, when in (("paper-cuda", "2026-01-01T00:00:00+00:00"), ("paper-cpu", "2026-02-01T00:00:00+00:00")):
        d = json.loads(src.read_text())
        d["provenance"]["finished"] = when
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "shallow.json").write_text(json.dumps(d))
    merged = records.profile_records(records.fig5_records(tmp_path))
    assert merged["shallow"].path.parent.name == "paper-cpu"
    assert records.profile_records(records.fig5_records(tmp_path), "default") == {}


def test_misses_names_each_bar_with_its_value():
    good = {"r 95% low": 0.7, "median |rel err|": 0.1, "unconverged": 0, "diverged": 0, "fits used": 50}
    assert records.misses(good) == []
    bad = good | {"r 95% low": 0.157, "unconverged": 4, "fits used": float("nan")}
    assert records.misses(bad) == ["r 95% low 0.157 (bar >= 0.5)", "unconverged 4 (bar <= 3)",
                                   "fits used nan (bar >= 45)"]
    assert records.misses({}) == [f"{k} missing" for k, _, _ in records.FIG5_BARS]


def test_a_committed_cpu_grid_point_is_reproduced():
    """A paper-profile record computed on a CPU: its shortest grid run, re-run here, lands on the committed
    final distance (the fused kernel on another CPU rounds differently: to 0.1 %) at the same epoch."""
    r = records.fig5_records()["paper-cpu"]["narrow"]
    p = min(r.points, key=lambda p: p["epochs"])
    a = fig5._grid_chunk(configs.get("fig5_grid/narrow", "paper"), [(p["dx"], p["dy"], p["seed"])])[0]
    assert int(a["epochs"]) == p["epochs"]
    assert float(a["h2_0"]) == pytest.approx(p["h2_0"], rel=1e-6)
    assert float(a["h2_final"]) == pytest.approx(p["h2_final"], rel=1e-3)


@pytest.mark.parametrize("n, ncols", [(1, 2), (3, 2), (4, 2)])
def test_the_scatter_draws_one_panel_per_record(n, ncols):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    some = list(records.fig5_records()["paper-cuda"].values())
    recs = {f"r{k}": some[k % len(some)] for k in range(n)}
    fig = plots.fig5_scatter(recs, ncols=ncols)
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title().split(" (")[0] for ax in panels] == list(recs)
    plt.close(fig)
    with pytest.raises(ValueError, match="empty"):
        plots.fig5_scatter({})


def test_the_mnist_record_loads_and_its_intervals_follow_from_its_networks(tmp_path):
    from reptheory.theory import stats

    rec = records.mnist_record()
    assert rec["networks"] == 10 == len(rec["fig4"]) and [row["seed"] for row in rec["fig4"]] == list(range(10))
    assert rec["settings"] == configs.get("mnist", "paper").run_fields() | {"seeds": list(range(10))}
    for key, iv in rec["fig9"]["intervals"].items():
        m, lo, hi = stats.mean_interval([s[key] for s in rec["fig9"]["per network"]])
        assert (iv["mean"], iv["low"], iv["high"]) == pytest.approx((m, lo, hi), rel=1e-12)
    bad = dict(rec, fig4=rec["fig4"][:3])
    (tmp_path / "paper-cpu.json").write_text(json.dumps(bad))
    with pytest.raises(ValueError, match="10 networks, but 3 Fig. 4 rows"):
        records.mnist_record(tmp_path)
    with pytest.raises(ValueError, match="not a readable JSON record"):
        records.mnist_record(tmp_path, "nowhere")


def test_the_remaining_rows_are_priced_from_records_of_the_same_shape_else_their_own_fit_run(tmp_path):
    paper = {row: r for row, r in records.profile_records(records.fig5_records()).items()
             if row in ("narrow", "relu", "swish")}         # committed CPU records
    cpu = {row: r for row, r in paper.items() if r.settings["fit"]["width"] == 500}
    assert set(cpu) == {"relu", "swish"}
    rows = {r["architecture"]: r for r in records.fig5_remaining(paper, costs={
        "skip": {"s_per_epoch": 0.01, "seed": 0}})}
    assert set(rows) == {row for row in configs.FIG5_PROTOCOL.rows if row not in paper}
    epochs = sum(len(r.settings["fit"]["seeds"]) * r.settings["fit"]["epochs"] + sum(p["epochs"] for p in r.points)
                 for r in cpu.values() if r.settings["fit"]["arch"] == "mlp" and r.settings["fit"]["hidden_layers"] == 20)
    seconds = sum(r.provenance["train_s"] for r in cpu.values()
                  if r.settings["fit"]["arch"] == "mlp" and r.settings["fit"]["hidden_layers"] == 20)
    mlp = [row for row in rows if (lambda f: (f.arch, f.width, f.hidden_layers))(
        configs.get(f"fig5_fit/{row}", "paper")) == ("mlp", 500, 20)]
    assert {"default", "linear", "elu", "tanh"} == set(mlp)
    for row in mlp:
        assert rows[row]["ms/epoch"] == pytest.approx(1e3 * seconds / epochs)
        assert rows[row]["hours (max)"] == pytest.approx(seconds / epochs * (50 * 6000 + 25 * 40000) / 3600)
    assert rows["skip"]["ms/epoch"] == pytest.approx(10) and rows["skip"]["measured on"] == "its fit run of seed 0"
    assert rows["convolution"]["hours (max)"] is None and rows["convolution"]["measured on"] == "not measured"


def test_a_costs_file_is_read_and_a_broken_one_named(tmp_path):
    assert records.fig5_costs(root=tmp_path) == {}
    (tmp_path / "costs").mkdir()
    (tmp_path / "costs" / "paper-cpu.json").write_text('{"skip": {"s_per_epoch": 0.02, "seed": 0}}')
    assert records.fig5_costs(root=tmp_path)["skip"]["s_per_epoch"] == 0.02
    (tmp_path / "costs" / "paper-cpu.json").write_text("{")
    with pytest.raises(ValueError, match="paper-cpu.json: not a readable JSON file of costs"):
        records.fig5_costs(root=tmp_path)
