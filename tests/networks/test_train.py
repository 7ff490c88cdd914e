"""The training engine: the fused numba kernel against torch autograd, divergence, measurement, configs, cache."""
import dataclasses
import tempfile

import numpy as np
import pytest
import torch

from reptheory import cache, configs
from reptheory.networks import data, measure, models, stack, train
from reptheory.presentation.display import SettingsTable

X2, Y2 = data.two_points()


def small(**kw):
    base = dict(name="small", width=40, hidden_layers=6, layer=3, epochs=150, lr=0.02, gain=1.0)
    base.update(kw)
    return configs.Setting(**base)


def close32(a, b, rtol):
    """Two float32 engines agree to ``rtol``, or to one float32 rounding unit of the quantity's initial size in
    absolute terms: over 150 steps, rounding accumulates differently on another vector width (AVX-512 against
    AVX2), and a loss that has fallen from 0.70 to 4e-5 carries an absolute error set by its start, not by its
    end (observed: 2e-9, 0.03 such units). A wrong gradient moves the curves by far more than one unit."""
    np.testing.assert_allclose(a, b, rtol=rtol, atol=np.finfo(np.float32).eps * np.max(np.abs(np.asarray(b)[0])))


@pytest.mark.parametrize("act", ["linear", "tanh", "elu", "silu"])
def test_numba_matches_torch_for_smooth_activations(act):
    s = small(nonlinearity=act)
    a = train.train(s, X2, Y2, seed=1, engine="numba")
    b = train.train(s, X2, Y2, seed=1, engine="torch")
    close32(a.loss, b.loss, rtol=2e-5)
    close32(a.dist2, b.dist2, rtol=2e-4)
    close32(a.outputs, b.outputs, rtol=2e-5)



@pytest.mark.parametrize("act", ["relu", "leaky_relu"])
def test_numba_matches_torch_for_kinked_activations(act):
    # kinks amplify float32 rounding over many steps (torch float32 vs float64 differs the same way), so
    # the step itself is compared over the first epochs
    s = small(nonlinearity=act, epochs=10)
    a = train.train(s, X2, Y2, seed=2, engine="numba")
    b = train.train(s, X2, Y2, seed=2, engine="torch")
    close32(a.loss, b.loss, rtol=1e-5)
    close32(a.dist2, b.dist2, rtol=1e-4)


def test_numba_handles_more_points_and_outputs():
    X, Y = data.xor()
    s = small(epochs=50)
    a = train.train(s, X, Y, seed=0, engine="numba")
    b = train.train(s, X, Y, seed=0, engine="torch")
    assert a.dist2.shape == (51, 6, 4, 4)
    close32(a.loss, b.loss, rtol=1e-4)


def test_training_reduces_the_loss_and_records_every_epoch():
    s = small(epochs=300)
    r = train.train(s, X2, Y2, seed=0)
    assert r.engine == "numba" and not r.diverged
    assert r.loss.shape == (301,) and r.outputs.shape == (301, 2, 1)
    assert r.loss[-1] < 1e-2 * r.loss[0]


def test_divergence_is_detected_and_reported():
    for engine in ("numba", "torch"):
        r = train.train(small(lr=50.0, epochs=200), X2, Y2, seed=0, engine=engine)
        assert r.diverged, engine
        assert r.loss.size < 201 and np.all(np.isfinite(r.loss))


def test_cnn_trains_with_torch():
    s = small(arch="cnn", width=200, hidden_layers=4, layer=2, epochs=20, lr=0.005)
    r = train.train(s, X2, Y2, seed=0)
    assert r.engine == "torch" and not r.diverged
    assert r.dist2.shape[1] == s.n_tracked


@pytest.mark.parametrize("arch", ["resnet", "dropout"])
def test_skip_and_dropout_nets_train_with_the_fused_kernel(arch):
    s = small(arch=arch, width=200, hidden_layers=4, layer=2, epochs=20, lr=0.005)
    r = train.train(s, X2, Y2, seed=0)
    assert r.engine == "numba" and not r.diverged
    assert r.dist2.shape == (21, 4, 2, 2)


@pytest.mark.parametrize("act", ["tanh", "leaky_relu"])
def test_numba_skip_connections_match_torch(act):
    s = small(arch="resnet", nonlinearity=act, gain=0.5, epochs=40 if act == "tanh" else 10)
    a = train.train(s, X2, Y2, seed=3, engine="numba")
    b = train.train(s, X2, Y2, seed=3, engine="torch")
    close32(a.loss, b.loss, rtol=2e-5)
    close32(a.dist2, b.dist2, rtol=2e-4)


@pytest.mark.parametrize("arch", ["mlp", "resnet"])
def test_numba_adam_matches_torch(arch):
    s = small(arch=arch, nonlinearity="tanh", optimizer="adam", lr=1e-3, epochs=60)
    a = train.train(s, X2, Y2, seed=4, engine="numba")
    b = train.train(s, X2, Y2, seed=4, engine="torch")
    assert a.engine == "numba" and b.engine == "torch"
    close32(a.loss, b.loss, rtol=1e-4)
    close32(a.dist2, b.dist2, rtol=1e-3)


def test_numba_dropout_is_torch_dropout_with_the_kernels_masks():
    """The kernel draws its masks from numba's Mersenne Twister seeded with the run's seed, the same stream as
    NumPy's legacy ``RandomState``: replaying those masks in a PyTorch model gives the same run."""
    s = small(arch="dropout", nonlinearity="tanh", epochs=30, lr=0.05)
    X, Y = data.xor()
    a = train.train(s, X, Y, seed=5, engine="numba")
    net = models.build(s, X.shape[1], Y.shape[1], 5)
    lin = list(net.layers)
    rng = np.random.RandomState(5)
    keep = np.float32(1 / 0.9)
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    opt = torch.optim.SGD(net.parameters(), lr=s.lr)
    losses = []
    for e in range(s.epochs + 1):
        with torch.no_grad():
            h = Xt
            for n, layer in enumerate(lin):
                h = layer(h) if n == len(lin) - 1 else torch.tanh(layer(h))
            losses.append(0.5 * torch.mean((h.double() - Yt.double()) ** 2).item())
        if e == s.epochs:
            break
        masks = [np.where(rng.random_sample((4, X.shape[1])) >= 0.1, keep, 0).astype(np.float32)]
        masks += [np.where(rng.random_sample((4, s.width)) >= 0.1, keep, 0).astype(np.float32)
                  for _ in range(s.hidden_layers)]
        h = Xt
        for n, layer in enumerate(lin):
            h = layer(h * torch.from_numpy(masks[n]))
            if n < len(lin) - 1:
                h = torch.tanh(h)
        loss = 0.5 * torch.mean((h - Yt) ** 2)
        opt.zero_grad()
        loss.backward()
        opt.step()
    close32(a.loss, losses, rtol=1e-4)
    assert not np.allclose(a.loss, train.train(dataclasses.replace(s, arch="mlp"), X, Y, seed=5).loss)


def test_models_initialisation_and_tracking():
    s = configs.get("default")
    m = models.build(s, 1, 1, seed=0)
    with torch.no_grad():
        assert all(float(l.bias.abs().max()) == 0 for l in m.layers)
        std = float(m.layers[5].weight.std())
    assert std == pytest.approx(np.sqrt(2.0 / 1000), rel=0.02)     # Xavier normal, gain 1
    with torch.no_grad():
        out, hidden = m(torch.from_numpy(X2))
    assert len(hidden) == 20 and out.shape == (2, 1)


def test_measured_variables():
    r = train.train(small(epochs=30), X2, Y2, seed=0)
    mv = measure.two_point_variables(r)
    assert mv.dx2 == pytest.approx(1.0) and mv.dy2 == pytest.approx(0.5, rel=1e-6)
    d = r.outputs[:, 1, 0] - r.outputs[:, 0, 0]
    np.testing.assert_allclose(mv.traj.y2, d**2)
    np.testing.assert_allclose(mv.traj.w, d**2 - d * (Y2[1, 0] - Y2[0, 0]), rtol=1e-12)
    with pytest.raises(ValueError, match=r"layer must be an integer in \[0, 5\]"):
        measure.two_point_variables(r, layer=6)


def test_two_point_data_distances():
    X, Y = data.two_points(2.0, 0.3, in_dim=3, out_dim=2)
    assert np.sum((X[1] - X[0]) ** 2) == pytest.approx(2.0, rel=1e-6)
    assert np.sum((Y[1] - Y[0]) ** 2) == pytest.approx(0.3, rel=1e-6)


@pytest.mark.parametrize("kw,match", [
    (dict(nonlinearity="sigmoid"), "nonlinearity = 'sigmoid' is not allowed"),
    (dict(lr=-1.0), "lr = -1.0 is not allowed .allowed: a finite number > 0"),
    (dict(layer=20), r"layer = 20 is not allowed \(allowed: an integer in \[0, 19\]\)"),
    (dict(epochs=0), "epochs = 0 is not allowed"),
    (dict(arch="cnn", width=100, hidden_layers=10, layer=5), "width = 100 is not allowed"),
    (dict(seeds=()), "seeds"),
])
def test_settings_are_validated(kw, match):
    with pytest.raises(ValueError, match=match):
        configs.Setting(name="x", **kw)


def test_profiles_and_overrides(capsys, monkeypatch):
    assert configs.get("default", "paper") == configs.PAPER["default"]
    with pytest.raises(ValueError, match="profile must be one of"):
        configs.get("default", "fast")
    monkeypatch.setenv("REPTHEORY_PROFILE", "paper")
    assert configs.profile_name() == "paper"
    s = configs.override(configs.get("default"), epochs=100)
    assert "override default.epochs: 6000 -> 100" in capsys.readouterr().out
    table = SettingsTable([s, "relu"]).markdown
    assert "**100** (paper: 6000)" in table and "| relu |" in table
    with pytest.raises(ValueError, match="not a field"):
        configs.override(s, epoch=3)


def test_cache_recomputes_a_corrupt_entry(tmp_path, monkeypatch):
    monkeypatch.setenv("REPTHEORY_CACHE", str(tmp_path))
    calls = []

    def compute():
        calls.append(1)
        return {"x": np.arange(3.0), "flag": True}

    a = cache.cached("t", {"k": 1}, compute)
    b = cache.cached("t", {"k": 1}, compute)
    assert len(calls) == 1 and np.array_equal(a["x"], b["x"]) and bool(b["flag"])
    (entry,) = (tmp_path / "t").glob("*.npz")
    entry.write_bytes(b"not a zip file")
    with pytest.warns(RuntimeWarning, match=f"{entry.name} is not valid: it could not be read"):
        c = cache.cached("t", {"k": 1}, compute)
    assert len(calls) == 2 and np.array_equal(c["x"], a["x"])
    assert not list((tmp_path / "t").glob("*.tmp"))


def test_minibatch_training_uses_torch_and_records_epochs():
    X, Y = data.xor()
    s = small(batch_size=2, epochs=40, lr=0.05)
    assert train.engine_for(s) == "torch"
    r = train.train(s, X, Y, seed=0)
    assert r.loss.shape == (41,) and not r.diverged
    assert r.loss[-1] < r.loss[0]
    r2 = train.train(s, X, Y, seed=0)
    np.testing.assert_array_equal(r.loss, r2.loss)          # the batch order is seeded
    with pytest.raises(ValueError, match="batch_size"):
        configs.Setting(name="x", batch_size=0)


def test_train_many_in_processes_equals_serial():
    s = small(epochs=20)
    par = train.train_many(s, X2, Y2, seeds=[0, 1], n_jobs=2)
    ser = [train.train(s, X2, Y2, sd) for sd in (0, 1)]
    for a, b in zip(par, ser):
        np.testing.assert_array_equal(a.loss, b.loss)
    assert not np.array_equal(par[0].loss, par[1].loss)


def test_paper_tables_are_complete():
    assert set(configs.FIG2_ROWS + configs.FIG3_ROWS) <= set(configs.TABLE1)
    assert len(configs.TABLE1) == 16 and len(configs.TABLE2) == 8        # Table 1 (15 rows) + Adam; Table 2
    assert configs.PAPER["default"].lr == 0.005 and configs.PAPER["xor_2layers"].epochs == 40000
    assert all(s.batch_size == 64 for n, s in configs.TABLE2.items() if n.startswith(("blobs", "mnist")))


@pytest.mark.parametrize("engine", ["numba", "torch"])
def test_stop_loss_ends_the_run_at_the_first_record_below_it(engine):
    s = small(epochs=100, lr=0.05, nonlinearity="tanh")
    full = train.train(s, X2, Y2, seed=0, engine=engine)
    stop = float(np.sqrt(full.loss[0] * full.loss[-1]))
    assert 0 < full.loss[-1] < stop < full.loss[0]
    r = train.train(dataclasses.replace(s, stop_loss=stop), X2, Y2, seed=0, engine=engine)
    k = int(np.argmax(full.loss < stop))
    assert r.loss.size == k + 1 and not r.diverged
    np.testing.assert_array_equal(r.loss, full.loss[:k + 1])
    assert r.dist2.shape[0] == r.outputs.shape[0] == k + 1
    with pytest.raises(ValueError, match="stop_loss"):
        small(stop_loss=0.0)


@pytest.mark.parametrize("arch,act", [("mlp", "tanh"), ("resnet", "tanh"), ("cnn", "tanh")])
def test_train_batch_equals_single_runs(arch, act):
    kw = dict(arch=arch, nonlinearity=act, epochs=60)
    if arch == "cnn":
        kw.update(width=120, hidden_layers=3, layer=2, gain=0.9, lr=0.01)
    s = small(**kw)
    sets = [data.two_points(dx2, dy2) for dx2, dy2 in ((1.0, 0.5), (0.25, 1.0), (2.0, 0.0))]
    batch = train.train_batch(s, sets, [0, 1, 2])
    for (X, Y), sd, b in zip(sets, (0, 1, 2), batch):
        a = train.train(s, X, Y, sd, engine="torch")
        assert b.seed == sd and b.engine == "torch-batch"
        close32(b.loss, a.loss, rtol=1e-4)
        close32(b.dist2, a.dist2, rtol=1e-3)


def test_train_batch_stops_each_trial_on_its_own():
    s = small(epochs=100, lr=0.05, nonlinearity="tanh")
    sets = [data.two_points(1.0, 0.5), data.two_points(1.0, 0.0)]
    full = train.train_batch(s, sets, [0, 0])
    stop = float(np.sqrt(full[0].loss[0] * full[0].loss[-1]))
    stopped = train.train_batch(dataclasses.replace(s, stop_loss=stop), sets, [0, 0])
    for f, r in zip(full, stopped):
        k = int(np.argmax(f.loss < stop)) if np.any(f.loss < stop) else f.loss.size - 1
        assert r.loss.size == k + 1
        np.testing.assert_allclose(r.loss, f.loss[:k + 1], rtol=1e-6)
    assert stopped[0].loss.size != stopped[1].loss.size
    with pytest.raises(ValueError, match="one seed per dataset"):
        train.train_batch(s, sets, [0])
    with pytest.raises(ValueError, match="full-batch SGD"):
        train.train_batch(small(optimizer="adam"), sets, [0, 1])


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
def test_train_batch_drops_ended_trials_without_changing_a_bit(arch):
    """Trials that end leave the stack (down to two: the CNN's last trial, alone in a stack of one, would round
    differently from epoch 182 on), and each trial's records are, bit for bit, the first records of the same
    batch run with no stop at all, where every trial steps to the last epoch."""
    if arch == "cnn":
        s = small(arch="cnn", width=60, hidden_layers=2, layer=1, epochs=400, lr=0.05, nonlinearity="tanh")
        sets = [data.two_points((0.2 + 0.3 * k) ** 2, (0.5 + 0.4 * k) ** 2) for k in range(6)]
    else:
        s = small(epochs=150, lr=0.005, nonlinearity="tanh")
        sets = [data.two_points((0.3 + 0.3 * k) ** 2, (0.5 + 0.4 * k) ** 2) for k in range(5)]
    seeds = list(range(len(sets)))
    full = train.train_batch(s, sets, seeds)
    stop = 1e-3 if arch == "cnn" else float(np.median([f.loss[s.epochs // 2] for f in full]))
    stopped = train.train_batch(dataclasses.replace(s, stop_loss=stop), sets, seeds)
    ends = [r.loss.size for r in stopped]
    assert len(set(ends)) >= 3 and max(ends) == s.epochs + 1, ends          # trials end at different epochs
    for f, r in zip(full, stopped):
        k = r.loss.size
        np.testing.assert_array_equal(r.loss, f.loss[:k])
        np.testing.assert_array_equal(r.dist2, f.dist2[:k])
        np.testing.assert_array_equal(r.outputs, f.outputs[:k])


def test_train_batch_hands_each_trial_over_once_as_soon_as_it_ends():
    s = small(epochs=100, lr=0.05, nonlinearity="tanh")
    sets = [data.two_points(1.0, 0.5), data.two_points(1.0, 0.0)]
    full = train.train_batch(s, sets, [0, 0])
    stop = float(np.sqrt(full[0].loss[0] * full[0].loss[-1]))
    s = dataclasses.replace(s, stop_loss=stop)
    seen = []
    runs = train.train_batch(s, sets, [0, 0], done=lambda k, r: seen.append((k, r.loss.size, r.seconds)))
    assert sorted(k for k, _, _ in seen) == [0, 1]                      # each trial once
    first = min(seen, key=lambda x: x[1])
    assert seen[0] == first                                            # the trial that stopped first came first
    assert first[2] < max(x[2] for x in seen)                           # with the wall time until it ended
    for k, n, _ in seen:
        assert runs[k].loss.size == n
    np.testing.assert_array_equal(runs[0].loss, train.train_batch(s, sets, [0, 0])[0].loss)


def test_record_ends_keeps_the_loss_and_the_first_and_last_activations():
    b = data.blobs(n_centres=5)
    s = small(dataset="blobs", batch_size=16, epochs=15, lr=0.05, hidden_layers=3, layer=1, nonlinearity="tanh")
    r = train.train(s, b.X, b.Y, seed=0, record="ends")
    assert r.loss.shape == (16,) and r.dist2.size == 0 and r.hidden.shape == (2, 3, 50, 40)
    net = models.build(s, 27, 1, 0)
    with torch.no_grad():
        out, hidden = net(torch.from_numpy(b.X))
    np.testing.assert_allclose(r.hidden[0, 1], hidden[1].numpy(), rtol=1e-6)
    assert r.loss[0] == pytest.approx(0.5 * float(torch.mean((out - torch.from_numpy(b.Y)) ** 2)), rel=1e-6)
    with pytest.raises(ValueError, match="record"):
        train.train(s, b.X, b.Y, seed=0, record="all")


def test_fig5_rows_follow_the_authors_protocol():
    for r in configs.FIG5_PROTOCOL.rows:
        fit, grid = configs.PAPER[f"fig5_fit/{r}"], configs.PAPER[f"fig5_grid/{r}"]
        assert len(fit.seeds) == 50 and fit.lr == configs.TABLE1[r].lr and fit.epochs == 6000
        assert grid.lr == pytest.approx(0.4 * configs.TABLE1[r].lr) and grid.epochs == 40000
        assert grid.stop_loss == 1e-4 and len(grid.seeds) == 25
        d = configs.get(f"fig5_grid/{r}", "default")
        assert d.note or r in configs.FIG5_PROTOCOL.default_skips, r     # every default-profile change has its reason
    assert configs.fig5_rows("paper") == configs.FIG5_PROTOCOL.rows
    protocol = configs.FIG5_PROTOCOL
    assert set(configs.fig5_rows("default")) == set(protocol.rows) - set(protocol.default_skips)
    assert configs.get("fig5_grid/default", "default").width == 500
    table = SettingsTable(["fig5_grid/default", "fig5_grid/default_w100", "xor_rich"]).markdown
    assert "not in the paper" in table and "authors' code" in table


def test_cache_refuses_an_unwritable_folder_before_computing(tmp_path, monkeypatch):
    afile = tmp_path / "a-file"
    afile.write_text("x")
    monkeypatch.setenv("REPTHEORY_CACHE", str(afile))
    calls = []
    with pytest.raises(cache.CacheError, match="cannot be written to"):
        cache.cached("t", {"k": 1}, lambda: calls.append(1) or {"x": 1.0})
    assert calls == []


def test_cache_keeps_a_result_whose_write_fails(tmp_path, monkeypatch):
    monkeypatch.setenv("REPTHEORY_CACHE", str(tmp_path / "c"))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    real = cache._save
    calls = []

    def failing(path, result, meta=None):
        if path.parent.parent == tmp_path / "c":
            raise OSError(28, "No space left on device")
        real(path, result, meta)

    monkeypatch.setattr(cache, "_save", failing)
    with pytest.warns(RuntimeWarning, match="saved to .*reptheory-unsaved"):
        out = cache.cached("t", {"k": 1}, lambda: calls.append(1) or {"x": np.arange(2.0)})
    assert calls == [1] and np.array_equal(out["x"], [0.0, 1.0])
    (rescued,) = (tmp_path / "tmp" / "reptheory-unsaved" / "t").glob("*.npz")
    assert np.array_equal(np.load(rescued)["x"], [0.0, 1.0])


def test_train_batch_polls_the_device_without_changing_a_result(monkeypatch):
    """On a GPU the batch asks whether any trial still trains only every ``POLL`` epochs; the records,
    stops and divergences are decided on the device every epoch, so the poll interval changes no number."""
    s = small(epochs=120, lr=0.05, nonlinearity="tanh", stop_loss=0.02)
    sets = [data.two_points(1.0, 0.5), data.two_points(1.0, 0.0), data.two_points(0.5, 0.5)]
    every = train.train_batch(s, sets, [0, 1, 2])
    monkeypatch.setattr(stack, "POLL", 7)
    sparse = train.train_batch(s, sets, [0, 1, 2])
    assert len({r.loss.size for r in every}) > 1          # the trials stop at different epochs
    for a, b in zip(every, sparse):
        assert a.loss.size == b.loss.size and a.diverged == b.diverged
        np.testing.assert_array_equal(a.loss, b.loss)
        np.testing.assert_array_equal(a.dist2, b.dist2)


@pytest.mark.parametrize("change,why", [
    ({"x": np.arange(4.0)}, "differ from those it recorded"),          # a shape that is not the recorded one
    ({"x": np.array([0.0, 1.0, 5.0])}, "do not match their recorded checksum"),   # a changed value
    ({"n": None}, "differ from those it recorded"),                    # a missing key
    ({"__entry__": None}, "no record of what it holds"),               # an entry of an older version
    ({"__entry__": cache._meta("t", {"k": 2}, {"x": np.arange(3.0), "n": np.asarray(2)})},
     "computed for another description"),                              # an entry copied from elsewhere
])
def test_cache_validates_an_entry_when_it_loads_it(tmp_path, monkeypatch, change, why):
    monkeypatch.setenv("REPTHEORY_CACHE", str(tmp_path))
    calls = []

    def compute():
        calls.append(1)
        return {"x": np.arange(3.0), "n": 2}

    first = cache.cached("t", {"k": 1}, compute)
    (entry,) = (tmp_path / "t").glob("*.npz")
    with np.load(entry) as f:
        d = {k: f[k] for k in f.files}
    d.update(change)
    with open(entry, "wb") as f:
        np.savez(f, **{k: v for k, v in d.items() if v is not None})
    with pytest.warns(RuntimeWarning, match=f"{entry.name} is not valid: .*{why}.*; recomputing it"):
        again = cache.cached("t", {"k": 1}, compute)
    assert len(calls) == 2 and np.array_equal(again["x"], first["x"]) and int(again["n"]) == 2
    assert cache.cached("t", {"k": 1}, compute)["x"].shape == (3,) and len(calls) == 2   # valid once more


def test_cache_keys_follow_the_packages_that_decide_each_kind(monkeypatch):
    """A trained run is keyed on the code that trains and records it, never on the settings' registry, the
    experiments (sweeps, summaries, tables: what an entry holds is the run's own) or the theory; the sequel's parity runs on its two parity engines, not on the
    analyses of the runs (phase diagrams, automata, theory) or its entry point; the sequel's and the probes'
    runs ignore the feed-forward networks except the shared stop rule and, for the probes, the one batched
    engine; fits see the networks, the theory and
    the module that fits; presentation and infrastructure decide nothing."""
    import pathlib
    real = pathlib.Path.read_bytes

    def edited(rel):
        def read_bytes(self):
            return real(self) + (b"\n_EDITED = 1\n" if self.as_posix().endswith(f"reptheory/{rel}") else b"")
        return read_bytes
    ff = {"two_point_run", "fig5_grid_run", "xor_run", "blobs_run", "mnist_run"}
    kinds = (*sorted(ff), "two_point_fit", "parity_run", "probe_run", "langevin_run")
    before = {k: cache.code_version(k) for k in kinds}
    for rel, changes in (("networks/engine_numba.py", ff | {"two_point_fit"}),
                         ("networks/data.py", ff | {"two_point_fit"}),
                         ("networks/run.py", ff | {"two_point_fit"}),
                         ("networks/engine_batch.py", ff | {"two_point_fit"}),
                         ("networks/stack.py", ff | {"two_point_fit", "probe_run"}),
                         ("configs/fields.py", ff | {"two_point_fit", "parity_run"}),
                         ("configs/architectures.py", set()),
                         ("theory/fit.py", {"two_point_fit"}),
                         ("experiments/runs.py", set()),
                         ("experiments/fig5.py", set()),
                         ("experiments/xor_blobs.py", set()),
                         ("experiments/mnist_runs.py", set()),
                         ("experiments/phase_diagram.py", set()), ("configs/paper.py", set()),
                         ("configs/sequel.py", set()),
                         ("sequel/parity.py", {"parity_run"}),
                         ("sequel/parity_batch.py", {"parity_run"}),
                         ("sequel/langevin.py", {"langevin_run"}),
                         ("sequel/parity_phase.py", set()), ("sequel/automata.py", set()),
                         ("sequel/algorithm.py", set()), ("sequel/rnn_theory.py", set()),
                         ("sequel/__init__.py", set()),
                         ("networks/stop.py", set(kinds) - {"langevin_run"}),
                         ("lab/engines.py", {"probe_run"}), ("lab/probing.py", {"probe_run"}),
                         ("lab/result.py", set()), ("lab/protocol.py", set()), ("lab/zoo.py", set()),
                         ("lab/width.py", set()),
                         ("presentation/plots.py", set()), ("runtime.py", set()), ("cache.py", set())):
        assert (pathlib.Path(cache.__file__).parent / rel).exists(), rel
        cache.code_version.cache_clear()
        monkeypatch.setattr(pathlib.Path, "read_bytes", edited(rel))
        after = {k: cache.code_version(k) for k in kinds}
        assert {k for k in kinds if after[k] != before[k]} == changes, rel
    monkeypatch.undo()
    cache.code_version.cache_clear()


def test_every_kind_the_package_caches_has_its_sources():
    """A kind missing from cache.SOURCES is keyed on the fit sources (networks, experiments, theory): right for
    the fits, wrong for a kind computed elsewhere. Every kind the package caches is listed or is a fit."""
    import pathlib
    import re
    src = "\n".join(p.read_text() for p in pathlib.Path(cache.__file__).parent.rglob("*.py"))
    kinds = set(re.findall(r'(?:cached|exists)\(\s*"([a-z_0-9]+)"', src)) | set(re.findall(r'_KIND = "([a-z_0-9]+)"', src))
    kinds -= {"demo"}                                   # the cache's own docstring example
    assert kinds - set(cache.SOURCES) == {"two_point_fit"}, kinds - set(cache.SOURCES)
    for kind in cache.SOURCES:
        assert cache.source_files(kind), kind


def test_prose_does_not_key_the_cache_and_code_does():
    a = b'"""Module doc."""\nimport math\n\n\ndef f(x):\n    """Doc."""\n    return x + 1  # one\n'
    prose = b'"""Other doc."""\nimport math\n\n\ndef f(x):\n    """Changed doc."""\n\n    return x + 1  # two\n'
    code = b'"""Module doc."""\nimport math\n\n\ndef f(x):\n    """Doc."""\n    return x + 2  # one\n'
    assert cache._code(a) == cache._code(prose) != cache._code(code)
    only_doc = b'def g():\n    """Only a docstring."""\n'
    assert cache._code(only_doc) == cache._code(b'def g():\n    pass\n')


def test_a_package_entry_point_keys_nothing_and_code_added_to_it_does(monkeypatch):
    """A facade (docstring, imports, ``__all__``) re-exports names keyed where they are defined: a name added to
    the theory's or the lab's entry point leaves every kind's code version as it was; a statement that runs in
    a package that keys a kind (the theory keys the fits) does not."""
    import pathlib
    facade = b'"""Entry."""\nfrom reptheory.x import a\n\n__all__ = ["a"]\n'
    grown = b'"""Entry, reworded."""\nfrom reptheory.x import a, b\nfrom reptheory.y import c\n\n__all__ = ["a", "b", "c"]\n'
    assert cache._code(facade) == cache._code(grown) == b""
    assert cache._code(grown + b"ORDER = sorted(__all__)\n") != b""
    real = pathlib.Path.read_bytes
    kinds = ("two_point_run", "two_point_fit", "parity_run", "probe_run", "langevin_run")
    before = {k: cache.code_version(k) for k in kinds}
    for rel, tail, changes in (("theory/__init__.py", b"\nfrom reptheory.theory.fit import fit_rates\n", set()),
                               ("lab/__init__.py", b"\nfrom reptheory.lab.zoo import ZOO\n", set()),
                               ("theory/__init__.py", b"\nRUNS = 1\n", {"two_point_fit"})):
        def read_bytes(self, rel=rel, tail=tail):
            return real(self) + (tail if self.as_posix().endswith(f"reptheory/{rel}") else b"")
        cache.code_version.cache_clear()
        monkeypatch.setattr(pathlib.Path, "read_bytes", read_bytes)
        after = {k: cache.code_version(k) for k in kinds}
        assert {k for k in kinds if after[k] != before[k]} == changes, (rel, tail)
        monkeypatch.undo()
    cache.code_version.cache_clear()


def test_runs_recorded_at_their_ends_do_not_depend_on_their_stack():
    """``train_ends`` (the batched engine, minibatches): a seed's run is the same bit for bit alone (``train``,
    which stacks it with a twin), in a stack of two and in a stack of three; with ``track``, the tracked points'
    outputs and distances every epoch, and the end activations are those of its last record."""
    b = data.blobs(n_centres=5)
    s = small(dataset="blobs", batch_size=16, epochs=6, lr=0.05, hidden_layers=3, layer=1, nonlinearity="tanh")
    alone = train.train(s, b.X, b.Y, seed=1, record="ends", track=(0, 4))
    two = train.train_ends(s, b.X, b.Y, [1, 2], track=(0, 4))
    three = train.train_ends(s, b.X, b.Y, [0, 2, 1], track=(0, 4))
    for r in (two[0], three[2]):
        for f in ("loss", "outputs", "dist2", "hidden"):
            np.testing.assert_array_equal(getattr(r, f), getattr(alone, f))
    assert alone.outputs.shape == (7, 2, 1) and alone.dist2.shape == (7, 3, 2, 2) and alone.engine == "torch-batch"
    np.testing.assert_allclose(alone.dist2[-1, 1, 0, 1], ((alone.hidden[1, 1, 0] - alone.hidden[1, 1, 4]) ** 2).sum(),
                               rtol=1e-5)
