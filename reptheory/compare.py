"""``python -m reptheory.compare NEW OLD --old-package DIR``: the proof that a change which re-keyed cached runs
left their values as they were.

A change to the code that decides a kind of cached entry (an engine, a model, the settings' class, the probes' key)
gives every entry of that kind a new key (:func:`reptheory.cache.code_version`), so the runs train again. Fill an
empty cache folder ``NEW`` with the changed code (``REPTHEORY_CACHE=NEW make notebooks``), keep ``OLD`` from before,
and check out the old code (``git worktree add /tmp/old <old commit>``, then ``--old-package /tmp/old/reptheory``):
this command sets every entry of ``NEW`` beside the entry that the old code keyed for the same kind and description
(:func:`reptheory.cache.compare`), compares every array but ``seconds`` byte for byte, prints per kind how many are
identical and names each entry that differs, has no old counterpart or cannot be read.

Exit status: 0 every entry identical; 1 any other; 2 a folder that is not there.
"""
from __future__ import annotations

import argparse
import pathlib
import sys

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m reptheory.compare", description=__doc__.split("\n\n")[0])
    ap.add_argument("new", help="cache folder filled by this checkout's code (from an empty folder)")
    ap.add_argument("old", help="cache folder that holds the old code's entries")
    ap.add_argument("--old-package", required=True,
                    help="the old code: the reptheory/ package folder of a checkout of it (e.g. a git worktree)")
    return ap


def main(argv: list[str] | None = None) -> int:
    """The command with the arguments ``argv`` (default: the command line); returns the exit status."""
    from reptheory import cache
    args = _parser().parse_args(argv)
    for name, folder in (("NEW", args.new), ("OLD", args.old)):
        if not pathlib.Path(folder).is_dir():
            print(f"error: {name} {folder!r} is not a folder", file=sys.stderr)
            return 2
    if not (pathlib.Path(args.old_package) / "cache.py").is_file():
        print(f"error: --old-package {args.old_package!r} is not a reptheory package folder (it holds no cache.py)",
              file=sys.stderr)
        return 2
    try:
        out = cache.compare(pathlib.Path(args.new), pathlib.Path(args.old), pathlib.Path(args.old_package).resolve())
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
    for path, names in out["different"]:
        print(f"different: {path} ({', '.join(names)})")
    for verdict in ("absent", "unreadable"):
        for path in out[verdict]:
            print(f"{verdict}: {path}")
    total = sum(map(len, out.values()))
    print(f"{len(out['identical'])} of {total} entries identical to the old code's (every array but seconds, "
          "byte for byte)")
    return 0 if len(out["identical"]) == total else 1


if __name__ == "__main__":
    sys.exit(main())
