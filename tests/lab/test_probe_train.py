"""Many networks trained together (reptheory.lab.engines.train_many, rt.probe_many) against one at a time."""
import copy
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from reptheory import lab
from reptheory.lab import key as probe_key
from test_lab import GRUNet, _own_cache, gru_last, tanh_net  # noqa: F401 (the fixture: each test has its own cache)


def data(dx=1.0, dy=0.5 ** 0.5, n=2, seed=0):
    X, Y = lab.pair_data(dx, dy, (4,), seed=seed)
    if n > 2:                       # more points than the pair: the pair is then a choice
        rng = np.random.default_rng(seed)
        X = np.concatenate([X, rng.normal(size=(n - 2, 4)).astype(np.float32)])
        Y = np.concatenate([Y, rng.normal(size=(n - 2, 1)).astype(np.float32)])
    return X, Y


def close(a, b, rtol=1e-4):
    """Records of one run from the two engines: float32 training, so agreement to rounding, relative to
    the curve's largest value."""
    assert a.measured.traj.t.size == b.measured.traj.t.size
    for x, y in ((a.measured.traj.h2, b.measured.traj.h2), (a.measured.traj.y2, b.measured.traj.y2),
                 (a.measured.traj.w, b.measured.traj.w), (a.loss, b.loss), (a.measured.loss, b.measured.loss)):
        assert np.max(np.abs(x - y)) <= rtol * np.max(np.abs(x)) + 1e-12


def test_a_batch_trains_each_network_as_probe_does():
    """Different data, pairs, learning rates, budgets and stop losses in one batch; each run equals its own
    probe to float32 rounding, with the same length (the stop rule and the budget cut it at the same
    epoch)."""
    runs = [dict(seed=0, X=data(n=4), pair=(0, 1), lr=0.05, epochs=300, stop_loss=None),
            dict(seed=1, X=data(1.5, 0.25, n=4, seed=1), pair=(2, 0), lr=0.1, epochs=120, stop_loss=None),
            dict(seed=2, X=data(0.5, 1.0, n=4, seed=2), pair=(1, 3), lr=0.1, epochs=900, stop_loss=1e-3, scale=1.0),
            dict(seed=3, X=data(n=4, seed=3), pair=(0, 1), lr=0.02, epochs=57, stop_loss=None)]
    models = [tanh_net(r["seed"], scale=r.get("scale", 0.5)) for r in runs]
    many = lab.probe_many(models, [r["X"][0] for r in runs], [r["X"][1] for r in runs], "3",
                          lr=[r["lr"] for r in runs], epochs=[r["epochs"] for r in runs],
                          pair=[r["pair"] for r in runs], stop_loss=[r["stop_loss"] for r in runs], cache=False)
    for r, m, got in zip(runs, models, many):
        one = lab.probe(m, *r["X"], "3", lr=r["lr"], epochs=r["epochs"], pair=r["pair"], stop_loss=r["stop_loss"],
                        cache=False)
        close(one, got)
        assert got.pair == r["pair"] and got.measured.dx2 == pytest.approx(one.measured.dx2)
        assert got.measured.m0 == pytest.approx(one.measured.m0, rel=1e-5)
        assert (got.fit is None) == (one.fit is None) and got.fit_message == one.fit_message
        if one.fit is not None:
            assert got.fit.eta_h == pytest.approx(one.fit.eta_h, rel=1e-3)
    assert many[1].measured.traj.t.size == 121 and many[3].measured.traj.t.size == 58
    assert many[2].loss[-1] < 1e-3 <= many[2].loss[-2]


def test_adam_a_callable_layer_and_a_diverging_member():
    X, Y = data()
    models = [tanh_net(s) for s in range(3)]
    layer = lambda m, x: m[:4](x)                                             # noqa: E731
    many = lab.probe_many(models, X, Y, layer, lr=1e-2, epochs=150, optimizer="adam", cache=False)
    for m, got in zip(models, many):
        close(lab.probe(m, X, Y, layer, lr=1e-2, epochs=150, optimizer="adam", cache=False), got)
    hooked = lab.probe_many(models, X, Y, "3", lr=1e-2, epochs=150, optimizer="adam", cache=False)
    for a, b in zip(many, hooked):
        assert np.array_equal(a.measured.traj.h2, b.measured.traj.h2)
    mixed = lab.probe_many([tanh_net(0, scale=2.0), tanh_net(1)], X, Y, "3", lr=[500.0, 0.05], epochs=200,
                           cache=False)
    assert mixed[0].diverged and mixed[0].fit is None and not mixed[1].diverged
    close(lab.probe(tanh_net(1), X, Y, "3", lr=0.05, epochs=200, cache=False), mixed[1])


def test_models_with_a_training_mode_or_randomness_are_trained_one_by_one():
    X, Y = data()
    drop = [tanh_net(s, drop=0.2) for s in range(2)]
    many = lab.probe_many(drop, X, Y, "4", lr=0.05, epochs=60, seed=[5, 6], cache=False, n_jobs=1)
    for m, s, got in zip(drop, (5, 6), many):
        one = lab.probe(m, X, Y, "4", lr=0.05, epochs=60, seed=s, cache=False)
        assert np.array_equal(one.measured.traj.h2, got.measured.traj.h2)       # the same path: bit for bit

    class Noisy(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin, self.out = nn.Linear(4, 8), nn.Linear(8, 1)

        def forward(self, x):
            return self.out(torch.tanh(self.lin(x) + 0.01 * torch.randn(8)))

    torch.manual_seed(0)
    nets = [Noisy(), Noisy()]
    with pytest.warns(RuntimeWarning, match="one by one"):
        many = lab.probe_many(nets, X, Y, "lin", lr=0.05, epochs=30, cache=False, n_jobs=1)
    assert np.array_equal(many[1].measured.traj.h2,
                          lab.probe(nets[1], X, Y, "lin", lr=0.05, epochs=30, cache=False).measured.traj.h2)


def test_the_callers_models_are_left_alone_and_a_batch_is_cached():
    X, Y = data()
    models = [tanh_net(s) for s in range(2)]
    before = [copy.deepcopy(m.state_dict()) for m in models]
    a = lab.probe_many(models, X, Y, "3", lr=0.05, epochs=50)
    for m, b in zip(models, before):
        assert all(torch.equal(m.state_dict()[k], v) for k, v in b.items())
    again = lab.probe_many(models, X, Y, "3", lr=0.05, epochs=50)
    assert [r.seconds for r in again] == [r.seconds for r in a]                 # loaded, not retrained
    unfitted = lab.probe_many(models, X, Y, "3", lr=0.05, epochs=50, fit=[True, False])
    assert unfitted[0].fit is not None and unfitted[1].fit is None
    assert "not fitted" in unfitted[1].verdict
    assert np.array_equal(unfitted[1].measured.traj.h2, a[1].measured.traj.h2)


@pytest.mark.parametrize("change, err, name", [
    (dict(models=[]), TypeError, "models"),
    (dict(models="net"), TypeError, "models"),
    (dict(models=[tanh_net(0), tanh_net(1, width=8)]), ValueError, r"models\[1\]"),
    (dict(models=[tanh_net(0), nn.Sequential(nn.Linear(4, 1))]), ValueError, r"models\[1\]"),
    (dict(lr=[0.1]), ValueError, "lr"),
    (dict(lr=[0.1, -1.0]), ValueError, r"lr\[1\]"),
    (dict(epochs=[10, 1]), ValueError, r"epochs\[1\]"),
    (dict(pair=[(0, 1), (1, 1)]), ValueError, r"pair\[1\]"),
    (dict(stop_loss=[None, 0.0]), ValueError, r"stop_loss\[1\]"),
    (dict(seed=[0, -2]), ValueError, r"seed\[1\]"),
    (dict(fit="yes"), TypeError, "fit"),
    (dict(X=[np.eye(2, 4), np.eye(3, 4)], Y=[np.zeros((2, 1)), np.zeros((3, 1))]), ValueError, "every X"),
    (dict(X=[np.eye(2, 4), np.full((2, 4), np.nan)]), ValueError, r"X\[1\]"),
    (dict(X=[np.eye(2, 4), np.zeros((2, 4))]), ValueError, r"X\[1\]\[0\] and X\[1\]\[1\] .* same point"),
    (dict(Y=np.zeros((2, 2))), ValueError, "output"),
])
def test_bad_inputs_name_the_argument(change, err, name):
    X, Y = data()
    args = dict(models=[tanh_net(0), tanh_net(1)], X=X, Y=Y, layer="3", lr=0.05, epochs=5, cache=False) | change
    models, X, Y, layer = args.pop("models"), args.pop("X"), args.pop("Y"), args.pop("layer")
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # a bad input is an error, not a fall-back
        with pytest.raises(err, match=name):
            lab.probe_many(models, X, Y, layer, **args)


def test_frozen_parameters_must_match_and_are_not_trained():
    X, Y = data()
    a, b = tanh_net(0), tanh_net(1)
    b[0].weight.requires_grad_(False)
    with pytest.raises(ValueError, match=r"models\[1\] trains other parameters"):
        lab.probe_many([a, b], X, Y, "3", lr=0.05, epochs=5, cache=False)
    a[0].weight.requires_grad_(False)
    many = lab.probe_many([a, b], X, Y, "3", lr=0.05, epochs=80, cache=False)
    for m, got in zip((a, b), many):
        close(lab.probe(m, X, Y, "3", lr=0.05, epochs=80, cache=False), got)


def test_models_beyond_the_zoo_batch_or_fall_back():
    """A small CNN read by a hook trains in one batch; a GRU (no vmap rule for aten::gru) falls back to
    one-by-one training, says so, and gives probe's numbers."""
    def cnn(seed):
        torch.manual_seed(seed)
        return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 36, 1))

    X, Y = lab.pair_data(1.0, np.sqrt(0.5), (1, 6, 6))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        many = lab.probe_many([cnn(0), cnn(1)], X, Y, "1", lr=0.01, epochs=100, cache=False)
    close(lab.probe(cnn(1), X, Y, "1", lr=0.01, epochs=100, cache=False), many[1])

    torch.manual_seed(0)
    nets = [GRUNet(8), GRUNet(8)]
    X, Y = lab.pair_data(1.0, np.sqrt(0.5), (5, 3))
    with pytest.warns(RuntimeWarning, match="one by one"):
        many = lab.probe_many(nets, X, Y, gru_last, lr=0.05, epochs=60, cache=False, n_jobs=1)
    assert np.array_equal(many[0].measured.traj.h2,
                          lab.probe(nets[0], X, Y, gru_last, lr=0.05, epochs=60, cache=False).measured.traj.h2)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no GPU")
def test_a_batch_on_the_gpu_matches_the_cpu():      # pragma: no cover (runs where a GPU is present)
    X, Y = data()
    models = [tanh_net(s) for s in range(3)]
    cpu = lab.probe_many(models, X, Y, "3", lr=0.05, epochs=200, stop_loss=[None, 1e-3, None], cache=False)
    gpu = lab.probe_many(models, X, Y, "3", lr=0.05, epochs=200, stop_loss=[None, 1e-3, None], cache=False,
                         device="cuda")
    for a, b in zip(cpu, gpu):
        close(a, b)


class Scaled(nn.Module):
    """A model whose forward pass reads a plain attribute."""

    def __init__(self, c):
        super().__init__()
        self.c, self.lin, self.out = c, nn.Linear(4, 8), nn.Linear(8, 1)

    def forward(self, x):
        return self.out(self.c * torch.tanh(self.lin(x)))


def test_plain_attributes_tell_models_apart():
    torch.manual_seed(0)
    a = Scaled(1.0)
    b = copy.deepcopy(a)
    b.c = 3.0
    assert probe_key.model_digest(a) != probe_key.model_digest(b)           # probe's cache keeps them apart
    X, Y = data()
    with pytest.raises(ValueError, match=r"models\[1\] differs from models\[0\] in a plain attribute"):
        lab.probe_many([a, b], X, Y, "lin", lr=0.05, epochs=5, cache=False)


def test_a_bad_input_fails_as_in_probe_not_as_a_fallback():
    X, Y = data()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"forward pass fails on X of shape \(2, 3\).*mat1 and mat2"):  # 3 for 4
            lab.probe_many([tanh_net(0), tanh_net(1)], X[:, :3], Y, "3", lr=0.05, epochs=5, cache=False)

        class Four(nn.Module):                      # 4 outputs of 1 number for 2 points of 2 numbers
            def __init__(self):
                super().__init__()
                self.lin = nn.Linear(4, 2)

            def forward(self, x):
                return self.lin(x).reshape(-1, 1)

        with pytest.raises(ValueError, match=r"output has shape \(4, 1\)"):
            lab.probe_many([Four(), Four()], X, np.zeros((2, 2), np.float32), "lin", lr=0.05, epochs=5,
                           cache=False)


def test_numpy_arrays_per_model_and_an_unused_parameter():
    class Spare(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin, self.out, self.unused = nn.Linear(4, 8), nn.Linear(8, 1), nn.Linear(3, 3)

        def forward(self, x):
            return self.out(torch.tanh(self.lin(x)))

    X, Y = data(n=4)
    torch.manual_seed(0)
    nets = [Spare(), Spare()]
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # no fall-back: the unused layer simply gets no step
        many = lab.probe_many(nets, X, Y, "lin", lr=np.array([0.05, 0.1]), epochs=np.array([40, 60]),
                              pair=np.array([[0, 1], [2, 3]]), fit=np.array([True, False]), cache=False)
    assert many[1].pair == (2, 3) and many[1].fit is None
    close(lab.probe(nets[1], X, Y, "lin", lr=0.1, epochs=60, pair=(2, 3), cache=False), many[1])
    with pytest.raises(TypeError, match="X: a list of datasets"):
        lab.probe_many(nets, [X, X.tolist()], Y, "lin", lr=0.05, epochs=5, cache=False)
