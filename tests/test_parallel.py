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


@pytest.mark.parametrize("n, error", [(0, ValueError), (-1, ValueError), (1.5, TypeError), (True, TypeError)])
def test_bad_n_jobs(n, error):
    with pytest.raises(error, match="n_jobs"):
        parallel.run(_square, [(1, 1)], n_jobs=n)


def test_environment(monkeypatch):
    monkeypatch.setenv("REPTHEORY_N_JOBS", "3")
    assert parallel.default_jobs() == 3
    monkeypatch.setenv("REPTHEORY_N_JOBS", "zero")
    with pytest.raises(ValueError, match="REPTHEORY_N_JOBS"):
        parallel.default_jobs()
    monkeypatch.delenv("REPTHEORY_N_JOBS")
    monkeypatch.setenv("REPTHEORY_BACKEND", "spark")
    with pytest.raises(ValueError, match="REPTHEORY_BACKEND .*loky, dask, ray"):
        parallel.run(_square, [(1, 1), (2, 1)], n_jobs=2)


def test_missing_distributed_backend_is_explained(monkeypatch):  # runs where dask is not installed
    import importlib.util
    if importlib.util.find_spec("dask") is not None:
        pytest.skip("dask is installed here")
    monkeypatch.setenv("REPTHEORY_BACKEND", "dask")
    with pytest.raises(RuntimeError, match="pip install"):
        parallel.run(_square, [(1, 1), (2, 1)], n_jobs=2)


_TINY = ("from reptheory import configs, sequel\n"
         "s = configs.ParitySetting(name='tiny', width=8, max_len=3, epochs=6, track_every=6, track_long=False, "
         "seeds=(0, 1, 2))\n")


def _tiny_runs():
    ns = {}
    exec(_TINY, ns)
    from reptheory import sequel
    return sequel.parity_runs([ns["s"]], n_jobs=2, progress=False, group_size=1)


def test_dask_cluster_runs_a_sweep_as_the_process_backend_does(tmp_path, monkeypatch):
    """A LocalCluster of two worker processes, through the library call and through the command line."""
    import json

    import nbformat
    import numpy as np
    distributed = pytest.importorskip("dask.distributed")
    from reptheory import cli

    monkeypatch.setenv("REPTHEORY_CACHE", str(tmp_path / "loky"))
    ref = _tiny_runs()
    monkeypatch.setenv("REPTHEORY_CACHE", str(tmp_path / "dask"))     # before the workers start: they inherit it
    monkeypatch.setenv("REPTHEORY_BACKEND", "dask")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        got = _tiny_runs()
        assert len(client.scheduler_info()["workers"]) == 2
        assert len(list((tmp_path / "dask" / "parity_run").glob("*.npz"))) == 3    # written by the workers
        for k in ref:
            np.testing.assert_array_equal(got[k].states, ref[k].states)
            np.testing.assert_array_equal(got[k].train_loss, ref[k].train_loss)

        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_markdown_cell("# Fig. 97: dask"), nbformat.v4.new_markdown_cell("## Checks"),
                    nbformat.v4.new_code_cell(_TINY + "from reptheory.presentation import report\n"
                                              "r = sequel.parity_runs([s], group_size=1)\n"
                                              "report.record(loss=[float(r['tiny', k].train_loss[-1]) for k in s.seeds])")]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        (tmp_path / "book").mkdir()
        nbformat.write(nb, tmp_path / "book" / "fig97_dask.ipynb")
        monkeypatch.setenv("REPTHEORY_BOOK", str(tmp_path / "book"))
        rc = cli.main(["reproduce", "fig97", "--backend", "dask", "--scheduler", cluster.scheduler_address,
                       "--jobs", "2", "--cache", str(tmp_path / "cli"), "--out", str(tmp_path / "o"),
                       "--no-progress"])
    res = json.loads((tmp_path / "o" / "checks.json").read_text())
    assert rc == 0 and res["backend"] == "dask", res["error"]
    assert res["numbers"]["loss"] == [float(ref["tiny", k].train_loss[-1]) for k in (0, 1, 2)]


def test_ray_runs_a_sweep_as_the_process_backend_does(tmp_path, monkeypatch):
    """A local Ray instance of two CPUs through the library call: the results equal the process backend's and
    Ray's workers write the cache."""
    import numpy as np
    ray = pytest.importorskip("ray")

    monkeypatch.setenv("REPTHEORY_CACHE", str(tmp_path / "loky"))
    ref = _tiny_runs()
    monkeypatch.setenv("REPTHEORY_CACHE", str(tmp_path / "ray"))
    monkeypatch.setenv("REPTHEORY_BACKEND", "ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"REPTHEORY_CACHE": str(tmp_path / "ray")}})
    try:
        got = _tiny_runs()
    finally:
        ray.shutdown()
    assert len(list((tmp_path / "ray" / "parity_run").glob("*.npz"))) == 3       # written by Ray's workers
    for k in ref:
        np.testing.assert_array_equal(got[k].states, ref[k].states)
        np.testing.assert_array_equal(got[k].train_loss, ref[k].train_loss)
