"""The job runner: worker processes, backend and environment validation."""
import pytest

from reptheory import parallel


def _square(x, y):
    return x * x + y


def test_process_backend_matches_serial_in_order():
    jobs = [(i, 1) for i in range(7)]
    assert parallel.run(_square, jobs, n_jobs=2) == parallel.run(_square, jobs, n_jobs=1) == [i * i + 1 for i in range(7)]


def test_workers_are_separate_processes():
    import os
    pids = set(parallel.run(lambda _: os.getpid(), [(i,) for i in range(4)], n_jobs=2))
    assert os.getpid() not in pids


@pytest.mark.parametrize("n", [0, -1, 1.5, True])
def test_bad_n_jobs(n):
    with pytest.raises(ValueError, match="n_jobs"):
        parallel.run(_square, [(1, 1)], n_jobs=n)


def test_environment(monkeypatch):
    monkeypatch.setenv("REPTHEORY_N_JOBS", "3")
    assert parallel.default_jobs() == 3
    monkeypatch.setenv("REPTHEORY_N_JOBS", "zero")
    with pytest.raises(ValueError, match="REPTHEORY_N_JOBS"):
        parallel.default_jobs()
    monkeypatch.setenv("REPTHEORY_BACKEND", "spark")
    with pytest.raises(ValueError, match="loky, dask, ray"):
        parallel.run(_square, [(1, 1), (2, 1)], n_jobs=2)


def test_missing_distributed_backend_is_explained(monkeypatch):
    import importlib.util
    if importlib.util.find_spec("dask") is not None:
        pytest.skip("dask is installed here")
    monkeypatch.setenv("REPTHEORY_BACKEND", "dask")
    with pytest.raises(RuntimeError, match="pip install"):
        parallel.run(_square, [(1, 1), (2, 1)], n_jobs=2)
