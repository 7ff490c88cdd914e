"""rt.probe and the Fig. 5 protocol on arbitrary PyTorch models (reptheory.lab), and the chapter's zoo."""
import numpy as np
import pytest
import torch
from torch import nn

import reptheory as rt
from reptheory import cache, configs, lab, theory
from reptheory.lab import key as probe_key, protocol as probe_protocol, engines as probe_train, zoo
from reptheory.networks import data


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("REPTHEORY_CACHE", str(tmp_path / "cache"))


def tanh_net(seed=0, width=32, d_in=4, scale=0.5, drop=0.0):
    torch.manual_seed(seed)
    layers = [nn.Linear(d_in, width), nn.Tanh()] + ([nn.Dropout(drop)] if drop else []) + [
        nn.Linear(width, width), nn.Tanh(), nn.Linear(width, 1)]
    return zoo.scaled(nn.Sequential(*layers), scale)


def ref_data(d_in=4):
    return lab.pair_data(1.0, np.sqrt(0.5), (d_in,))


def test_pair_data_distances_and_shapes():
    X, Y = lab.pair_data(0.75, 0.25, (3, 5), out_dim=4)
    assert X.shape == (2, 3, 5) and Y.shape == (2, 4)
    assert np.isclose(((X[1] - X[0]) ** 2).sum(), 0.75 ** 2, rtol=1e-6)
    assert np.isclose(((Y[1] - Y[0]) ** 2).sum(), 0.25 ** 2, rtol=1e-6)
    assert np.isclose(np.linalg.norm(X[0]), 1.0, rtol=1e-6)
    X1, Y1 = lab.pair_data(1.0, np.sqrt(0.5), (1,))       # one number per input: the book's data
    Xb, Yb = data.two_points(1.0, 0.5)
    assert np.array_equal(X1, Xb) and np.allclose(Y1, Yb)


def test_probe_measures_the_pair_at_the_hooked_layer():
    net = tanh_net()
    X, Y = ref_data()
    r = lab.probe(net, X, Y, "3", lr=0.05, epochs=50, cache=False)
    with torch.no_grad():
        h = net[:4](torch.from_numpy(X)).double()
        out = net(torch.from_numpy(X)).double()
    assert np.isclose(r.measured.traj.h2[0], float(((h[1] - h[0]) ** 2).sum()), rtol=1e-9)
    d = out[1] - out[0]
    dy = torch.from_numpy(Y[1] - Y[0]).double()
    assert np.isclose(r.measured.traj.y2[0], float(d @ d), rtol=1e-9)
    assert np.isclose(r.measured.traj.w[0], float(d @ d - d @ dy), rtol=1e-9, atol=1e-15)
    assert np.isclose(r.measured.dx2, 1.0, rtol=1e-6) and np.isclose(r.measured.dy2, 0.5, rtol=1e-6)
    # Eq. 9's quantity: the pair's ¼ Σ ||ŷ − y||², here the training loss itself (two points, one output)
    assert np.allclose(r.measured.loss, r.loss, rtol=1e-12)
    assert r.measured.traj.t.size == 51


def test_probe_leaves_the_callers_model_and_generator_alone():
    net = tanh_net()
    before = [p.detach().clone() for p in net.parameters()]
    torch.manual_seed(123)
    state = torch.get_rng_state()
    lab.probe(net, *ref_data(), "3", lr=0.05, epochs=20, cache=False)
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters()))
    assert torch.equal(state, torch.get_rng_state())
    assert net.training and not any(h for m in net.modules() for h in m._forward_hooks.values())


def test_theory_follows_a_trained_network():
    """Theory against a network, not only against itself: a deep linear network trained in about a second
    follows Eq. 7 with the fitted rates within the default network's bars (15 %, 15 %, 25 %), and Eq. 10 from
    its initial values gives its final distance within 10 %."""
    net = zoo.ZOO["deep linear"].build(0, 1.0)
    r = lab.probe(net, *ref_data(zoo.D_IN), zoo.ZOO["deep linear"].layer, lr=0.01, epochs=1500, cache=False)
    assert r.converged and r.fit.identifiable, r.verdict
    assert r.fit.max_rel_dev["h2"] <= 0.15 and r.fit.max_rel_dev["y2"] <= 0.15 and r.fit.max_rel_dev["w"] <= 0.25
    assert abs(r.h_inf / r.h2_final - 1) <= 0.10
    assert r.holds and r.verdict.startswith("Eq. 7 and Eq. 10 hold")
    assert r.h2_final > 1.5 * r.measured.traj.h2[0]     # the representation moved: not a trivial lazy fit
    assert r.mean_fit is not None and r.mean_fit.max_rel_dev <= 0.15


def test_a_callable_layer_reads_the_same_representation_as_the_hook():
    X, Y = ref_data()
    hooked = lab.probe(tanh_net(), X, Y, "3", lr=0.05, epochs=30, cache=False)
    called = lab.probe(tanh_net(), X, Y, lambda m, x: m[:4](x), lr=0.05, epochs=30, cache=False)
    assert np.allclose(hooked.measured.traj.h2, called.measured.traj.h2, rtol=1e-6)
    assert np.array_equal(hooked.loss, called.loss)


def test_dropout_is_recorded_in_eval_mode_and_seeded():
    X, Y = ref_data()
    net = tanh_net(drop=0.2)
    a = lab.probe(net, X, Y, "4", lr=0.05, epochs=40, seed=3, cache=False)
    b = lab.probe(net, X, Y, "4", lr=0.05, epochs=40, seed=3, cache=False)
    c = lab.probe(net, X, Y, "4", lr=0.05, epochs=40, seed=4, cache=False)
    net.eval()
    with torch.no_grad():
        h = net[:5](torch.from_numpy(X)).double()
    assert np.isclose(a.measured.traj.h2[0], float(((h[1] - h[0]) ** 2).sum()), rtol=1e-9)
    assert np.array_equal(a.measured.traj.h2, b.measured.traj.h2)
    assert not np.array_equal(a.measured.traj.h2, c.measured.traj.h2)


def test_adam_and_a_tuple_output_layer():
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 16)

        def forward(self, x):
            return torch.tanh(self.lin(x)), None

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.block, self.out = Block(), nn.Linear(16, 1)

        def forward(self, x):
            return self.out(self.block(x)[0])

    torch.manual_seed(0)
    r = lab.probe(Net(), *ref_data(), "block", lr=1e-3, epochs=300, optimizer="adam", cache=False)
    assert r.measured.traj.h2.size == 301 and r.fit is not None


class GRUNet(nn.Module):
    """A recurrent model the chapter does not use: its last hidden state is read by :func:`gru_last`."""

    def __init__(self, hidden=16):
        super().__init__()
        self.gru, self.out = nn.GRU(3, hidden, batch_first=True), nn.Linear(hidden, 1)

    def forward(self, x):
        return self.out(self.gru(x)[0][:, -1])


def gru_last(m, x):
    return m.gru(x)[0][:, -1]


def test_models_beyond_the_zoo():
    """The API on models the chapter does not use: a GRU read through a callable (its last hidden state), and
    a small CNN through a hook on a convolution."""
    torch.manual_seed(0)
    X, Y = lab.pair_data(1.0, np.sqrt(0.5), (5, 3))
    r = lab.probe(GRUNet(), X, Y, gru_last, lr=0.05, epochs=200, cache=False)
    assert r.measured.traj.h2.size == 201 and np.all(np.isfinite(r.measured.traj.h2))
    cnn = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 36, 1))
    X, Y = lab.pair_data(1.0, np.sqrt(0.5), (1, 6, 6))
    r = lab.probe(cnn, X, Y, "1", lr=0.01, epochs=100, cache=False)
    assert r.measured.traj.h2.size == 101


def test_a_diverged_run_is_reported_and_not_fitted():
    r = lab.probe(tanh_net(scale=2.0), *ref_data(), "3", lr=500.0, epochs=200, cache=False)
    assert r.diverged and r.fit is None and np.isnan(r.h_inf)
    assert "diverged" in r.verdict and not r.holds
    assert np.all(np.isfinite(r.loss))


def test_stop_loss_ends_the_record_after_the_first_epoch_below_it():
    X, Y = ref_data()
    full = lab.probe(tanh_net(), X, Y, "3", lr=0.05, epochs=400, cache=False)
    k = int(np.argmax(full.loss < 1e-3))
    assert k > 0
    stopped = lab.probe(tanh_net(), X, Y, "3", lr=0.05, epochs=400, stop_loss=1e-3, cache=False)
    assert stopped.loss.size == k + 1 and not stopped.diverged
    assert np.array_equal(stopped.measured.traj.h2, full.measured.traj.h2[:k + 1])


@pytest.mark.parametrize("loss, stop, expect", [
    ([1.0, 0.5, 0.1], None, (3, False)),
    ([1.0, 0.5, np.nan, 0.1], None, (2, True)),
    ([1.0, 2e6, 0.1], None, (1, True)),
    ([1.0, 0.5, 1e-5, 1e-6], 1e-4, (3, False)),
    ([1.0, 1e-5, np.inf], 1e-4, (2, False)),
])
def test_end_rule(loss, stop, expect):
    loss = np.array(loss)
    assert probe_train.end(loss, np.ones_like(loss), stop) == expect


def test_cache_reuses_a_run_and_tells_models_apart():
    X, Y = ref_data()
    a = lab.probe(tanh_net(), X, Y, "3", lr=0.05, epochs=30)
    b = lab.probe(tanh_net(), X, Y, "3", lr=0.05, epochs=30)
    assert a.seconds == b.seconds                           # loaded, not retrained
    other = lab.probe(tanh_net(seed=1), X, Y, "3", lr=0.05, epochs=30)
    assert other.seconds != a.seconds

    class Plain(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin, self.out = nn.Linear(4, 8), nn.Linear(8, 1)

        def forward(self, x):
            return self.out(torch.tanh(self.lin(x)))

    class Other(Plain):             # same structure and weights, another forward: another entry
        def forward(self, x):
            return self.out(torch.sin(self.lin(x)))

    torch.manual_seed(0)
    p = Plain()
    torch.manual_seed(0)
    o = Other()
    assert probe_key.model_digest(p) != probe_key.model_digest(o)
    assert probe_key.model_digest(p) == probe_key.model_digest(p)


@pytest.mark.parametrize("kw, err, name", [
    (dict(model="net"), TypeError, "model"),
    (dict(layer="nope"), ValueError, "layer"),
    (dict(layer=3), TypeError, "layer"),
    (dict(lr=True), TypeError, "lr"),
    (dict(lr="0.1"), TypeError, "lr"),
    (dict(lr=-1.0), ValueError, "lr"),
    (dict(lr=float("nan")), ValueError, "lr"),
    (dict(epochs=10.0), TypeError, "epochs"),
    (dict(epochs=1), ValueError, "epochs"),
    (dict(optimizer="rmsprop"), ValueError, "optimizer"),
    (dict(pair=(0, 0)), ValueError, "pair"),
    (dict(pair=(0, 5)), ValueError, "pair"),
    (dict(pair=(True, 1)), ValueError, "pair"),
    (dict(seed=-1), ValueError, "seed"),
    (dict(stop_loss=0.0), ValueError, "stop_loss"),
    (dict(cache="yes"), TypeError, "cache"),
    (dict(X=np.full((2, 4), np.nan)), ValueError, "X"),
    (dict(Y=np.zeros((3, 1))), ValueError, "Y"),
    (dict(Y=np.zeros((2, 2))), ValueError, "output"),
    (dict(X=np.zeros((1, 4))), ValueError, "X"),
    (dict(layer=lambda m, x: m[:4](x)[0]), ValueError, "callable layer"),
])
def test_bad_inputs_name_the_argument(kw, err, name):
    X, Y = ref_data()
    args = dict(model=tanh_net(), X=X, Y=Y, layer="3", lr=0.05, epochs=5, cache=False) | kw
    model, X, Y, layer = args.pop("model"), args.pop("X"), args.pop("Y"), args.pop("layer")
    with pytest.raises(err, match=name):
        lab.probe(model, X, Y, layer, **args)


def test_a_layer_whose_first_axis_is_not_the_points_is_refused():
    class Swap(nn.Module):
        def forward(self, x):
            return x.T

    net = nn.Sequential(nn.Linear(4, 3), Swap(), nn.Flatten(0), nn.Unflatten(0, (2, 3)), nn.Linear(3, 1))
    with pytest.raises(ValueError, match="first axis"):
        lab.probe(net, *ref_data(), "1", lr=0.05, epochs=5, cache=False)


def test_probe_grid_predicts_each_point_from_its_own_start():
    def make(seed):
        return tanh_net(seed, width=8, d_in=2, scale=1.0)

    g = probe_protocol.probe_grid(make, "3", in_shape=(2,), lr=0.2, epochs=150, fit_seeds=(0, 1), n_jobs=1)
    assert len(g.fits) == 2 and len(g.grid.points) == len(configs.FIG5_PROTOCOL.points())
    rates = g.grid.rates
    assert len(rates.used) + len(rates.discarded) == 2
    for p in g.grid.points:
        if rates.used and np.isfinite(p.h2_0):
            want = theory.h_inf(p.h2_0, p.y2_0, rates.eta_h, rates.eta_y, p.dx ** 2, p.dy ** 2)
            assert p.predicted == pytest.approx(want, rel=1e-12)
    assert "pearson r" in g.grid.stats()


def test_survey_and_summary_on_a_small_spec():
    spec = zoo.Spec("tiny", lambda: nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 8), nn.Tanh(),
                                                  nn.Linear(8, 1)), (2,), "3", "a tiny tanh MLP")
    sv = probe_protocol.survey({"tiny": spec}, lr=0.2, epochs=150, fit_seeds=(0,), n_jobs=1)["tiny"]
    assert [s for s, _ in sv.tried] == sorted(probe_protocol.SCALES)
    assert sv.scale == min(s for s, final in sv.tried if final <= configs.FIG5_PROTOCOL.max_loss)
    assert sv.reference is sv.grid.fits[0]
    assert sv.half_step.loss.size > sv.reference.loss.size
    row = probe_protocol.summary(sv)
    assert row["model"] == "tiny" and np.isfinite(row["step error"])


def test_zoo_specs_build_and_track_a_middle_block():
    for spec in zoo.ZOO.values():
        net = spec.build(0, 0.5)
        x = torch.zeros(3, *spec.in_shape)
        assert tuple(net(x).shape) == (3, 1)
        assert spec.layer in dict(net.named_modules())
        a, b = spec.build(0, 0.5), spec.build(0, 1.0)
        lin = [m for m in a.modules() if isinstance(m, nn.Linear)][0]
        lin2 = [m for m in b.modules() if isinstance(m, nn.Linear)][0]
        assert torch.allclose(2 * lin.weight, lin2.weight)


def test_probe_kind_is_keyed_on_the_lab_modules_that_train():
    # and on the one batched engine they share with the paper's runs; the fits, verdicts, protocols and the zoo
    # are not: a probed network's code is in its model digest
    assert cache.SOURCES["probe_run"] == cache.SOURCES["probe_many"] == (
        "lab/engines.py", "lab/inputs.py", "lab/key.py", "lab/probing.py", "networks/stack.py", "networks/stop.py",
        "validate.py")
    assert rt.probe is lab.probe and rt.probe_many is lab.probe_many


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no GPU")
def test_gpu_matches_cpu():        # pragma: no cover (runs where a GPU is present)
    X, Y = ref_data()
    a = lab.probe(tanh_net(), X, Y, "3", lr=0.05, epochs=200, cache=False)
    b = lab.probe(tanh_net(), X, Y, "3", lr=0.05, epochs=200, cache=False, device="cuda")
    assert np.allclose(a.measured.traj.h2, b.measured.traj.h2, rtol=1e-4)
