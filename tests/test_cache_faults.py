"""The result cache under faults: an entry that is not a valid file, a folder named with ``~``, two processes
asking for one key at once, an entry held too long, and the folder checks the command line relies on."""
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


def _slow(started, asking):
    started.set()                                   # this process is computing the entry
    assert asking.wait(timeout=120)                 # the other has been started and is about to ask for it
    time.sleep(0.5)
    return {"x": np.arange(1000.0), "pid": os.getpid()}


def _same_key(folder, started, asking, results, role):
    """Ask for the entry ("race", k=1): ``"first"`` computes it, ``"batch"`` computes it with k=2 in one claimed
    batch (``cache.fill``), ``"second"`` says it is asking (``asking``) and asks."""
    with runtime.use(cache_dir=folder):
        if role == "batch":
            cache.fill("race", [{"k": 2}, {"k": 1}], lambda todo, done: [done(j, _slow(started, asking)) for j in
                                                                         range(len(todo))], lambda a: a)
        if role == "second":
            asking.set()
        out = cache.cached("race", {"k": 1}, lambda: _slow(started, asking))
    results.put((os.getpid(), out["x"].tolist(), int(out["pid"])))


@pytest.mark.parametrize("role", ["first", "batch"], ids=["one entry", "a claimed batch"])
def test_a_second_process_asking_for_an_entry_being_computed_waits_and_loads_it(tmp_path, role):
    """The first process computes the entry (alone, or in a batch it has claimed) and holds it meanwhile; its
    computation lasts until the second, started once the first is inside it, is about to ask. The second does not
    compute the entry again (it would store its own ``pid``) but waits and loads the first one's; one valid entry
    is left, no temporary file."""
    ctx = multiprocessing.get_context("spawn")
    started, asking, results = ctx.Event(), ctx.Event(), ctx.Queue()
    first = ctx.Process(target=_same_key, args=(str(tmp_path), started, asking, results, role))
    first.start()
    assert started.wait(timeout=120)
    second = ctx.Process(target=_same_key, args=(str(tmp_path), started, asking, results, "second"))
    second.start()
    got = [results.get(timeout=120) for _ in range(2)]
    for p in (first, second):
        p.join(timeout=60)
        assert p.exitcode == 0
    assert all(x == list(np.arange(1000.0)) for _, x, _ in got)
    assert {computed for _, _, computed in got} == {first.pid}
    with runtime.use(cache_dir=str(tmp_path)):
        assert not list((tmp_path / "race").glob("*.tmp"))
        assert {p.name for p in (tmp_path / "race").glob("*.npz")} == \
            {cache._path("race", {"k": k}).name for k in ((1, 2) if role == "batch" else (1,))}


def test_an_entry_held_past_the_wait_is_named_and_computed_here(tmp_path, monkeypatch):
    """A lock that another holder keeps past :data:`cache.LOCK_WAIT` does not stall the process: a warning names
    the entry and the wait, and the entry is computed and written all the same."""
    import filelock
    monkeypatch.setattr(cache, "LOCK_WAIT", 0.2)
    with runtime.use(cache_dir=str(tmp_path)):
        path = cache._path("t", {"k": 1})
        path.parent.mkdir(parents=True)
        other = filelock.FileLock(f"{path}.lock")           # another holder (a file lock of its own)
        with other:
            with pytest.warns(RuntimeWarning, match=rf"held the entry {path} for over 0.2 s; computing it here too"):
                calls = []
                out = cache.cached("t", {"k": 1}, _compute(calls))
        assert calls == [1] and cache.exists("t", {"k": 1})
        assert np.array_equal(cache.cached("t", {"k": 1}, _compute(calls))["x"], out["x"]) and calls == [1]


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
