"""``python -m reptheory.compare``: a re-keyed cache's entries against the old code's."""
import pathlib

import pytest

from reptheory import compare


def test_compare_cache_sets_each_new_entry_beside_the_old_codes_entry_for_the_same_run(tmp_path, monkeypatch,
                                                                                       capsys):
    """The old entries are found under the old code's keys (here a copy of the package with one statement added to
    a keyed module), compared array by array except ``seconds``; an entry whose values moved, or that the old
    cache lacks, is named and the status is 1."""
    import shutil

    import numpy as np

    import reptheory
    from reptheory import cache, runtime
    pkg = pathlib.Path(reptheory.__file__).parent
    old_pkg = tmp_path / "old" / "reptheory"
    shutil.copytree(pkg, old_pkg, ignore=shutil.ignore_patterns("__pycache__"))
    (old_pkg / "validate.py").write_text((old_pkg / "validate.py").read_text() + "\n_EXTRA = 1\n")
    old_key = compare._key_of(old_pkg)                          # the copy's own cache.py, hashing the copy's files
    assert old_key("demo", {"x": 1}) != cache._key("demo", {"x": 1})
    old, new = tmp_path / "cache_old", tmp_path / "cache_new"
    arrays = lambda y, seconds: (lambda: {"y": np.asarray(y), "seconds": seconds, "0:seconds": seconds})
    with monkeypatch.context() as m, runtime.use(cache_dir=str(old)):
        m.setattr(cache, "_key", old_key)
        for x in (1, 2):
            cache.cached("demo", {"x": x}, arrays([0.0, 1.0], 1.0))
    with runtime.use(cache_dir=str(new)):
        cache.cached("demo", {"x": 1}, arrays([0.0, 1.0], 2.0))           # the same values, another wall time
        cache.cached("demo", {"x": 2}, arrays([0.0, 1.0 + 1e-12], 1.0))   # moved in the last digits
        cache.cached("demo", {"x": 3}, arrays([0.0], 1.0))                # no old entry
    assert compare.main([str(new), str(old), "--old-package", str(old_pkg)]) == 1
    out = capsys.readouterr().out
    assert "demo                   1 identical, 1 different, 1 absent" in out
    assert out.count("different: ") == 1 and "(y)" in out and out.count("absent: ") == 1
    assert "1 of 3 entries identical" in out
    # under this code's keys the old folder holds none of them: the old code decides where its entries are
    assert compare.main([str(new), str(old), "--old-package", str(pkg)]) == 1
    assert "0 of 3 entries identical" in capsys.readouterr().out
    shutil.rmtree(new / "demo")
    with runtime.use(cache_dir=str(new)):
        cache.cached("demo", {"x": 1}, arrays([0.0, 1.0], 3.0))
    assert compare.main([str(new), str(old), "--old-package", str(old_pkg)]) == 0
    assert "1 of 1 entries identical" in capsys.readouterr().out
    # a change that keys a kind on a module the old checkout lacks: the old keys are the old code's own
    (old_pkg / "compare.py").unlink()
    monkeypatch.setitem(cache.SOURCES, "demo", ("compare.py", "validate.py"))
    cache.code_version.cache_clear()
    with runtime.use(cache_dir=str(new)):
        cache.cached("demo", {"x": 1}, arrays([0.0, 1.0], 4.0))
    assert len(list((new / "demo").glob("*.npz"))) == 2                  # two keys, one description
    assert compare.main([str(new), str(old), "--old-package", str(old_pkg)]) == 0
    assert "2 of 2 entries identical" in capsys.readouterr().out
    monkeypatch.undo()
    cache.code_version.cache_clear()


def test_compare_cache_names_an_old_checkout_whose_cache_module_cannot_load(tmp_path, capsys):
    old_pkg = tmp_path / "old" / "reptheory"
    old_pkg.mkdir(parents=True)
    (old_pkg / "cache.py").write_text("from reptheory import no_such_module\n")
    for k in ("new", "old"):
        (tmp_path / k).mkdir(exist_ok=True)
    code = compare.main([str(tmp_path / "new"), str(tmp_path / "old"), "--old-package", str(old_pkg)])
    err = capsys.readouterr().err
    assert code == 2 and f"the cache.py of {old_pkg} cannot be loaded" in err and "no_such_module" in err


def test_an_old_kind_maps_a_merged_kind_to_the_kinds_the_old_code_used(tmp_path, capsys):
    """Runs that the old code cached under two kinds and the new code under one: with ``--old-kind`` each new
    entry is set beside the old entry of whichever old kind holds its description; without it, none is found."""
    import numpy as np

    import reptheory
    from reptheory import cache, runtime
    pkg = pathlib.Path(reptheory.__file__).parent
    old, new = tmp_path / "cache_old", tmp_path / "cache_new"
    with runtime.use(cache_dir=str(old)):
        cache.cached("demo_ends", {"x": 1}, lambda: {"y": np.arange(2.0)})
        cache.cached("demo_along", {"x": 2}, lambda: {"y": np.arange(3.0)})
    with runtime.use(cache_dir=str(new)):
        for x, n in ((1, 2), (2, 3)):
            cache.cached("demo", {"x": x}, lambda n=n: {"y": np.arange(float(n))})
    assert compare.main([str(new), str(old), "--old-package", str(pkg)]) == 1
    assert "0 of 2 entries identical" in capsys.readouterr().out
    assert compare.main([str(new), str(old), "--old-package", str(pkg), "--old-kind", "demo=demo_ends,demo_along"]) == 0
    assert "2 of 2 entries identical" in capsys.readouterr().out
    assert compare.main([str(new), str(old), "--old-package", str(pkg), "--old-kind", "demo="]) == 2
    assert "is not NEW=OLD" in capsys.readouterr().err


def test_gaps_tell_rounding_from_a_changed_result(tmp_path, capsys):
    """``--gaps`` prints, for each array that differs, its largest difference beside its largest old value."""
    import numpy as np

    import reptheory
    from reptheory import cache, runtime
    pkg = pathlib.Path(reptheory.__file__).parent
    old, new = tmp_path / "cache_old", tmp_path / "cache_new"
    with runtime.use(cache_dir=str(old)):
        cache.cached("demo", {"x": 1}, lambda: {"y": np.array([1.0, 2.0, np.nan]), "n": np.array([3]),
                                                "s": np.array("a")})
    with runtime.use(cache_dir=str(new)):
        cache.cached("demo", {"x": 1}, lambda: {"y": np.array([1.0, 2.5, np.nan]), "n": np.array([3]),
                                                "s": np.array("b")})
    assert compare.main([str(new), str(old), "--old-package", str(pkg), "--gaps"]) == 1
    out = capsys.readouterr().out
    assert "(s, y)" in out and "  y: largest |new - old| 0.5, largest |old| 2" in out and "  s:" not in out
    got = compare.compare(new, old, pkg, gaps=True)["different"]
    assert len(got) == 1 and got[0][2] == {"y": (0.5, 2.0)}
