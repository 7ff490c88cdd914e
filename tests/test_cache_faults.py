"""The result cache under faults: an entry that is not a valid file, a folder named with ``~``, two processes
writing one key at once, and the folder checks the command line relies on."""
import multiprocessing
import os
import time

import numpy as np
import pytest

from reptheory import cache, runtime


def _compute(calls):
    def compute():
        calls.append(1)
        return {"x": np.arange(3.0)}
    return compute


def _damage(path, how):
    """Put ``how`` in the place of the entry ``path``."""
    data = path.read_bytes()
    path.unlink()
    if how == "folder":
        path.mkdir()
        (path / "inside").write_text("x")          # a folder that is not empty
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "pipe":
        os.mkfifo(path)                             # reading it would block: it must not be opened
    elif how == "dangling-link":
        path.symlink_to(path.parent / "gone.npz")


@pytest.mark.parametrize("how,why", [
    ("folder", "it is a folder, not a file"),
    ("empty", r"it is empty \(0 bytes\)"),
    ("truncated", r"it could not be read \(\w+\)"),
    pytest.param("pipe", "it is not a regular file",
                 marks=pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes")),
    ("dangling-link", "it is not a regular file"),
])
def test_an_entry_that_is_not_a_valid_file_is_removed_and_recomputed(tmp_path, how, why):
    calls = []
    with runtime.use(cache_dir=str(tmp_path)):
        first = cache.cached("t", {"k": 1}, _compute(calls))
        path = cache._path("t", {"k": 1})
        _damage(path, how)
        assert cache.exists("t", {"k": 1}) == (how in ("empty", "truncated"))   # only a file counts as one
        t0 = time.perf_counter()
        with pytest.warns(RuntimeWarning, match=f"the entry {path} is not valid: {why}; recomputing it"):
            again = cache.cached("t", {"k": 1}, _compute(calls))
        assert time.perf_counter() - t0 < 1
        assert calls == [1, 1] and np.array_equal(again["x"], first["x"])
        assert path.is_file() and not path.is_symlink() and cache.exists("t", {"k": 1})
        assert np.array_equal(cache.cached("t", {"k": 1}, _compute(calls))["x"], first["x"]) and calls == [1, 1]
    assert not list((tmp_path / "t").glob("*.tmp"))


def test_a_tilde_in_the_cache_folder_is_the_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REPTHEORY_CACHE", "~/rc")
    assert cache.cache_dir() == tmp_path / "home" / "rc"
    cache.cached("t", {"k": 1}, _compute([]))
    assert len(list((tmp_path / "home" / "rc" / "t").glob("*.npz"))) == 1
    assert not (tmp_path / "~").exists()


def _slow(barrier):
    barrier.wait(timeout=120)                       # both processes are inside compute: neither found an entry
    time.sleep(0.3)
    return {"x": np.arange(1000.0), "pid": os.getpid()}


def _same_key(folder, barrier, results):
    with runtime.use(cache_dir=folder):
        out = cache.cached("race", {"k": 1}, lambda: _slow(barrier))
    results.put((os.getpid(), out["x"].tolist(), int(out["pid"])))


def test_two_processes_writing_one_key_both_get_it_and_leave_one_valid_entry(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_same_key, args=(str(tmp_path), barrier, results)) for _ in range(2)]
    for p in procs:
        p.start()
    got = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert all(x == list(np.arange(1000.0)) for _, x, _ in got)
    assert all(pid == computed for pid, _, computed in got)      # each computed it, at the same time
    with runtime.use(cache_dir=str(tmp_path)):
        assert list((tmp_path / "race").iterdir()) == [cache._path("race", {"k": 1})]   # no temporary file left
        calls = []
        kept = cache.cached("race", {"k": 1}, lambda: calls.append(1) or {"x": np.zeros(1), "pid": 0})
    assert calls == [] and int(kept["pid"]) in {pid for pid, _, _ in got}   # one valid entry: the last writer's


def test_unwritable_names_the_folder_and_creates_nothing(tmp_path):
    afile = tmp_path / "a-file"
    afile.write_text("x")
    assert cache.unwritable(tmp_path / "new" / "deeper", "--out") is None
    assert cache.unwritable(afile, "--out") == f"--out {afile} is a file, not a folder"
    assert cache.unwritable(afile / "sub", "REPTHEORY_CACHE") == \
        f"REPTHEORY_CACHE {afile / 'sub'} cannot be created: {afile} is a file, not a folder"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def test_written_since_counts_new_entries_per_kind(tmp_path):
    with runtime.use(cache_dir=str(tmp_path / "none")):
        assert cache.written_since(0) == {}
    with runtime.use(cache_dir=str(tmp_path)):
        cache.cached("a", {"k": 1}, _compute([]))
        t = time.time()
        cache.cached("a", {"k": 2}, _compute([]))
        cache.cached("b", {"k": 1}, _compute([]))
        assert cache.written_since(0) == {"a": 2, "b": 1}
        assert cache.written_since(t + 3600) == {}
