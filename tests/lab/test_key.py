"""The probe cache's key (reptheory.lab.key): everything that can change a run is keyed (closure variables,
partial arguments, plain tensor and dict attributes, the globals a function reads), equal things key equal (the
cache still hits), and what cannot be keyed raises Unkeyable, naming it."""
import copy
import functools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import reptheory as rt
from reptheory.lab import key
from reptheory.lab.key import Unkeyable

ROOT = Path(__file__).resolve().parents[2]
SCALE = 1.0             # read by `scaled_read`: the layer's key covers it


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("REPTHEORY_CACHE", str(tmp_path / "cache"))


def tiny(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1))


def probe(model, layer):
    X, Y = rt.pair_data(1.0, 0.5 ** 0.5, (1,))
    return rt.probe(model, X, Y, layer, lr=0.05, epochs=50)


def upto(k):
    """The layer ``k`` of a Sequential, as a closure over ``k``."""
    return lambda m, x: m[:k + 1](x)


def read(m, x, k):
    return m[:k + 1](x)


def scaled_read(m, x):
    return SCALE * m[:1](x)


class Scaled(nn.Module):
    """A model that reads a plain attribute (neither a parameter nor a buffer) in its forward pass."""

    def __init__(self, scale):
        super().__init__()
        self.net, self.scale = tiny(), scale

    def forward(self, x):
        s = self.scale["scale"] if isinstance(self.scale, dict) else self.scale
        return s * self.net(x)


def same_curves(a, b):
    return np.array_equal(a.measured.traj.h2, b.measured.traj.h2)


# ----------------------------------------------------------------------------------------------------------
# the collisions, digest by digest

def test_closure_variables_key_a_layer():
    assert key.layer_digest(upto(1)) != key.layer_digest(upto(3))
    assert key.layer_digest(upto(1)) == key.layer_digest(upto(1))       # built twice: one entry


def test_partial_arguments_key_a_layer():
    assert key.layer_digest(functools.partial(read, k=1)) != key.layer_digest(functools.partial(read, k=3))
    assert key.layer_digest(functools.partial(read, k=1)) == key.layer_digest(functools.partial(read, k=1))
    assert key.layer_digest(functools.partial(read, k=1)) != key.layer_digest(functools.partial(upto(1)))


@pytest.mark.parametrize("one, three", [(torch.tensor(1.0), torch.tensor(3.0)), ({"scale": 1.0}, {"scale": 3.0}),
                                        ({"scale": torch.tensor(1.0)}, {"scale": torch.tensor(3.0)}),
                                        (np.array([1.0]), np.array([3.0]))])
def test_plain_tensor_array_and_dict_attributes_key_a_model(one, three):
    a, b = Scaled(one), Scaled(three)
    assert key.model_digest(a) != key.model_digest(b)
    assert key.attributes(a) != key.attributes(b)                        # probe_many tells them apart too
    c = Scaled(copy.deepcopy(one))
    assert key.model_digest(a) == key.model_digest(c) and key.attributes(a) == key.attributes(c)


def test_a_function_is_keyed_on_the_globals_it_reads(monkeypatch):
    before = key.layer_digest(scaled_read)
    assert key.layer_digest(scaled_read) == before
    monkeypatch.setitem(globals(), "SCALE", 3.0)
    assert key.layer_digest(scaled_read) != before
    monkeypatch.setitem(globals(), "SCALE", 1.0)
    assert key.layer_digest(scaled_read) == before


def test_bound_methods_callable_objects_and_defaults_are_keyed_on_their_state():
    class Reader:
        def __init__(self, k):
            self.k = k

        def __call__(self, m, x):
            return m[:self.k + 1](x)

        def read(self, m, x):
            return m[:self.k + 1](x)

    assert key.layer_digest(Reader(1)) != key.layer_digest(Reader(3))
    assert key.layer_digest(Reader(1)) == key.layer_digest(Reader(1))
    assert key.layer_digest(Reader(1).read) != key.layer_digest(Reader(3).read)
    assert key.layer_digest(lambda m, x, k=1: m[:k](x)) != key.layer_digest(lambda m, x, k=3: m[:k](x))
    assert key.layer_digest(lambda m, x, *, k=1: m[:k](x)) != key.layer_digest(lambda m, x, *, k=3: m[:k](x))


def test_values_are_keyed_by_type_and_value():
    differ = [(1, 1.0), (1, True), ("1", 1), ((1, 2), [1, 2]), ({"a": 1}, {"a": 2}), ({1, 2}, {1, 3}),
              (np.float32(1), np.float64(1)), (torch.float32, torch.float64), (torch.zeros(2), torch.zeros(3)),
              (torch.zeros(2), torch.zeros(2, dtype=torch.float64)), (np.zeros(2), torch.zeros(2, dtype=torch.float64)),
              (None, 0), (b"a", "a")]
    for a, b in differ:
        assert key.value_digest(a) != key.value_digest(b), (a, b)
    for v in (1, 2.5, "s", (1, [2, {"x": 3}]), {"b", "a", "c"}, np.arange(3), torch.arange(3.0), torch.Size([2]),
              np.int64(3), torch.device("cpu"), nn.Tanh, functools.partial(read, k=2)):
        assert key.value_digest(v) == key.value_digest(copy.deepcopy(v)), v


def test_the_key_is_the_same_in_another_process_and_hash_seed():
    code = ("import functools, sys; sys.path.insert(0, 'tests/lab'); import test_key as t;"
            "from reptheory.lab import key;"
            "print(key.layer_digest(t.upto(2)), key.layer_digest(functools.partial(t.read, k=2)),"
            " key.value_digest({'a', 'b', 'c', frozenset({'d', 'e'})}), key.model_digest(t.Scaled({'scale': 2.0})))")
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT,
                           env={"PYTHONHASHSEED": seed, "PATH": ""}).stdout for seed in ("1", "2")]
    assert runs[0] == runs[1] and len(runs[0].split()) == 4


def test_parameters_that_do_not_train_and_tied_weights_are_keyed():
    a, b = tiny(), tiny()
    b[0].weight.requires_grad_(False)
    assert key.model_digest(a) != key.model_digest(b)
    torch.manual_seed(0)
    untied = nn.Sequential(nn.Linear(4, 4, bias=False), nn.Linear(4, 4, bias=False))
    tied = copy.deepcopy(untied)
    tied[1].weight = tied[0].weight
    with torch.no_grad():
        untied[1].weight.copy_(untied[0].weight)
    assert key.model_digest(tied) != key.model_digest(untied)


def test_a_non_persistent_buffer_and_a_hook_are_keyed():
    a, b = tiny(), tiny()
    a.register_buffer("s", torch.tensor(1.0), persistent=False)
    b.register_buffer("s", torch.tensor(3.0), persistent=False)
    assert key.model_digest(a) != key.model_digest(b)
    c, d = tiny(), tiny()
    d[1].register_forward_hook(lambda m, i, o: 2 * o)
    assert key.model_digest(c) != key.model_digest(d)
    assert key.model_digest(c) == key.model_digest(tiny())


def test_an_unregistered_module_in_an_attribute_is_keyed_by_its_weights():
    a, b = Scaled(1.0), Scaled(1.0)
    a.extra, b.extra = [tiny(0)], [tiny(1)]                               # a plain list: not registered
    assert key.model_digest(a) != key.model_digest(b)
    a.refs = [a.net]                                                     # a submodule met again: by its name
    assert key.model_digest(a) == key.model_digest(a) != key.model_digest(b)


# ----------------------------------------------------------------------------------------------------------
# cycles and what cannot be keyed

def countdown(n):
    return n if n <= 0 else countdown(n - 1)                              # its globals hold itself


def test_cycles_end():
    assert key.layer_digest(countdown) == key.layer_digest(countdown)
    loop = []
    loop.append(loop)
    assert key.value_digest(loop) == key.value_digest(loop)

    class Node:
        pass

    n = Node()
    n.me = n
    assert key.value_digest(n) == key.value_digest(n)
    m = Scaled(1.0)
    m.owner = [m]                                                        # the model itself in a plain attribute
    assert key.model_digest(m) == key.model_digest(m)


def test_an_unkeyable_model_attribute_is_named():
    m = Scaled(1.0)
    m.net[0].thing = (i for i in range(3))
    with pytest.raises(Unkeyable, match=r"model attribute 'net\.0\.thing' of type generator"):
        key.model_digest(m)
    with pytest.raises(Unkeyable, match=r"'net\.0\.thing'"):
        key.attributes(m)
    m.net[0].thing = {"rng": np.random.default_rng(0)}                   # state in C
    with pytest.raises(Unkeyable, match=r"model attribute 'net\.0\.thing'\['rng'\] of type Generator"):
        key.model_digest(m)
    assert issubclass(Unkeyable, TypeError)


def test_an_unkeyable_closure_variable_or_global_is_named(tmp_path):
    gen = (i for i in range(3))
    with pytest.raises(Unkeyable, match=r"layer's closure variable 'gen' of type generator"):
        key.layer_digest(lambda m, x: m[:next(gen)](x))
    with open(tmp_path / "f.txt", "w") as handle:
        with pytest.raises(Unkeyable, match=r"layer's closure variable 'handle' of type TextIOWrapper"):
            key.layer_digest(lambda m, x: handle.write("") or m(x))
    deep = []
    for _ in range(key.DEPTH + 2):
        deep = [deep]
    with pytest.raises(Unkeyable, match="deeper than"):
        key.value_digest(deep)


# ----------------------------------------------------------------------------------------------------------
# end to end: the second probe is not the first one's cached run

def test_probe_closures_are_two_runs():
    a, b = probe(tiny(), upto(0)), probe(tiny(), upto(1))
    assert not same_curves(a, b)
    again = probe(tiny(), upto(0))
    assert again.seconds == a.seconds and same_curves(a, again)        # an equal closure: loaded from the cache


def test_probe_partials_are_two_runs():
    a, b = probe(tiny(), functools.partial(read, k=0)), probe(tiny(), functools.partial(read, k=1))
    assert not same_curves(a, b)
    assert probe(tiny(), functools.partial(read, k=0)).seconds == a.seconds


@pytest.mark.parametrize("one, three", [(torch.tensor(1.0), torch.tensor(3.0)), ({"scale": 1.0}, {"scale": 3.0})])
def test_probe_plain_attributes_are_two_runs(one, three):
    a, b = probe(Scaled(one), "net.1"), probe(Scaled(three), "net.1")
    assert not same_curves(a, b)
    assert probe(Scaled(copy.deepcopy(one)), "net.1").seconds == a.seconds


def test_probe_a_global_read_by_the_layer_is_two_runs(monkeypatch):
    a = probe(tiny(), scaled_read)
    monkeypatch.setitem(globals(), "SCALE", 3.0)
    b = probe(tiny(), scaled_read)
    assert not same_curves(a, b)


def test_a_recurrent_layers_own_weight_list_is_keyed_by_name():
    torch.manual_seed(0)
    a = nn.GRU(3, 4)
    torch.manual_seed(1)
    b = nn.GRU(3, 4)                     # _flat_weights: a plain list of its parameters, keyed by their names
    assert key.attributes(a) == key.attributes(b) and key.model_digest(a) != key.model_digest(b)


def test_a_decorated_function_is_keyed_by_the_function_it_wraps():
    def make(k):
        @torch.no_grad()
        def layer(m, x):
            return m[:k + 1](x)
        return layer

    assert key.layer_digest(make(0)) != key.layer_digest(make(1))
    assert key.layer_digest(make(0)) == key.layer_digest(make(0))


def test_reptheorys_own_modules_are_keyed_by_code_not_by_the_version_string(monkeypatch):
    """An upgrade that leaves a model's code unchanged keeps its cached runs: a model built from reptheory's own
    modules keys on their code even when reptheory is installed in site-packages (as a library's is)."""
    import reptheory._version
    from reptheory.lab import zoo
    model = next(iter(zoo.ZOO.values())).build(0, 1.0)
    key._library.cache_clear()
    before = key.value_digest(model)
    monkeypatch.setattr(key, "_installed", lambda file: True)         # every module counts as installed
    monkeypatch.setattr(reptheory._version, "__version__", "99.0.0")
    monkeypatch.setattr(rt, "__version__", "99.0.0")
    key._library.cache_clear()
    try:
        assert key._library("reptheory.lab.zoo") is None
        assert key.value_digest(model) == before
    finally:
        key._library.cache_clear()


def test_the_result_caches_keys_do_not_read_the_version():
    from reptheory import cache
    for kind in (*cache.SOURCES, None):
        names = {p.name for p in cache.source_files(kind)}
        assert "_version.py" not in names and cache.source_files(kind)
        assert (ROOT / "reptheory" / "__init__.py") not in cache.source_files(kind)


def test_a_reworded_docstring_or_comment_keeps_the_key_and_a_changed_constant_does_not():
    """A prose edit keeps a probed model's cached runs: the function's docstring and comments are not keyed, its
    constants (strings included, in functions without a docstring and in lambdas) are."""
    space = {}
    exec("def f(x):\n    'Scale x.'\n    return 2 * x  # doubled\n"
         "def g(x):\n    'Scale x, reworded.'\n    # a comment\n    return 2 * x\n"
         "def h(x):\n    'Scale x.'\n    return 3 * x\n"
         "def s1():\n    return 'a'\n"
         "def s2():\n    return 'b'\n", space)
    digest = key.value_digest
    assert digest(space["f"]) == digest(space["g"]) != digest(space["h"])
    assert digest(space["s1"]) != digest(space["s2"])
    assert digest(lambda: "a") != digest(lambda: "b")


def test_a_reworded_docstring_in_a_module_a_model_reads_keeps_the_models_key(monkeypatch):
    """The CNN of the CNN-plateau experiment reads reptheory's modules (``networks.models``, ``validate``) in its
    constructor: a reworded docstring there keeps the model's key; a change to what a function does re-keys it."""
    import dataclasses
    import inspect
    import textwrap

    from reptheory import validate
    from reptheory.lab import cnn_plateau
    model = cnn_plateau.CNN(dataclasses.replace(cnn_plateau.CONVOLUTION, width=120), 0)
    before = key.model_digest(model)
    source = textwrap.dedent(inspect.getsource(validate.integer))

    def patched(text):
        space = dict(validate.integer.__globals__)
        exec(compile(text, "<patched>", "exec"), space)
        return space["integer"]

    with monkeypatch.context() as m:
        m.setattr(validate, "integer", patched(source.replace('"""', '"""A reworded docstring. ', 1)))
        assert key.model_digest(model) == before
    with monkeypatch.context() as m:
        m.setattr(validate, "integer", patched(source.replace("def integer(", "def integer(*_more, ", 1)))
        assert key.model_digest(model) != before
