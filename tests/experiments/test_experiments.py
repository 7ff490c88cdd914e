"""The cached experiment entry points of Sec. 4 on small settings (the figures run the real ones)."""
import dataclasses

import numpy as np
import pytest

from reptheory import configs, experiments
from reptheory.experiments import fig5, runs
from reptheory.networks import data, train


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("REPTHEORY_CACHE", str(tmp_path))


def _rates(eta_h=1e-3, eta_y=4e-2):
    return experiments.RateEstimate(configs.get("fig5_fit/default"), eta_h, eta_y, ((0, eta_h, eta_y),), ())


def test_xor_returns_matrices_and_ratios_per_seed():
    s = configs.Setting(name="tiny_xor", dataset="xor", width=30, hidden_layers=4, layer=2, gain=0.9, lr=0.05,
                        epochs=300, seeds=(0, 1))
    out = experiments.xor(s, _rates(), n_jobs=1)
    assert [r.seed for r in out] == [0, 1]
    for r in out:
        for D in (r.D0, r.D_end, r.D_theory):
            assert D.shape == (4, 4) and np.allclose(D, D.T) and np.allclose(np.diag(D), 0)
        assert set(r.ratios) == {(0, 3), (1, 2)} and all(v >= 0 for v in r.theory_ratios.values())
        assert r.run.loss[-1] < r.run.loss[0]
        assert len(r.change) == 2
    again = experiments.xor(s, _rates(), n_jobs=1)            # from the cache: identical
    np.testing.assert_array_equal(again[0].D_end, out[0].D_end)
    with pytest.raises(ValueError, match="not 'xor'"):
        experiments.xor(configs.get("default"), _rates())


def test_blobs_runs_and_measures():
    s = dataclasses.replace(configs.get("blobs_low"), name="tiny_blobs", epochs=3, width=20, seeds=(0,))
    out = experiments.blobs([s], n_jobs=1)["tiny_blobs"]
    (r,) = out
    assert r.H0.shape == r.H_end.shape == (1800, 20) and r.loss.shape == (4,)
    m = r.measures()
    assert set(m) == {"ratio", "eta2", "merge", "pr"} and set(m["ratio"]) == {0, 1}
    assert all(0 <= v <= 1 for v in m["eta2"].values())
    with pytest.raises(ValueError, match="not 'blobs'"):
        experiments.blobs(["default"])


def test_blob_seeds_train_stacked_and_come_back_in_the_order_asked(tmp_path):
    """Each setting's seeds train in stacks (split over two workers here, one setting being fewer than the
    workers), are stored one entry per seed, and equal a seed trained alone; the result keeps the order asked."""
    short = dataclasses.replace(configs.get("blobs_low"), name="short", epochs=2, width=12, seeds=(0, 1, 2))
    longer = dataclasses.replace(short, name="longer", epochs=3, seeds=(5,))
    out = experiments.blobs([short, longer], n_jobs=2)
    assert list(out) == ["short", "longer"] and [r.seed for r in out["short"]] == [0, 1, 2]
    assert len(list((tmp_path / "blobs_run").glob("*.npz"))) == 4
    b = data.blobs()
    alone = train.train(short, b.X, b.Y, 1, record="ends")
    np.testing.assert_array_equal(out["short"][1].loss, alone.loss)
    np.testing.assert_array_equal(out["short"][1].H_end, alone.hidden[1, short.layer])


def test_final_distance_result_statistics():
    pts = []
    rng = np.random.default_rng(0)
    for dx in configs.FIG5_PROTOCOL.dx:
        for dy in configs.FIG5_PROTOCOL.dy:
            meas = 0.1 * dx * dy + 1e-3
            pts.append(experiments.GridPoint(dx, dy, 0, 1e-3, 0.0, meas, 1e-5, 100, False, 0.0,
                                             meas * (1 + 0.1 * rng.standard_normal())))
    pts[1] = dataclasses.replace(pts[1], loss_final=1e-2)                       # one unconverged run
    res = experiments.FinalDistanceResult("x", _rates(), configs.get("fig5_grid/default"), tuple(pts))
    st = res.stats()
    assert st["unconverged"] == 1 and st["diverged"] == 0 and st["pearson r"] > 0.9
    assert st["median |rel err|"] < 0.2 and st["dy=0 max meas / top"] < 0.1
    sc = res.scaling()
    assert sc["a (dx)"] == pytest.approx(1.0, abs=0.05) and sc["b (dy)"] == pytest.approx(1.0, abs=0.05)


def test_estimate_discards_and_reports():
    est = experiments.RateEstimate(configs.get("fig5_fit/default"), np.nan, np.nan, (), ((0, "diverged"),))
    assert est.spread == (np.nan, np.nan) or all(np.isnan(est.spread))
    with pytest.raises(ValueError, match="n_jobs"):
        experiments.mean_rates("fig5_fit/default", n_jobs=0)


def test_sweeps_count_a_seed_that_diverges_at_once():
    """A net whose gain makes its first loss overflow is counted as diverged: no crash, no average."""
    absurd = configs.Setting(name="absurd", width=20, hidden_layers=8, layer=1, gain=1e6, lr=0.01, epochs=50,
                             seeds=(0, 1))
    r = experiments.two_point(absurd, 0)
    assert r.diverged and r.measured is None and r.fit is None and "first record" in r.fit_message
    assert np.isnan(r.h_inf)            # no rates, no Eq. 10: NaN, as a probe's result has it
    row = experiments.summary(r)
    assert row["diverged"] and np.isnan(row["final h2"])
    est = experiments.mean_rates(absurd, n_jobs=1)
    assert est.used == () and [d[1] for d in est.discarded] == ["diverged", "diverged"]
    assert np.isnan(est.eta_h) and np.isnan(est.eta_y)


def test_training_data_with_nan_or_inf_is_an_input_error():
    from reptheory.networks import data, train
    s = configs.Setting(name="tiny", width=10, hidden_layers=2, layer=1, epochs=5)
    X, Y = data.two_points(1.0, 0.5)
    X[1, 0] = np.nan
    with pytest.raises(ValueError, match=r"X must be finite: 1 of its 2 entries are NaN or inf \(first at index \(1, 0\)\)"):
        train.train(s, X, Y, 0)
    X, Y = data.two_points(1.0, 0.5)
    Y[0, 0] = np.inf
    with pytest.raises(ValueError, match=r"datasets\[1\] Y must be finite"):
        train.train_batch(s, [data.two_points(1.0, 0.5), (X, Y)], [0, 1])
    with pytest.raises(TypeError, match="X must be an array of real numbers"):
        train.train(s, "abc", Y, 0)


def test_flagged_fits_are_counted_not_averaged_and_shown():
    """A fit that ``fit_rates`` flags as not identifiable is discarded from the mean rates with its reason,
    and the summary row says why."""
    from reptheory.networks import data, measure, train
    from reptheory.theory import fit

    s = configs.Setting(name="tiny", width=10, hidden_layers=2, layer=1, epochs=20, seeds=(0, 1))
    run = train.train(s, *data.two_points(1.0, 0.5), 0)
    run = dataclasses.replace(run, loss=np.full_like(run.loss, 1e-3))   # a run that trained (final loss low)
    m = measure.two_point_variables(run)
    good = fit.RateFit(1e-3, 2e-3, 0.0, {"h2": 0.01, "y2": 0.01, "w": 0.01}, m.traj, "converged")
    bad = dataclasses.replace(good, flags=("the fit leaves 0.9 of the curves' variation unexplained (> 0.5)",),
                              message="not identifiable: ...")
    results = {sd: experiments.TwoPointResult(m, f, None, 0.1, False, setting=s, seed=sd, run=run, loss=run.loss)
               for sd, f in ((0, good), (1, bad))}
    est = fig5.estimate_rates(s, [(sd, results[sd]) for sd in s.seeds])
    assert [u[0] for u in est.used] == [0] and est.eta_h == 1e-3
    assert est.discarded == ((1, "not identifiable: the fit leaves 0.9 of the curves' variation unexplained (> 0.5)"),)
    assert experiments.summary(results[1])["note"] == "not identifiable: most of the variation unexplained"
    assert experiments.summary(results[0])["note"] == ""


def test_an_interrupted_grid_batch_keeps_its_finished_runs(tmp_path, monkeypatch):
    """The torch engine trains a grid chunk as one batch; each run reaches the cache when it ends, so a batch
    cut off after its first finished run keeps that run, and the next call trains only the others."""
    from reptheory import cache
    from reptheory.networks import train

    s = configs.Setting(name="tiny-cnn", arch="cnn", width=60, hidden_layers=2, layer=1, epochs=400, lr=0.05,
                        nonlinearity="tanh", stop_loss=1e-3, seeds=tuple(range(3)))
    points = [(1.0, 0.5, 0), (1.0, 0.0, 1), (0.5, 1.0, 2)]
    real = train.train_batch

    def cut_after_first(*args, done=None):
        def first_then_stop(k, run):
            done(k, run)
            raise KeyboardInterrupt
        return real(*args, done=first_then_stop)

    monkeypatch.setattr(train, "train_batch", cut_after_first)
    with pytest.raises(KeyboardInterrupt):
        fig5._grid_chunk(s, points)
    assert len(list((tmp_path / "fig5_grid_run").glob("*.npz"))) == 1
    trained = []
    monkeypatch.setattr(train, "train_batch", lambda s, sets, seeds, done=None: trained.append(seeds) or
                        real(s, sets, seeds, done=done))
    full = fig5._grid_chunk(s, points)
    assert len(trained[0]) == 2 and len(full) == 3
    assert len(list((tmp_path / "fig5_grid_run").glob("*.npz"))) == 3


def test_cnn_runs_train_batched_on_the_cpu_one_batch_per_worker():
    cnn = configs.Setting(name="tiny-cnn", arch="cnn", width=60, hidden_layers=2, layer=1, epochs=30, lr=0.05,
                          nonlinearity="tanh", seeds=tuple(range(5)))
    mlp = configs.Setting(name="tiny", width=10, hidden_layers=2, layer=1, epochs=5)
    from reptheory.networks import train
    assert train.run_engine(cnn) == "torch-batch" and train.run_engine(mlp) == "numba"
    assert train.batched(cnn) and not train.batched(mlp)
    assert runs._batches(range(5), 2) == [[0, 2, 4], [1, 3]]
    assert runs._batches(range(1), 2) == [[0]]
    est = experiments.mean_rates(cnn, n_jobs=1)
    assert {experiments.two_point(cnn, sd).run.engine for sd in cnn.seeds} == {"torch-batch"}
    assert len(est.used) + len(est.discarded) == 5


def _fake_two_point(name, dev, h2_0, h2_end, h_inf):
    from types import SimpleNamespace as NS
    return NS(setting=NS(name=name), fit=NS(max_rel_dev=dev), h_inf=h_inf, fit_message="",
              measured=NS(traj=NS(h2=np.array([h2_0, h2_end]))))


def test_architecture_statistics_follow_from_the_runs():
    res = {"default": _fake_two_point("default", {"h2": 0.1, "y2": 0.1, "w": 0.2}, 1e-3, 0.1, 0.105),
           "a": _fake_two_point("a", {"h2": 0.2, "y2": 0.1, "w": 0.5}, 1e-2, 0.2, 0.18),
           "b": _fake_two_point("b", {"h2": 0.4, "y2": 0.3, "w": 0.1}, 1e-1, 0.3, 0.3)}
    st = experiments.architecture_statistics(res)
    assert st.reference == {"h2": 0.1, "y2": 0.1, "w": 0.2}
    assert st.final_errors["a"] == pytest.approx(0.1) and st.final_errors["default"] == pytest.approx(0.05)
    assert st.median_others == pytest.approx({"h2": 0.3, "y2": 0.2, "w": 0.3})
    assert st.above == {"a": {"w": 0.5}, "b": {"h2": 0.4}}
    assert [n for n, _, _ in st.by_w] == ["a", "default", "b"] and st.by_w[0][2] == 1e-2
    res["c"] = _fake_two_point("c", {}, 1, 1, 1)
    res["c"].fit, res["c"].fit_message = None, "diverged"
    with pytest.raises(ValueError, match=r"results without a fit: \['c'\]"):
        experiments.architecture_statistics(res)


def test_phase_checks_follow_from_the_points():
    def pt(row, gain, dy, layer, h2_0, h2_final, pred, fitted=False):
        return {"row": row, "gain": gain, "dy": dy, "layer": layer, "h2_0": h2_0, "h2_final": h2_final,
                "h2_pred": pred, "loss_final": 1e-6, "diverged": False, "fitted": fitted}
    pts = [pt("default", 1.0, dy, 10, 1e-4, 0.05 * dy, 0.05 * dy * 1.2, fitted=dy == 0.7) for dy in (0.5, 0.7, 1.4)]
    pts += [pt("gain_1.3", 1.3, dy, 2, 1.0, 1.02, 1.0) for dy in (0.5, 0.7, 1.4)]
    r = experiments.PhaseResult(rows=("default", "gain_1.3"), gains=np.array([1.0, 1.3]), layers=(2, 10),
                                dy=np.array([0.5]), eta_h=np.ones((2, 2)), eta_y=np.ones((2, 2)),
                                fit_ok=np.array([[True, True], [True, False]]), h_inf=np.ones((2, 2, 1)),
                                a_low=np.ones((2, 2, 1)), a_high=np.ones((2, 2, 1)), points=pts)
    c = r.checks(rich_rows=("default",))
    assert not c.any_diverged and c.worst_loss == 1e-6 and c.rich_increasing
    assert c.rich_growth["default"] == pytest.approx(250)
    assert c.lazy_change == pytest.approx(0.02) and c.lazy_error == pytest.approx(1 - 1 / 1.02)
    assert c.held_out_gains == [1.0] and c.held_out_errors == pytest.approx([0.2, 0.2])
    assert c.exponents["default"] == pytest.approx(1.0)


def test_xor_structure_takes_medians_over_seeds():
    from types import SimpleNamespace as NS
    runs = [NS(run=NS(diverged=False, loss=np.array([1.0, 1e-4])), ratios={(0, 3): q, (1, 2): 2 * q}, separation=s)
            for q, s in ((0.1, 4.0), (0.2, 6.0), (0.05, 9.0))]
    s = experiments.xor_structure(runs)
    assert s.converged and s.median_ratio_00_11 == 0.1 and s.median_ratio_01_10 == 0.2 and s.median_separation == 6
    runs[0].run.loss[-1] = 1e-2
    assert not experiments.xor_structure(runs).converged


def test_a_prose_edit_keeps_every_trained_run_and_fit(monkeypatch):
    """Rewording a setting's note, adding a row to the registry or editing an experiment's summaries leaves the
    cached two-point run and its fit valid: nothing is trained or fitted again (``cache.SOURCES``)."""
    import pathlib
    from reptheory import cache
    from reptheory.networks import train as _train
    from reptheory.theory import fit as _fit
    s = configs.Setting(name="tiny", width=20, hidden_layers=2, layer=1, gain=0.9, lr=0.05, epochs=200, seeds=(0,))
    first = experiments.two_point(s, 0)
    real = pathlib.Path.read_bytes
    appended = {"configs/paper.py": b'\nEXTRA_ROW = Setting(name="new", note="a reworded note")\n',
                "experiments/phase_diagram.py": b"\ndef summary_of_a_new_table():\n    return {}\n",
                "presentation/records.py": b"\nBAR = 0.5\n"}

    def read_bytes(self):
        return real(self) + next((b for rel, b in appended.items() if self.as_posix().endswith(f"reptheory/{rel}")), b"")

    def no_training(*a, **k):
        raise AssertionError("trained again after a prose edit")
    monkeypatch.setattr(pathlib.Path, "read_bytes", read_bytes)
    monkeypatch.setattr(_train, "train", no_training)
    monkeypatch.setattr(_fit, "fit_rates", no_training)
    cache.code_version.cache_clear()
    try:
        again = experiments.two_point(dataclasses.replace(s, note="a reworded note"), 0)
    finally:
        monkeypatch.undo()
        cache.code_version.cache_clear()
    np.testing.assert_array_equal(again.run.loss, first.run.loss)
    assert (again.fit.eta_h, again.fit.eta_y) == (first.fit.eta_h, first.fit.eta_y)


def test_estimate_rates_is_one_rule_with_a_reason_per_discarded_fit():
    """The rule of the paper's Fig. 5 and of the lab's protocol (``lab.protocol.probe_grid`` calls it too):
    diverged, unconverged, failed, on the search boundary, not identifiable; the rest averaged."""
    import inspect
    from reptheory.lab import protocol
    from reptheory.networks.measure import Measured
    from reptheory.theory import fit, ode

    traj = ode.Trajectory(np.arange(3.0), np.ones(3), np.ones(3), np.zeros(3))
    low, high = (Measured(traj, np.full(3, v), 1.0, 0.5, 0.1, 1) for v in (1e-6, 1.0))
    good = fit.RateFit(1e-3, 2e-3, 0.0, {"h2": 0.0, "y2": 0.0, "w": 0.0}, traj, "converged")
    other = dataclasses.replace(good, eta_h=3e-3, eta_y=4e-3)
    edge = dataclasses.replace(good, at_boundary=("eta_h",))
    flagged = dataclasses.replace(good, flags=("rates ill-determined",))
    R = experiments.TwoPointResult
    fits = [(0, R(low, good, None, 0.1, False)), (1, R(None, None, None, np.nan, True)),
            (2, R(high, good, None, 0.1, False)), (3, R(low, None, None, np.nan, False, "no optimum")),
            (4, R(low, edge, None, 0.1, False)), (5, R(low, flagged, None, 0.1, False)),
            (6, R(low, other, None, 0.1, False))]
    est = experiments.estimate_rates(None, fits)
    assert [u[0] for u in est.used] == [0, 6] and est.eta_h == pytest.approx(2e-3) and est.eta_y == pytest.approx(3e-3)
    assert est.discarded == ((1, "diverged"), (2, "final loss 1 > " + f"{configs.FIG5_PROTOCOL.fit_max_loss:g}"),
                             (3, "fit failed: no optimum"), (4, "eta_h at the search boundary"),
                             (5, "not identifiable: rates ill-determined"))
    assert "estimate_rates(" in inspect.getsource(protocol.probe_grid)


def test_the_paper_and_the_lab_fit_and_judge_a_pair_one_way():
    """experiments.result.fitted is the one fit of a pair: a paper run's cached record and a lab probe's arrays
    give the same result for the same curves; a rate on the search boundary stays a fit for Fig. 5's rule to
    discard, and is the lab's failure with the fitter's message."""
    from reptheory import theory
    from reptheory.experiments import result as R
    from reptheory.lab import result as LR
    from reptheory.networks.measure import Measured
    t = np.arange(301, dtype=float)
    tr = theory.solve(t, 0.1, 0.01, 0.0, 2e-2, 4e-2, 1.0, 0.5)
    loss = theory.loss(t, tr.y2, tr.w, 0.5, 3e-2, 0.2)
    m = Measured(tr, loss, 1.0, 0.5, 0.2, 3)
    rec = R.fit_record(m)
    paper = R.fitted(m, rec, layer=3, pair=(0, 1), loss=loss, seconds=1.0)
    lab = LR.from_arrays({"h2": tr.h2, "y2": tr.y2, "w": tr.w, "pair_loss": loss, "loss": loss, "dx2": 1.0,
                          "dy2": 0.5, "m0": 0.2, "diverged": False, "seconds": 1.0}, 3, (0, 1))
    assert paper.holds and paper.verdict == lab.verdict and paper.h_inf == lab.h_inf
    assert (paper.fit.eta_h, paper.fit.eta_y, paper.mean_fit.eta_ybar) == (lab.fit.eta_h, lab.fit.eta_y,
                                                                          lab.mean_fit.eta_ybar)
    assert abs(paper.fit.eta_h / 2e-2 - 1) < 1e-3 and abs(paper.mean_fit.eta_ybar / 3e-2 - 1) < 1e-3
    edge = rec | {"at_boundary": "eta_h", "message": "the optimum lies on the search boundary for eta_h"}
    kept = R.fitted(m, edge)
    assert kept.fit.at_boundary == ("eta_h",) and kept.failure == ""
    failed = R.fitted(m, edge, boundary_fails=True)
    assert failed.fit is None and failed.failure == edge["message"] and np.isnan(failed.h_inf)
    assert R.fitted(m, {"failure": "no optimum"}).failure == "no optimum"
