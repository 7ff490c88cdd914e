"""The runtime: one frozen object, read from the environment, passed to workers, never written to it."""
import ast
import dataclasses
import pathlib

import pytest

import reptheory
from reptheory import parallel, runtime


def test_read_from_the_environment_with_defaults(monkeypatch):
    for var in runtime.ENV.values():
        monkeypatch.delenv(var, raising=False)
    rt = runtime.current()
    assert (rt.profile, rt.device, rt.jobs, rt.backend, rt.progress_bars) == ("default", "cpu", 2, "loky", False)
    assert rt.cache_dir.endswith(".cache/reptheory")
    monkeypatch.setenv("REPTHEORY_N_JOBS", "3")
    monkeypatch.setenv("REPTHEORY_CACHE", "/tmp/x")
    assert (runtime.current().jobs, runtime.current().cache_dir) == (3, "/tmp/x")
    assert runtime.current() is runtime.current()            # read once per state of the variables
    with pytest.raises(dataclasses.FrozenInstanceError):
        runtime.current().jobs = 1


@pytest.mark.parametrize("var,value,match", [
    ("REPTHEORY_N_JOBS", "zero", r"REPTHEORY_N_JOBS \(jobs\) must be an integer >= 1, got 'zero'"),
    ("REPTHEORY_N_JOBS", "0", r"REPTHEORY_N_JOBS \(jobs\) must be an integer >= 1, got 0"),
    ("REPTHEORY_BACKEND", "spark", r"REPTHEORY_BACKEND \(backend\) must be one of loky, dask, ray, got 'spark'"),
    ("REPTHEORY_PROGRESS", "yes", r"REPTHEORY_PROGRESS \(progress\) must be one of"),
])
def test_bad_values_name_the_variable_and_what_is_allowed(monkeypatch, var, value, match):
    monkeypatch.setenv(var, value)
    with pytest.raises(ValueError, match=match):
        runtime.current()


def test_use_nests_and_restores():
    outer = runtime.current()
    with runtime.use(jobs=5) as a:
        assert runtime.current() is a and a.jobs == 5
        with runtime.use(a, profile="paper"):
            assert (runtime.current().jobs, runtime.current().profile) == (5, "paper")
        assert runtime.current() is a
    assert runtime.current() == outer


def _cache_dir_here(_):
    return runtime.current().cache_dir


def test_workers_run_under_the_callers_runtime(tmp_path):
    """The runtime travels with each job: workers see the caller's runtime, not their own environment."""
    with runtime.use(cache_dir=str(tmp_path)):
        got = parallel.run(_cache_dir_here, [(k,) for k in range(4)], n_jobs=2)
    assert got == [str(tmp_path)] * 4


def test_environ_reproduces_the_runtime():
    rt = runtime.Runtime(profile="paper", jobs=3, backend="dask", scheduler="tcp://h:8786", cache_dir="/c")
    assert runtime.from_env(rt.environ()) == rt


def test_nothing_in_the_package_writes_the_environment():
    writes = []
    for path in pathlib.Path(reptheory.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            target = None
            if isinstance(node, (ast.Assign, ast.AugAssign)):
                target = node.targets[0] if isinstance(node, ast.Assign) else node.target
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if node.func.attr in ("update", "setdefault", "pop", "clear", "putenv", "unsetenv"):
                    target = node.func.value
                    if node.func.attr in ("putenv", "unsetenv"):
                        writes.append(f"{path.name}:{node.lineno}")
            if isinstance(target, ast.Subscript):
                target = target.value
            if isinstance(target, ast.Attribute) and target.attr == "environ":
                writes.append(f"{path.name}:{node.lineno}")
    assert not writes, f"os.environ written at {writes}"


@pytest.mark.parametrize("var,value,allowed", [
    ("REPTHEORY_N_JOBS", "abc", "an integer >= 1"),
    ("REPTHEORY_PROGRESS", "yes", "terminal"),
    ("REPTHEORY_BACKEND", "spark", "loky, dask, ray"),
])
def test_from_env_names_the_variable_its_value_and_what_is_allowed(var, value, allowed):
    with pytest.raises(ValueError) as info:
        runtime.from_env({var: value})
    assert var in str(info.value) and repr(value) in str(info.value) and allowed in str(info.value)


def test_a_tilde_in_the_cache_folder_is_expanded(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert runtime.from_env({"REPTHEORY_CACHE": "~/c"}).cache_dir == str(tmp_path / "c")
    assert runtime.Runtime(cache_dir="~").cache_dir == str(tmp_path)
    with runtime.use(cache_dir="~/d"):
        assert runtime.current().cache_dir == str(tmp_path / "d")


def test_max_jobs_is_4_per_cpu_here_and_4096_on_a_cluster(monkeypatch):
    monkeypatch.setattr(runtime.os, "cpu_count", lambda: 3)
    assert (runtime.max_jobs("loky"), runtime.max_jobs("dask"), runtime.max_jobs("ray")) == (12, 4096, 4096)
    monkeypatch.setattr(runtime.os, "cpu_count", lambda: None)
    assert runtime.max_jobs() == 4
