"""``python -m reptheory.compare NEW OLD --old-package DIR``: the proof that a change which re-keyed cached runs
left their values as they were.

A change to the code that decides a kind of cached entry (an engine, a model, the settings' class, the probes' key)
gives every entry of that kind a new key (:func:`reptheory.cache.code_version`), so the runs train again. Fill an
empty cache folder ``NEW`` with the changed code (``REPTHEORY_CACHE=NEW make notebooks``), keep ``OLD`` from before,
and check out the old code (``git worktree add /tmp/old <old commit>``, then ``--old-package /tmp/old/reptheory``):
this command sets every entry of ``NEW`` beside the entry that the old code keyed for the same kind and description
(:func:`compare`), compares every array but ``seconds`` byte for byte, prints per kind how many are
identical and names each entry that differs, has no old counterpart or cannot be read.

Exit status: 0 every entry identical; 1 any other; 2 a folder that is not there.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import pathlib
import sys

import numpy as np

from reptheory.cache import _META

__all__ = ["compare", "main"]


def _arrays(path: pathlib.Path) -> tuple[dict, dict]:
    """An entry's arrays and its record (kind, description) as written, without checking them."""
    with np.load(path, allow_pickle=False) as f:
        entry = {k: f[k] for k in f.files}
    return entry, json.loads(str(entry.pop(_META)))


def _key_of(package: pathlib.Path):
    """The entry-naming function (``_key``) of the checkout whose package folder is ``package``: its own
    ``cache.py``, loaded apart from this one, so that the table of sources, the hashing and the key are all that
    code's (a change may add a keyed module that the old checkout lacks)."""
    import importlib.util
    path = pathlib.Path(package) / "cache.py"
    spec = importlib.util.spec_from_file_location(f"_reptheory_cache_of_{hashlib.sha256(bytes(path)).hexdigest()[:8]}",
                                                  path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
        return module._key
    except Exception as exc:              # noqa: BLE001  (any fault of the other checkout's code: named)
        raise ValueError(f"the cache.py of {package} cannot be loaded beside this checkout: "
                         f"{type(exc).__name__}: {exc}") from exc


def compare(new: pathlib.Path, old: pathlib.Path, old_package: pathlib.Path,
            ignore: tuple = ("seconds",), old_kinds: dict | None = None, gaps: bool = False) -> dict[str, list]:
    """Every entry under the cache folder ``new`` against the entry that the code of ``old_package`` (the
    ``reptheory/`` folder of another checkout) keys for the same kind and description under the cache folder
    ``old``: the proof that a change which re-keyed entries left their values as they were (fill ``new`` with the
    changed code from an empty folder, keep ``old`` from before). Arrays are compared byte for byte (dtype,
    shape, bytes), all but those named in ``ignore`` (the wall-clock ``seconds``; in an entry that holds several
    runs, as ``probe_many``'s, also each run's ``<k>:seconds``).

    Returns ``{"identical": [...], "different": [...], "absent": [...], "unreadable": [...]}``: the paths under
    ``new``, ``different`` as ``(path, names of the arrays that differ)``, ``absent`` where ``old`` holds no entry
    for that kind and description under the old code. ``old_kinds``: ``{new kind: (old kinds, ...)}`` for a kind
    whose runs the old code cached under other kinds (a kind renamed, or several merged into one): the first old
    kind that holds an entry for the description is compared. ``gaps``: each ``different`` item gets a third
    element, ``{name: (largest |new − old|, largest |old|)}`` for every differing numeric array of one shape in
    both (NaN where they are NaN alike), to tell rounding from a changed result.

    >>> import tempfile, pathlib, reptheory
    >>> from reptheory import cache
    >>> from reptheory import runtime
    >>> a, b = (pathlib.Path(tempfile.mkdtemp()) for _ in range(2))
    >>> for folder in (a, b):
    ...     with runtime.use(cache_dir=str(folder)):
    ...         _ = cache.cached("demo", {"x": 1}, lambda: {"y": 2.0, "seconds": 0.1})
    >>> {k: len(v) for k, v in compare(b, a, pathlib.Path(reptheory.__file__).parent).items()}
    {'identical': 1, 'different': 0, 'absent': 0, 'unreadable': 0}
    """
    out = {"identical": [], "different": [], "absent": [], "unreadable": []}
    old_key = _key_of(pathlib.Path(old_package))
    for path in sorted(pathlib.Path(new).glob("*/*.npz")):
        try:
            mine, meta = _arrays(path)
        except Exception:                 # noqa: BLE001  (a truncated or foreign file: named, not compared)
            out["unreadable"].append(path)
            continue
        kind = meta["kind"]
        twins = [pathlib.Path(old) / k / f"{old_key(k, meta['description'])}.npz"
                 for k in (old_kinds or {}).get(kind, (kind,))]
        twin = next((t for t in twins if t.is_file()), None)
        if twin is None:
            out["absent"].append(path)
            continue
        try:
            theirs, _ = _arrays(twin)
        except Exception:                 # noqa: BLE001
            out["unreadable"].append(twin)
            continue
        names = sorted(k for k in set(mine) | set(theirs) if k.rsplit(":", 1)[-1] not in ignore)
        differ = [k for k in names if k not in mine or k not in theirs or mine[k].dtype != theirs[k].dtype
                  or mine[k].shape != theirs[k].shape or mine[k].tobytes() != theirs[k].tobytes()]
        if differ and gaps:
            out["different"].append((path, differ, _gaps(mine, theirs, differ)))
        elif differ:
            out["different"].append((path, differ))
        else:
            out["identical"].append(path)
    return out


def _gaps(mine: dict, theirs: dict, names: list) -> dict:
    """``{name: (largest |new − old|, largest |old|)}`` over the finite entries, for the numeric arrays of
    ``names`` that both entries hold with one shape."""
    out = {}
    for k in names:
        a, b = mine.get(k), theirs.get(k)
        if a is None or b is None or a.shape != b.shape or not (np.issubdtype(a.dtype, np.number)
                                                               and np.issubdtype(b.dtype, np.number)):
            continue
        a, b = a.astype(np.float64), b.astype(np.float64)
        both = np.isfinite(a) & np.isfinite(b)
        d = np.abs(a - b)[both]
        out[k] = (float(d.max()) if d.size else float("nan"),
                  float(np.abs(b[both]).max()) if both.any() else float("nan"))
    return out


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m reptheory.compare", description=__doc__.split("\n\n")[0])
    ap.add_argument("new", help="cache folder filled by this checkout's code (from an empty folder)")
    ap.add_argument("old", help="cache folder that holds the old code's entries")
    ap.add_argument("--old-package", required=True,
                    help="the old code: the reptheory/ package folder of a checkout of it (e.g. a git worktree)")
    ap.add_argument("--old-kind", action="append", default=[], metavar="NEW=OLD[,OLD...]",
                    help="the old code cached the runs of kind NEW under the kinds OLD (a kind renamed or merged; "
                         "repeatable)")
    ap.add_argument("--gaps", action="store_true",
                    help="for each entry that differs, print each numeric array's largest |new - old| beside its "
                         "largest |old|")
    return ap


def main(argv: list[str] | None = None) -> int:
    """The command with the arguments ``argv`` (default: the command line); returns the exit status."""
    args = _parser().parse_args(argv)
    for name, folder in (("NEW", args.new), ("OLD", args.old)):
        if not pathlib.Path(folder).is_dir():
            print(f"error: {name} {folder!r} is not a folder", file=sys.stderr)
            return 2
    if not (pathlib.Path(args.old_package) / "cache.py").is_file():
        print(f"error: --old-package {args.old_package!r} is not a reptheory package folder (it holds no cache.py)",
              file=sys.stderr)
        return 2
    old_kinds = {}
    for item in args.old_kind:
        new_kind, _, olds = item.partition("=")
        if not new_kind or not olds or "" in olds.split(","):
            print(f"error: --old-kind {item!r} is not NEW=OLD[,OLD...]", file=sys.stderr)
            return 2
        old_kinds[new_kind] = tuple(olds.split(","))
    try:
        out = compare(pathlib.Path(args.new), pathlib.Path(args.old), pathlib.Path(args.old_package).resolve(),
                      old_kinds=old_kinds, gaps=args.gaps)
    except ValueError as exc:
        print(f"error: --old-package: {exc}", file=sys.stderr)
        return 2
    kinds: dict[str, dict[str, int]] = {}
    for verdict, items in out.items():
        for item in items:
            path = item[0] if isinstance(item, tuple) else item
            kinds.setdefault(path.parent.name, dict.fromkeys(out, 0))[verdict] += 1
    for kind, counts in sorted(kinds.items()):
        print(f"{kind:22s} " + ", ".join(f"{n} {verdict}" for verdict, n in counts.items() if n))
    for path, names, *gap in out["different"]:
        print(f"different: {path} ({', '.join(names)})")
        for name, (d, scale) in (gap[0] if gap else {}).items():
            print(f"  {name}: largest |new - old| {d:.3g}, largest |old| {scale:.3g}")
    for verdict in ("absent", "unreadable"):
        for path in out[verdict]:
            print(f"{verdict}: {path}")
    total = sum(map(len, out.values()))
    print(f"{len(out['identical'])} of {total} entries identical to the old code's (every array but seconds, "
          "byte for byte)")
    return 0 if len(out["identical"]) == total else 1


if __name__ == "__main__":
    sys.exit(main())
