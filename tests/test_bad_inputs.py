"""Bad input, table-driven: every case names the call, the argument it spoils and the error it must raise.

The rule (``reptheory.validate``): numbers are int, float or numpy scalars; bools, strings and ``None`` are
refused; NaN and inf are refused; each value must lie in its range; arrays only where documented, with the
documented shape. Every error is a ``TypeError`` or ``ValueError`` (``KeyError`` for an unknown setting name,
``SolveError`` for rates the integrator cannot follow) whose message names the argument, so that no bad value surfaces from inside numpy, scipy or torch, and none is accepted.
"""
import dataclasses

import numpy as np
import pytest

from reptheory import configs, experiments, parallel, theory
from reptheory import cli
from reptheory.lab import protocol
from reptheory.networks import data, structure, train
from reptheory.presentation import display
from reptheory.sequel import rnn_expansion, weight_sharing
from reptheory.theory import fit, regimes

T = np.linspace(0.0, 100.0, 11)
CURVES = theory.solve(T, 0.1, 0.01, 0.0, 1e-2, 2e-2, 1.0, 0.5)

# (call, keyword arguments that work)
CALLS = {
    "solve": (lambda **k: theory.solve(**k),
              dict(t=T, h2_0=0.1, y2_0=0.01, w_0=0.0, eta_h=1e-2, eta_y=2e-2, dx2=1.0, dy2=0.5)),
    "solve_batch": (lambda **k: theory.solve_batch(**k),
                    dict(t=T, h2_0=0.1, y2_0=0.01, w_0=0.0, eta_h=1e-2, eta_y=2e-2, dx2=1.0, dy2=0.5)),
    "h_inf": (lambda **k: theory.h_inf(**k), dict(h2_0=0.1, y2_0=0.01, eta_h=1e-2, eta_y=2e-2, dx2=1.0, dy2=0.5)),
    "a_low": (lambda **k: theory.a_low(**k), dict(eta_h=1e-2, eta_y=2e-2, dx2=1.0, dy2=0.5)),
    "a_high": (lambda **k: theory.a_high(**k), dict(h2_0=0.1, y2_0=0.01, eta_h=1e-2, eta_y=2e-2, dx2=1.0)),
    "rich_limit": (lambda **k: theory.rich_limit(**k), dict(eta_h=1e-2, eta_y=2e-2, dx2=1.0, dy2=0.5)),
    "lazy_limit": (lambda **k: theory.lazy_limit(**k), dict(h2_0=0.1, y2_0=0.01, eta_h=1e-2, eta_y=2e-2, dx2=1.0)),
    "loss": (lambda **k: theory.loss(**k), dict(t=T, y2=CURVES.y2, w=CURVES.w, dy2=0.5, eta_ybar=1e-2, m0=0.1)),
    "fit_rates": (lambda **k: fit.fit_rates(**k),
                  dict(t=T, h2=CURVES.h2, y2=CURVES.y2, w=CURVES.w, dx2=1.0, dy2=0.5)),
    "fit_mean_rate": (lambda **k: fit.fit_mean_rate(**k),
                      dict(t=T, loss=0.1 + 0.0 * T, y2=CURVES.y2, w=CURVES.w, dy2=0.5, m0=0.1)),
    "two_points": (lambda **k: data.two_points(**k), dict(dx2=1.0, dy2=0.5, in_dim=1, out_dim=1)),
    "blobs": (lambda **k: data.blobs(**k), dict(n_centres=5, pixels=5)),
    "fmt": (lambda **k: display.fmt(**k), dict(x=1.0, sig=3)),
    "predicted_distances": (lambda **k: structure.predicted_distances(**k),
                            dict(h2_0=np.full((2, 2), 0.1), y2_0=np.full((2, 2), 0.01), dx2=np.ones((2, 2)),
                                 dy2=np.ones((2, 2)), eta_h=1e-2, eta_y=2e-2)),
    "plateau_ratio": (lambda **k: regimes.plateau_ratio(**k), dict(t=T, loss=np.exp(-T / 50))),
}

# bad values by the kind of argument: (value, label, error type)
NOT_A_NUMBER = [("0.1", "a string", TypeError), (True, "a bool", TypeError), (None, "None", TypeError),
                (np.nan, "NaN", ValueError), (np.inf, "inf", ValueError)]
POSITIVE = NOT_A_NUMBER + [(0.0, "zero", ValueError), (-1.0, "negative", ValueError)]
NONNEGATIVE = NOT_A_NUMBER + [(-1e-3, "negative", ValueError)]
CURVE = [("abc", "a string", TypeError), (np.ones((2, 11)), "2-D", ValueError),
         (np.r_[np.nan, np.ones(10)], "NaN inside", ValueError), (np.ones(5), "wrong length", ValueError)]
TIMES = [("abc", "a string", TypeError), (np.ones((2, 2)), "2-D", ValueError),
         (np.r_[0.0, 2.0, 1.0], "decreasing", ValueError), (np.r_[np.nan, 1.0], "NaN inside", ValueError),
         (np.r_[-1.0, 1.0], "negative", ValueError)]
INTEGER = [(0, "zero", ValueError), (-3, "negative", ValueError), (2.5, "a float", (TypeError, ValueError)),
           ("3", "a string", (TypeError, ValueError)), (True, "a bool", (TypeError, ValueError))]

ARGS = {
    "solve": dict(h2_0=POSITIVE, y2_0=NONNEGATIVE, w_0=NOT_A_NUMBER, eta_h=POSITIVE, eta_y=POSITIVE,
                  dx2=POSITIVE, dy2=NONNEGATIVE, t=TIMES),
    "solve_batch": dict(h2_0=POSITIVE, eta_h=POSITIVE, eta_y=POSITIVE, dx2=POSITIVE, dy2=NONNEGATIVE, t=TIMES),
    "h_inf": dict(h2_0=POSITIVE, y2_0=NONNEGATIVE, eta_h=POSITIVE, eta_y=POSITIVE, dx2=POSITIVE, dy2=NONNEGATIVE),
    "a_low": dict(eta_h=POSITIVE, eta_y=POSITIVE, dx2=POSITIVE, dy2=NONNEGATIVE),
    "a_high": dict(h2_0=POSITIVE, eta_h=POSITIVE, eta_y=POSITIVE, dx2=POSITIVE),
    "rich_limit": dict(eta_h=POSITIVE, dx2=POSITIVE, dy2=NONNEGATIVE),
    "lazy_limit": dict(h2_0=POSITIVE, eta_y=POSITIVE),
    "loss": dict(dy2=NONNEGATIVE, eta_ybar=POSITIVE, m0=NONNEGATIVE, y2=CURVE, t=TIMES),
    "fit_rates": dict(h2=CURVE, y2=CURVE, w=CURVE, dx2=POSITIVE, dy2=NONNEGATIVE, t=TIMES,
                      n_grid=INTEGER, n_starts=INTEGER),
    "fit_mean_rate": dict(loss=CURVE, dy2=NONNEGATIVE, m0=NONNEGATIVE),
    "two_points": dict(dx2=POSITIVE, dy2=NONNEGATIVE, in_dim=INTEGER, out_dim=INTEGER),
    "blobs": dict(n_centres=INTEGER, pixels=INTEGER),
    "fmt": dict(sig=INTEGER),
    "predicted_distances": dict(eta_h=POSITIVE, eta_y=POSITIVE),
    "plateau_ratio": dict(t=TIMES[:3]),
}

CASES = [pytest.param(call, arg, value, err, id=f"{call}-{arg}-{label}")
         for call, args in ARGS.items() for arg, bad in args.items() for value, label, err in bad]

# a list of seeds (reptheory.validate.seeds): a wrong kind of value is a TypeError, a wrong value a ValueError,
# the same at every public function that takes one; all are refused before anything trains
SEEDS = [(5, "a number", TypeError), ("01", "a string", TypeError), ((0, True), "a bool inside", TypeError),
         ((0, 1.0), "a float inside", TypeError), ((), "empty", ValueError), ((0, -1), "negative", ValueError)]
SEED_CALLS = {
    "two_point_seeds": lambda seeds: experiments.two_point_seeds("shallow", seeds=seeds, n_jobs=1),
    "plateau_ratios": lambda seeds: experiments.plateau_ratios(["shallow"], seeds, n_jobs=1),
    "train_many": lambda seeds: train.train_many(configs.get("shallow"), *data.two_points(1.0, 0.5), seeds,
                                                 n_jobs=1),
    "survey": lambda seeds: protocol.survey({}, lr=0.1, epochs=10, fit_seeds=seeds),
    "probe_grid": lambda seeds: protocol.probe_grid(lambda seed: None, "layer", in_shape=(2,), lr=0.1, epochs=10,
                                                    fit_seeds=seeds),
    "weight_sharing.sweep": lambda seeds: weight_sharing.sweep(seeds=seeds, n_jobs=1),
}


@pytest.mark.parametrize("call,value,err", [pytest.param(c, v, e, id=f"{c}-{label}") for c in SEED_CALLS
                                            for v, label, e in SEEDS])
def test_seed_lists_are_refused_alike(call, value, err, tmp_path, monkeypatch):
    monkeypatch.setenv("REPTHEORY_CACHE", str(tmp_path))
    with pytest.raises(err, match="seeds"):
        SEED_CALLS[call](value)
    assert not list(tmp_path.iterdir()), "nothing may be trained or cached for refused seeds"


@pytest.mark.parametrize("call,arg,value,err", CASES)
def test_api_refuses_bad_input_naming_the_argument(call, arg, value, err):
    fn, good = CALLS[call]
    with pytest.raises(err) as info:
        fn(**(good | {arg: value}))
    assert arg in str(info.value), f"the message does not name {arg!r}: {info.value}"


# -- settings: every field, bad values of its kind ---------------------------------------------------------
SETTING_BAD = {
    "arch": [("transformer", ValueError), (3, ValueError)],
    "nonlinearity": [("gelu", ValueError), (None, ValueError)],
    "optimizer": [("rmsprop", ValueError)],
    "dataset": [("cifar", ValueError)],
    "gain": [(0.0, ValueError), (-1.0, ValueError), (np.nan, ValueError), (np.inf, ValueError), ("1", ValueError),
             (True, ValueError)],
    "lr": [(0.0, ValueError), (-0.1, ValueError), (np.nan, ValueError), (True, ValueError), (None, ValueError)],
    "dx2": [(0.0, ValueError), (np.inf, ValueError), ("1", ValueError)],
    "dy2": [(-1.0, ValueError), (np.nan, ValueError), (np.inf, ValueError), (True, ValueError)],
    "epochs": [(0, ValueError), (1.5, ValueError), (True, ValueError), ("10", ValueError)],
    "width": [(0, ValueError), (-5, ValueError), (10.0, ValueError)],
    "hidden_layers": [(0, ValueError), (None, ValueError)],
    "layer": [(-1, ValueError), (20, ValueError), (1.0, ValueError)],
    "batch_size": [(0, ValueError), (2.5, ValueError)],
    "seeds": [((), ValueError), ((-1,), ValueError), ((1.5,), ValueError), ("0", ValueError)],
    "stop_loss": [(0.0, ValueError), (-1.0, ValueError), (np.nan, ValueError), (True, ValueError)],
}


@pytest.mark.parametrize("field,value,err", [pytest.param(f, v, e, id=f"Setting-{f}-{v!r}")
                                             for f, bad in SETTING_BAD.items() for v, e in bad])
def test_setting_refuses_bad_fields(field, value, err):
    with pytest.raises(err, match=f"{field} = "):
        configs.Setting(name="bad", **{field: value})


def test_setting_accepts_numpy_scalars_as_python_numbers():
    s = configs.Setting(name="np", epochs=np.int64(10), lr=np.float32(0.5), seeds=[np.int64(3)])
    assert type(s.epochs) is int and type(s.lr) is float and s.seeds == (3,)


# -- entry points that take names, devices, jobs ------------------------------------------------------------
SMALL = configs.Setting(name="small", width=10, hidden_layers=2, layer=1, epochs=5)
X2, Y2 = data.two_points(1.0, 0.5)
OTHER = [
    ("get-name", lambda: configs.get("fig99"), KeyError, "fig99"),      # an unknown name is a LookupError
    ("get-profile", lambda: configs.get("default", "bogus"), ValueError, "profile"),
    ("get-empty-profile", lambda: configs.get("default", ""), ValueError, "profile"),
    ("two_point-setting", lambda: experiments.two_point(3.5), TypeError, "setting"),
    ("two_point-profile", lambda: experiments.two_point(SMALL, profile="bogus"), ValueError, "profile"),
    ("train-setting", lambda: train.train("default", X2, Y2, 0), TypeError, "setting"),
    ("train-X-shape", lambda: train.train(SMALL, X2[:1], Y2[:1], 0), ValueError, "X"),
    ("train-X-nan", lambda: train.train(SMALL, X2 * np.nan, Y2, 0), ValueError, "X"),
    ("train-Y-inf", lambda: train.train(SMALL, X2, Y2 * np.inf, 0), ValueError, "Y"),
    ("train-record", lambda: train.train(SMALL, X2, Y2, 0, record="all"), ValueError, "record"),
    ("train-engine", lambda: train.train(SMALL, X2, Y2, 0, engine="jax"), ValueError, "engine"),
    ("train-track", lambda: train.train(SMALL, X2, Y2, 0, record="ends", track=(0, 5)), ValueError, "track"),
    ("train_batch-seeds", lambda: train.train_batch(SMALL, [(X2, Y2)], [0, 1]), ValueError, "seed"),
    ("train_batch-adam", lambda: train.train_batch(dataclasses.replace(SMALL, optimizer="adam"), [(X2, Y2)], [0]),
     ValueError, "optimizer"),
    ("device-name", lambda: train.device("tpu"), ValueError, "device"),
    ("device-index", lambda: train.device("cuda:7"), ValueError, "cuda"),
    ("n_jobs-zero", lambda: parallel.run(abs, [(1,)], n_jobs=0), ValueError, "n_jobs"),
    ("n_jobs-bool", lambda: parallel.run(abs, [(1,)], n_jobs=True), TypeError, "n_jobs"),
    ("n_jobs-float", lambda: parallel.run(abs, [(1,)], n_jobs=2.0), TypeError, "n_jobs"),
    ("mean_rates-n_jobs", lambda: experiments.mean_rates(SMALL, n_jobs=-1), ValueError, "n_jobs"),
    ("fit_rates-method", lambda: fit.fit_rates(T, CURVES.h2, CURVES.y2, CURVES.w, 1.0, 0.5, method="euler"),
     ValueError, "method"),
    ("solve-method", lambda: theory.solve(T, 0.1, 0.01, 0.0, 1e-2, 2e-2, 1.0, 0.5, method="euler"), ValueError,
     "method"),
    ("solve-w_0-range", lambda: theory.solve(T, 0.1, 0.01, 5.0, 1e-2, 2e-2, 1.0, 0.5), ValueError, "w_0"),
    ("solve-eta_h-array", lambda: theory.solve(T, 0.1, 0.01, 0.0, np.array([1e-2, 2e-2]), 2e-2, 1.0, 0.5),
     (TypeError, ValueError), "eta_h"),
    ("solve-eta_h-huge", lambda: theory.solve(T, 0.1, 0.01, 0.0, 1e300, 2e-2, 1.0, 0.5),
     (ValueError, theory.SolveError), "eta_h"),
    ("rhs-z", lambda: theory.rhs(0.0, np.ones(2), 1e-2, 2e-2, 1.0, 0.5), ValueError, "z"),
    ("fixed_expansion-n", lambda: rnn_expansion.fixed_expansion([1, 2], [0, 1], n=0, scale=0.1, t=T),
     ValueError, "n"),
    ("fixed_expansion-scale", lambda: rnn_expansion.fixed_expansion([1, 2], [0, 1], scale=-1.0, t=T),
     ValueError, "scale"),
    ("fixed_expansion-lr", lambda: rnn_expansion.fixed_expansion([1, 2], [0, 1], lr="fast", scale=0.1, t=T),
     (TypeError, ValueError), "lr"),
]


@pytest.mark.parametrize("fn,err,name", [pytest.param(f, e, n, id=i) for i, f, e, n in OTHER])
def test_entry_points_refuse_bad_input(fn, err, name):
    with pytest.raises(err) as info:
        fn()
    assert name in str(info.value), f"the message does not name {name!r}: {info.value}"


# -- the command line: usage and setup errors exit with status 2 before any kernel starts ------------------
CLI = [
    ("figure", ["reproduce", "fig99"]),
    ("jobs-zero", ["reproduce", "fig2", "--jobs", "0"]),
    ("jobs-text", ["reproduce", "fig2", "--jobs", "two"]),
    ("timeout-negative", ["reproduce", "fig2", "--timeout", "-5"]),
    ("profile", ["reproduce", "fig2", "--profile", "bogus"]),
    ("backend", ["reproduce", "fig2", "--backend", "spark"]),
    ("device", ["reproduce", "fig2", "--device", "tpu"]),
    ("device-missing", ["reproduce", "fig2", "--device", "cuda:9"]),
    ("no-command", []),
    ("unknown-option", ["reproduce", "fig2", "--fast"]),
    ("hours-without-yes", ["reproduce", "fig5", "--profile", "paper", "--jobs", "2"]),
    ("days-without-yes", ["reproduce", "parity_phase", "--profile", "paper", "--jobs", "1"]),
    ("jobs-negative", ["reproduce", "fig2", "--jobs", "-1"]),
    ("jobs-huge", ["reproduce", "fig5", "--profile", "paper", "--jobs", "100000", "--yes"]),
    ("jobs-huge-on-a-cluster", ["reproduce", "fig2", "--jobs", "5000", "--backend", "dask"]),
    ("out-empty", ["reproduce", "fig2", "--out", ""]),
    ("out-blank", ["reproduce", "fig2", "--out", " "]),
    ("cache-empty", ["reproduce", "fig2", "--cache", ""]),
]


def _status(argv) -> int:
    """The exit status of ``python -m reptheory ARGV``: argparse exits, the checks before a kernel return."""
    try:
        return cli.main(argv)
    except SystemExit as exc:
        return exc.code


@pytest.mark.parametrize("argv", [pytest.param(a, id=f"cli-{i}") for i, a in CLI])
def test_cli_refuses_bad_options_with_status_2(argv, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert _status(argv) == cli.BAD_SETUP == 2
    assert capsys.readouterr().err.strip(), "a refused command says why on stderr"
    assert not list(tmp_path.iterdir()), "a refused command must not write anything"


@pytest.mark.parametrize("variable,value", [("REPTHEORY_N_JOBS", "abc"), ("REPTHEORY_N_JOBS", "100000"),
                                            ("REPTHEORY_PROGRESS", "yes"), ("REPTHEORY_BACKEND", "spark")])
def test_cli_refuses_a_bad_environment_variable_naming_it(variable, value, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(variable, value)
    assert _status(["reproduce", "fig2"]) == 2
    err = capsys.readouterr().err
    assert variable in err and value in err and "Traceback" not in err
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("where", ["env", "option"])
def test_cli_refuses_a_cache_folder_under_a_file(where, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "AFILE").write_text("")
    argv = ["reproduce", "fig2", "--out", str(tmp_path / "o")]
    if where == "env":
        monkeypatch.setenv("REPTHEORY_CACHE", str(tmp_path / "AFILE" / "c"))
    else:
        argv += ["--cache", str(tmp_path / "AFILE" / "c")]
    assert _status(argv) == 2 and "is a file, not a folder" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["AFILE"]


def test_cli_refuses_a_second_run_on_the_same_out(tmp_path, capsys):
    """Two reproduce runs on one --out would share its files: the second is refused while the first holds the
    folder's lock (held here by the test itself)."""
    import fcntl
    out = tmp_path / "o"
    out.mkdir()
    with open(out / cli.LOCK, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert _status(["reproduce", "fig2", "--out", str(out)]) == 2
    assert "in use by another reproduce run" in capsys.readouterr().err


def test_cli_refuses_an_out_folder_that_is_a_file(tmp_path, capsys):
    f = tmp_path / "taken"
    f.write_text("")
    assert _status(["reproduce", "fig2", "--out", str(f)]) == 2 and "--out" in capsys.readouterr().err


def test_the_table_is_large():
    n = len(CASES) + sum(len(v) for v in SETTING_BAD.values()) + len(OTHER) + len(CLI) + 1
    assert n >= 200, n


def test_cli_names_the_estimate_and_the_way_on(capsys):
    assert _status(["reproduce", "fig5", "--profile", "paper", "--jobs", "2"]) == 2
    err = capsys.readouterr().err
    assert "estimated at 4.5 hours on 2 workers" in err and "--yes" in err


# -- rt.probe / rt.probe_many: what a network and its data may be ------------------------------------------
# Each row: the call, and the error it must raise before any training, naming the argument (the model's
# parameter, X, lr, ...). None of these may surface from inside torch or numba.
import functools  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402

from reptheory import lab  # noqa: E402

PX, PY = lab.pair_data(1.0, 0.5 ** 0.5, (1,))


def _net(dtype=torch.float32):
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(1, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)).to(dtype)


def _poisoned(value):
    m = _net()
    with torch.no_grad():
        m[0].weight[0, 0] = value
    return m


class _Returns(torch.nn.Module):
    def __init__(self, wrap):
        super().__init__()
        self.net, self.wrap = _net(), wrap

    def forward(self, x):
        return self.wrap(self.net(x))


def _old_weight_norm():
    import warnings
    m = _net()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)      # deprecated in torch, still used
        torch.nn.utils.weight_norm(m[0])
    return m


class _NoParameters(torch.nn.Module):
    def forward(self, x):
        return 2 * x


def _probe(model=None, X=PX, Y=PY, layer="1", **kw):
    kw = {"lr": 0.05, "epochs": 20, "cache": False} | kw
    return lab.probe(_net() if model is None else model, X, Y, layer, **kw)


def _many(models=None, X=PX, Y=PY, layer="1", **kw):
    return lab.probe_many([_net(), _net()] if models is None else models, X, Y, layer,
                          **({"lr": 0.05, "epochs": 20, "cache": False} | kw))


PROBE = [
    ("tuple-output", lambda: _probe(_Returns(lambda y: (y, y)), layer="net.1"), TypeError, "one tensor"),
    ("dict-output", lambda: _probe(_Returns(lambda y: {"out": y}), layer="net.1"), TypeError, "one tensor"),
    ("many-tuple-output", lambda: _many([_Returns(lambda y: (y, y))] * 2, layer="net.1"), TypeError, "one tensor"),
    ("layer-missing", lambda: _probe(layer="7"), ValueError, "layer '7'"),
    ("layer-int", lambda: _probe(layer=1), TypeError, "layer"),
    ("X-bool", lambda: _probe(X=np.array([[True], [False]])), TypeError, "X"),
    ("X-complex", lambda: _probe(X=PX.astype(complex)), TypeError, "X"),
    ("X-complex-tensor", lambda: _probe(X=torch.tensor(PX, dtype=torch.complex64)), TypeError, "X"),
    ("X-beyond-float32", lambda: _probe(X=np.array([[1e39], [-1e39]])), ValueError, "X must be finite in float32"),
    ("X-identical-points", lambda: _probe(X=np.array([[1.0], [1.0]])), ValueError, "same point"),
    ("X-identical-in-float32", lambda: _probe(X=np.array([[1.0], [1.0 + 1e-12]])), ValueError, "same point"),
    ("many-X-identical", lambda: _many(X=np.array([[1.0], [1.0]])), ValueError, "same point"),
    ("model-none", lambda: lab.probe(None, PX, PY, "1", lr=0.1, epochs=5), TypeError, "model"),
    ("model-no-parameters", lambda: _probe(_NoParameters(), layer=""), ValueError, "no trainable parameters"),
    ("model-nan-weight", lambda: _probe(_poisoned(float("nan"))), ValueError, "'0.weight' holds NaN"),
    ("model-inf-weight", lambda: _probe(_poisoned(float("inf"))), ValueError, "'0.weight' holds NaN or inf"),
    ("many-nan-weight", lambda: _many([_net(), _poisoned(float("nan"))]), ValueError, r"models\[1\]'s parameter"),
    ("model-float64", lambda: _probe(_net(torch.float64)), TypeError, "float64"),
    ("model-float16", lambda: _probe(_net(torch.float16)), TypeError, "float16"),
    ("many-float64", lambda: _many([_net(torch.float64)] * 2), TypeError, "float64"),
    ("model-torchscript", lambda: _probe(torch.jit.script(_net())), TypeError, "TorchScript"),
    ("model-meta", lambda: _probe(_net().to("meta")), ValueError, "meta device"),
    ("pair-equal", lambda: _probe(pair=(1, 1)), ValueError, "pair"),
    ("pair-out-of-range", lambda: _probe(pair=(0, 2)), ValueError, "pair"),
    ("pair-negative", lambda: _probe(pair=(-1, 0)), ValueError, "pair"),
    ("pair-bool", lambda: _probe(pair=(False, True)), ValueError, "pair"),
    ("many-pair-out-of-range", lambda: _many(pair=[(0, 1), (0, 3)]), ValueError, r"pair\[1\]"),
    ("lr-1e308", lambda: _probe(lr=1e308), ValueError, "lr must be a number in"),
    ("lr-1e308-adam", lambda: _probe(lr=1e308, optimizer="adam"), ValueError, "lr"),
    ("epochs-1e12", lambda: _probe(epochs=10**12), ValueError, "epochs must be an integer in"),
    ("many-epochs-1e12", lambda: _many(epochs=10**12), ValueError, r"epochs\[0\]"),
    ("many-records-too-large", lambda: _many([_net()] * 300, epochs=10**7), ValueError, "GiB"),
    ("seed-2**64", lambda: _probe(seed=2**64), ValueError, "seed must be an integer in"),
    ("seed-True", lambda: _probe(seed=True), TypeError, "seed"),
    ("many-seed-2**64", lambda: _many(seed=2**64), ValueError, r"seed\[0\]"),
    ("many-seed-True", lambda: _many(seed=True), TypeError, r"seed\[0\]"),
    ("many-empty", lambda: _many([]), TypeError, "models"),
    ("stop_loss-negative", lambda: _probe(stop_loss=-1.0), ValueError, "stop_loss"),
    ("cache-text", lambda: _probe(cache="yes"), TypeError, "cache"),
    ("X-without-a-feature-axis", lambda: _probe(X=np.array([-1.0, 0.0])), ValueError, r"forward pass fails on X"),
    ("X-sparse", lambda: _probe(X=torch.tensor(PX).to_sparse()), TypeError, "dense"),
    ("layer-the-module-itself", lambda: (lambda m: _probe(m, layer=m[1]))(_net()), TypeError, r"here '1'"),
    ("model-old-weight-norm", lambda: _probe(_old_weight_norm()), TypeError, "cannot be copied"),
    ("many-n_jobs-zero", lambda: _many(n_jobs=0), ValueError, "n_jobs"),
    ("many-progress-text", lambda: _many(progress="yes"), TypeError, "progress"),
]


@pytest.mark.parametrize("fn,err,match", [pytest.param(f, e, m, id=i) for i, f, e, m in PROBE])
def test_probe_refuses_what_it_cannot_train_before_training(fn, err, match):
    with pytest.raises(err, match=match):
        fn()


# inputs a probe takes as they are (cast to float32), and a run that diverged before its first record
PROBE_TAKES = [
    ("X-int", lambda: _probe(X=np.array([[1], [2]]))),
    ("X-float16-tensor", lambda: _probe(X=torch.tensor(PX, dtype=torch.float16))),
    ("X-float64-tensor", lambda: _probe(X=torch.tensor(PX, dtype=torch.float64))),
    ("X-requires-grad", lambda: _probe(X=torch.tensor(PX, requires_grad=True))),
    ("X-nested-list", lambda: _probe(X=PX.tolist())),
    ("pair-numpy-array", lambda: _probe(pair=np.array([0, 1]))),
    ("Y-int-tensor", lambda: _probe(Y=torch.tensor([[0], [1]]))),
    ("one-unit-layer", lambda: _probe(torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Tanh(),
                                                          torch.nn.Linear(1, 1)))),
]


@pytest.mark.parametrize("fn", [pytest.param(f, id=i) for i, f in PROBE_TAKES])
def test_probe_takes_real_inputs_of_any_dtype(fn):
    r = fn()
    assert r.measured.traj.h2.size == 21 and not r.diverged and isinstance(r.verdict, str)


def test_a_huge_learning_rate_is_a_diverged_run_reported_not_an_error():
    r = _probe(lr=1e30)
    assert r.diverged and r.fit is None and "diverged after" in r.verdict


def test_a_run_that_diverges_at_its_first_record_reports_it():
    m = _net()
    with torch.no_grad():
        m[2].weight.fill_(3e38)             # finite weights whose outputs overflow float32 at once
    r = _probe(m)
    assert r.diverged and r.measured.traj.h2.size == 0 and np.isnan(r.h2_final)
    assert "diverged at its first record" in r.verdict


# -- solvers: times and rates of any size get the answer, or a clear error, at once -------------------------
# (the bound of 10 s catches a hang, not a speed: each of these takes well under a second)
Z0 = dict(h2_0=1e-3, y2_0=1e-5, w_0=-1e-3, dx2=1.0, dy2=0.5)
HINF = theory.h_inf(1e-3, 1e-5, 7.4e-4, 4.5e-2, 1.0, 0.5)
ANSWERS = [
    ("solve-t-1e50", lambda: theory.solve([0.0, 1e50], eta_h=7.4e-4, eta_y=4.5e-2, **Z0).h2[-1], HINF),
    ("solve-t-1e300", lambda: theory.solve([0.0, 1.0, 1e300], eta_h=7.4e-4, eta_y=4.5e-2, **Z0).h2[-1], HINF),
    ("solve-rates-1e25", lambda: theory.solve(np.arange(101.0), eta_h=1e25, eta_y=1e25, **Z0).h2[-1],
     theory.h_inf(1e-3, 1e-5, 1.0, 1.0, 1.0, 0.5)),
    ("solve-dy2-0-t-1e50", lambda: theory.solve([0.0, 1e50], 1e-3, 1e-5, 1e-5, 7.4e-4, 4.5e-2, 1.0, 0.0).h2[-1],
     theory.h_inf(1e-3, 1e-5, 7.4e-4, 4.5e-2, 1.0, 0.0)),
    # Eq. 10 past the float range of its intermediate terms: A_high -> -2e10·..., the root dy2·h2_0/y2_0
    ("h_inf-ratio-1e310", lambda: theory.h_inf(1.0, 2.0, 1e300, 1e-10, 1.0, 0.25), 0.125),
    # h² + 1e308 h − 1e616 = 0: h = 1e308 (√5 − 1)/2
    ("h_inf-dx2-dy2-1e308", lambda: theory.h_inf(1.0, 1.0, 1.0, 1.0, 1e308, 1e308), 1e308 * (5 ** 0.5 - 1) / 2),
    ("solve-sample-on-the-horizon", lambda: theory.solve(np.logspace(0, 35, 36), eta_h=1.0, eta_y=1.0, **Z0).h2[-1],
     theory.h_inf(1e-3, 1e-5, 1.0, 1.0, 1.0, 0.5)),
    ("solve-span-1e-310", lambda: theory.solve([0.0, 1e-310], eta_h=1.0, eta_y=1.0, **Z0).h2[-1], 1e-3),
    ("solve-rates-5e-324", lambda: theory.solve([0.0, 0.1, 0.2], eta_h=5e-324, eta_y=5e-324, **Z0).h2[-1], 1e-3),
    ("solve-starts-at-its-fixed-point", lambda: theory.solve([0.0, 1.0, 1e50], 1.0, 0.5, 0.0, 1e-2, 1e-2, 1.0,
                                                              0.5).h2[-1], 1.0),
    ("h_inf-cancellation-exact", lambda: theory.h_inf(1e300, 1.0, 1e300, 1.0, 1e300, 5e-324),
     float(np.sqrt(5e-324 * 1e300) * 1e150)),
    ("h_inf-underflow-1e-220", lambda: theory.h_inf(1e-160, 1e160, 1.0, 1.0, 1.0, 1e100), 1e-220),
    ("fixed_expansion-t-5e-324", lambda: rnn_expansion.fixed_expansion((1, 10), (1.0, 1.0), scale=0.05,
                                                                        t=[0.0, 5e-324]).distance[-1],
     float((rnn_expansion.initial_values(0.05)[1] - rnn_expansion.initial_values(0.05)[0]) ** 2)),
    ("fixed_expansion-t-1e-300", lambda: rnn_expansion.fixed_expansion((1, 10), (1.0, 1.0), scale=0.05,
                                                                        t=[0.0, 1e-300]).distance[-1],
     float((rnn_expansion.initial_values(0.05)[1] - rnn_expansion.initial_values(0.05)[0]) ** 2)),
]


@pytest.mark.parametrize("fn,expect", [pytest.param(f, v, id=i) for i, f, v in ANSWERS])
def test_solvers_answer_for_any_size_of_time_and_rate(fn, expect):
    start = time.perf_counter()
    got = fn()
    assert time.perf_counter() - start < 10, "a hang, not an answer"
    assert got == pytest.approx(expect, rel=1e-6)


REFUSALS = [
    ("solve-rk4-t-1e20", lambda: theory.solve([0.0, 1e20], eta_h=7.4e-4, eta_y=4.5e-2, method="rk4", **Z0),
     theory.SolveError, "method='radau'"),
    ("solve-rk4-rates-1e18", lambda: theory.solve(np.arange(101.0), eta_h=1e18, eta_y=1e18, method="rk4", **Z0),
     theory.SolveError, "too stiff"),
    ("solve-dy2-0-decay-without-end", lambda: theory.solve([0.0, 1e50], 1e-3, 1e-3, 1e-3, 7.4e-4, 4.5e-2, 1.0, 0.0),
     theory.SolveError, "horizon"),
    ("fixed_expansion-t-1e12", lambda: rnn_expansion.fixed_expansion((1, 10), (1.0, 1.0), scale=0.05, t=[0, 1e12]),
     ValueError, "t must end by"),
    ("fixed_expansion-lr-1e4", lambda: rnn_expansion.fixed_expansion((1, 10), (1.0, 1.0), lr=1e4, scale=0.05,
                                                                      t=[0, 1e10]), ValueError, "lr must lie in"),
    ("fixed_expansion-lr-1e150", lambda: rnn_expansion.fixed_expansion((1, 10), (1.0, 1.0), lr=1e150, scale=0.05,
                                                                        t=[0, 1e-150]), ValueError, "lr"),
    ("fixed_expansion-large-targets-long", lambda: rnn_expansion.fixed_expansion((1, 10), (1e3, -1e3), scale=0.05,
                                                                                  t=[0, 1e6]),
     ValueError, "t must end by"),
    ("fixed_expansion-lengths-empty", lambda: rnn_expansion.fixed_expansion((), (1.0, 1.0), scale=0.1, t=T),
     ValueError, "lengths"),
    ("fixed_expansion-length-negative", lambda: rnn_expansion.fixed_expansion((-1, 3), (1.0, 1.0), scale=0.1, t=T),
     ValueError, r"lengths\[0\]"),
    ("fixed_expansion-length-float", lambda: rnn_expansion.fixed_expansion((1.5, 3), (1.0, 1.0), scale=0.1, t=T),
     TypeError, r"lengths\[0\]"),
    ("fixed_expansion-targets-mismatched", lambda: rnn_expansion.fixed_expansion((1, 3), ([1.0, 2.0], [1.0]),
                                                                                  scale=0.1, t=T),
     ValueError, "targets"),
    ("fixed_expansion-targets-three", lambda: rnn_expansion.fixed_expansion((1, 3), (1.0, 1.0, 2.0), scale=0.1, t=T),
     ValueError, "targets"),
    ("fixed_expansion-target-complex", lambda: rnn_expansion.fixed_expansion((1, 3), (1j, 1.0), scale=0.1, t=T),
     TypeError, r"targets\[0\]"),
    ("fixed_expansion-target-huge", lambda: rnn_expansion.fixed_expansion((1, 3), (1e200, 1e200), scale=0.1, t=T),
     ValueError, r"targets\[0\]"),
    ("fixed_expansion-t-not-increasing", lambda: rnn_expansion.fixed_expansion((1, 3), (1.0, 1.0), scale=0.1,
                                                                                t=[0.0, 2.0, 2.0]), ValueError, "t"),
    ("fixed_expansion-t-empty", lambda: rnn_expansion.fixed_expansion((1, 3), (1.0, 1.0), scale=0.1, t=[]),
     ValueError, "t"),
    ("fixed_expansion-scale-zero", lambda: rnn_expansion.fixed_expansion((1, 3), (1.0, 1.0), scale=0.0, t=T),
     ValueError, "scale"),
    ("fixed_expansion-scale-inf", lambda: rnn_expansion.fixed_expansion((1, 3), (1.0, 1.0), scale=np.inf, t=T),
     ValueError, "scale"),
    ("fixed_expansion-scale-1e200", lambda: rnn_expansion.fixed_expansion((1, 3), (1.0, 1.0), scale=1e200, t=T),
     ValueError, "scale"),
    ("fixed_expansion-rtol-1", lambda: rnn_expansion.fixed_expansion((1, 3), (1.0, 1.0), scale=0.1, t=T, rtol=1.0),
     ValueError, "rtol"),
    ("validate-complex", lambda: theory.h_inf(1j, 0.1, 1.0, 1.0, 1.0, 0.5), TypeError, "h2_0"),
    ("validate-datetime", lambda: theory.h_inf(np.datetime64("2020"), 0.1, 1.0, 1.0, 1.0, 0.5), TypeError, "h2_0"),
    # Radau past the rate ratio it resolves (it would return h2 = 1e-28 where the answer is 5), and dy2 = 1e40
    # (it would return 0 where the answer is 1e20): refused, never a wrong answer
    ("solve-ratio-1e16", lambda: theory.solve([0.0, 1e3, 2e3], 1.0, 0.1, 0.1, 1e14, 1e-2, 1.0, 0.5),
     theory.SolveError, "eta_h·dx2/eta_y"),
    ("solve-dy2-1e40-lost", lambda: theory.solve([0.0, 1e-5, 1.0, 1e4], 1.0, 0.1, 0.1, 1e-2, 1e-2, 1.0, 1e40),
     theory.SolveError, "conserved quantity"),
    ("solve-h2_0-1e150", lambda: theory.solve([0.0, 1e50], 1e150, 0.0, 0.0, 1e-2, 1e-2, 1.0, 0.5), ValueError,
     "h2_0 must have magnitude"),
    ("solve-rtol-1", lambda: theory.solve(T, **Z0, eta_h=1.0, eta_y=1.0, rtol=1.0), ValueError, "rtol"),
    ("solve-rtol-array", lambda: theory.solve(T, **Z0, eta_h=1.0, eta_y=1.0, rtol=np.ones(2)), TypeError, "rtol"),
    ("solve-atol-text", lambda: theory.solve(T, **Z0, eta_h=1.0, eta_y=1.0, atol="x"), TypeError, "atol"),
    ("solve-atol-nan", lambda: theory.solve(T, **Z0, eta_h=1.0, eta_y=1.0, atol=np.nan), ValueError, "atol"),
    ("solve_batch-empty", lambda: theory.solve_batch(T, np.array([]), np.array([]), np.array([]), 1.0, 1.0, 1.0,
                                                     0.5), ValueError, "at least one"),
]


@pytest.mark.parametrize("fn,err,match", [pytest.param(f, e, m, id=i) for i, f, e, m in REFUSALS])
def test_solvers_refuse_at_once_what_they_cannot_answer(fn, err, match):
    start = time.perf_counter()
    with pytest.raises(err, match=match):
        fn()
    assert time.perf_counter() - start < 10, "a hang, not a refusal"


# -- the probe's cache: two runs that differ must never share a key (end to end in tests/lab/test_key.py) -----
def _prefix(m, x, k):
    return m[:k](x)


class _Scaled(torch.nn.Module):
    def __init__(self, scale, as_dict=False):
        super().__init__()
        self.net = _net()
        self.scale = {"s": scale} if as_dict else torch.tensor(scale)  # a plain attribute, not a buffer

    def forward(self, x):
        return self.net(x) * (self.scale["s"] if isinstance(self.scale, dict) else self.scale)


def _with_attribute(k):
    def layer(m, x):
        return layer.k * m[:2](x)
    layer.k = k
    return layer


def _reads_module(scale):
    import types
    cfg = types.ModuleType("user_cfg")          # the user's own module (not a library): keyed by its contents
    cfg.SCALE = scale
    return lambda m, x: cfg.SCALE * m[:2](x)


def _read(m, x):
    return m[:2](x)


_CLOSURES = [lambda m, x, k=k: m[:k](x) for k in (1, 3)]
_CELLS = [(lambda k: (lambda m, x: m[:k + 1](x)))(k) for k in (0, 2)]
COLLISIONS = [
    ("closure-variable", lambda: [lab.key.layer_digest(f) for f in _CELLS]),
    ("default-argument", lambda: [lab.key.layer_digest(f) for f in _CLOSURES]),
    ("partial-arguments", lambda: [lab.key.layer_digest(functools.partial(_prefix, k=k)) for k in (1, 3)]),
    ("plain-tensor-attribute", lambda: [lab.key.model_digest(_Scaled(s)) for s in (1.0, 3.0)]),
    ("plain-dict-attribute", lambda: [lab.key.model_digest(_Scaled(s, as_dict=True)) for s in (1.0, 3.0)]),
    ("function-attribute", lambda: [lab.key.layer_digest(_with_attribute(k)) for k in (1.0, 3.0)]),
    ("user-module-attribute", lambda: [lab.key.layer_digest(_reads_module(k)) for k in (1.0, 3.0)]),
    ("library-wrapper-state", lambda: [lab.key.layer_digest(torch.autocast("cpu", **kw)(_read))
                                       for kw in ({"dtype": torch.bfloat16}, {"enabled": False})]),
]


@pytest.mark.parametrize("digests", [pytest.param(f, id=i) for i, f in COLLISIONS])
def test_probe_keys_tell_apart_what_changes_the_run(digests):
    a, b = digests()
    assert a != b


def test_a_model_the_key_cannot_cover_runs_uncached_and_says_so(tmp_path, monkeypatch):
    """A model holding an object whose state lives in C (a random generator) cannot be keyed: the probe trains
    it without the cache, with a warning naming the attribute, instead of risking another run's curves."""
    monkeypatch.setenv("REPTHEORY_CACHE", str(tmp_path))

    class WithGenerator(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net, self.rng = _net(), np.random.default_rng(0)

        def forward(self, x):
            return self.net(x)

    with pytest.warns(RuntimeWarning, match=r"not cached: model attribute 'rng'"):
        r = lab.probe(WithGenerator(), PX, PY, "net.1", lr=0.05, epochs=20)
    assert r.measured.traj.h2.size == 21 and not any(tmp_path.rglob("*.npz"))
    lab.probe(_net(), PX, PY, "1", lr=0.05, epochs=20)             # the control: a keyable model is cached
    assert any(tmp_path.rglob("*.npz"))
