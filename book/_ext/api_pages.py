"""The book's API reference pages (``book/api/*.rst``), generated from the package: one page per layer package (the
infrastructure at the package's root on one page), a section per module holding every public name the module
defines, each rendered by Sphinx autodoc from its docstring when the book builds.

A module's public names are those of its ``__all__`` (else every name without a leading underscore) that it
defines itself: a function or class whose ``__module__`` is the module, or a value assigned at the module's top
level. A name a module imports is documented once, where it is defined, and the facade's page
(``book/api/index.rst``) lists ``import reptheory as rt``'s names with links to them.

Usage: ``python book/_ext/api_pages.py`` checks that the committed pages are current (exit 1 naming the stale ones);
``python book/_ext/api_pages.py --write`` regenerates them. ``tests/test_api_pages.py`` runs the check.
"""
from __future__ import annotations

import ast
import importlib
import inspect
import pathlib
import pkgutil
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "book" / "api"
#: the pages after the index: (file stem, title, the modules it holds as prefixes of their names)
PAGES = (
    ("theory", "reptheory.theory", ("reptheory.theory",)),
    ("networks", "reptheory.networks", ("reptheory.networks",)),
    ("experiments", "reptheory.experiments", ("reptheory.experiments",)),
    ("sequel", "reptheory.sequel", ("reptheory.sequel",)),
    ("lab", "reptheory.lab", ("reptheory.lab",)),
    ("presentation", "reptheory.presentation", ("reptheory.presentation",)),
    ("infrastructure", "The infrastructure", ("reptheory.configs", "reptheory.runtime", "reptheory.cache",
                                              "reptheory.parallel", "reptheory.stats", "reptheory.validate",
                                              "reptheory.cli", "reptheory.compare", "reptheory.bench")),
)
#: modules with nothing a library user calls: the entry point of ``python -m`` and the version's own file
SKIP = ("reptheory.__main__", "reptheory._version")
#: a value longer than this, as ``repr`` prints it, is shown without its value
MAX_VALUE = 60


def modules() -> list[str]:
    """Every module of the package, by name, sorted (packages before their modules)."""
    import reptheory
    names = ["reptheory"] + [m.name for m in pkgutil.walk_packages(reptheory.__path__, "reptheory.")]
    return sorted(n for n in names if n not in SKIP)


def _assigned(module) -> set[str]:
    """Names the module's source assigns at its top level (``x = …``, ``x: T = …``)."""
    tree = ast.parse(inspect.getsource(module))
    out = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] \
            if isinstance(node, ast.AnnAssign) and node.value is not None else []
        for t in targets:
            out |= {e.id for e in (t.elts if isinstance(t, ast.Tuple) else [t]) if isinstance(e, ast.Name)}
    return out


def public_names(name: str) -> list[tuple[str, str]]:
    """``(kind, name)`` for every public name the module ``name`` defines, in source order: ``kind`` is
    ``"function"``, ``"class"``, ``"exception"`` or ``"data"``."""
    module = importlib.import_module(name)
    candidates = list(getattr(module, "__all__", None) or [n for n in vars(module) if not n.startswith("_")])
    assigned = _assigned(module)
    out = []
    for n in candidates:
        obj = getattr(module, n)
        if inspect.ismodule(obj):
            continue
        if inspect.isclass(obj) or callable(obj) and hasattr(obj, "__module__") and hasattr(obj, "__name__"):
            if obj.__module__ == name:       # functions, classes, and functions wrapped (lru_cache, njit)
                kind = "function" if not inspect.isclass(obj) else \
                    "exception" if issubclass(obj, BaseException) else "class"
                out.append((kind, n))
        elif n in assigned:
            out.append(("data", n))
    order = {n: i for i, n in enumerate(vars(module))}
    return sorted(out, key=lambda kn: order.get(kn[1], len(order)))


def _directive(module: str, kind: str, n: str) -> list[str]:
    full = f"{module}.{n}"
    if kind == "function":
        return [f".. autofunction:: {full}", ""]
    if kind in ("class", "exception"):
        return [f".. auto{kind}:: {full}", "   :members:", ""]
    value = getattr(importlib.import_module(module), n)
    shown = isinstance(value, (int, float, str, bool, type(None))) and len(repr(value)) <= MAX_VALUE
    return [f".. autodata:: {full}"] + ([] if shown else ["   :no-value:"]) + [""]


def _title(text: str, underline: str) -> list[str]:
    return [text, underline * len(text), ""]


def page(stem: str, title: str, prefixes: tuple[str, ...]) -> str:
    """The text of one package's page."""
    mods = [m for m in modules() if any(m == p or m.startswith(p + ".") for p in prefixes)]
    lines = [f".. This page is generated by book/_ext/api_pages.py from the package; do not edit it by hand.", ""]
    lines += _title(title, "=")
    if len(prefixes) == 1:
        lines += [f".. automodule:: {prefixes[0]}", ""]
    else:
        lines += ["The package's root: settings, the runtime, the cache, the job runner, argument checks, the "
                  "command line and the benchmark. Every page of this reference: :doc:`index`.", ""]
    if len(prefixes) > 1:                                     # the root's page: every module on it
        lines += ["Modules: " + ", ".join(f":mod:`~{m}`" for m in mods) + ".", ""]
    elif "Modules:" not in (importlib.import_module(prefixes[0]).__doc__ or ""):   # else its docstring lists them
        lines += ["Modules: " + ", ".join(f":mod:`~{m}`" for m in mods if m not in prefixes) + ".", ""]
    for m in mods:
        if not (m in prefixes and len(prefixes) == 1):      # a package's own page opens with its automodule
            lines += _title(m, "-") + [f".. automodule:: {m}", ""]
        for kind, n in public_names(m):
            lines += _directive(m, kind, n)
    return "\n".join(lines).rstrip() + "\n"


def index() -> str:
    """The reference's first page: the facade ``import reptheory as rt`` and the pages."""
    import reptheory
    lines = [".. This page is generated by book/_ext/api_pages.py from the package; do not edit it by hand.", ""]
    lines += _title("API reference", "=")
    lines += [
        "Every public name of ``reptheory``, generated from its docstring: the maths it implements with the "
        "paper's equation numbers (collected on :doc:`../equations`), units, what it refuses and a short example. "
        "Install the package as the README's *Using the package* says; what changed between versions is in "
        "``CHANGELOG.md``.", "",
        f"``import reptheory as rt`` (version {reptheory.__version__}) gives these names; each links to its "
        "reference entry.", "",
        ".. autosummary::", "   :nosignatures:", ""]
    for n in reptheory.__all__:
        obj = getattr(reptheory, n)
        if callable(obj) and hasattr(obj, "__module__"):
            lines.append(f"   ~{obj.__module__}.{n}")
    lines += ["", "The packages, one page each: " + ", ".join(f":doc:`{stem}`" for stem, _, _ in PAGES) + ".", ""]
    lines += _title("The package's modules", "-") + [".. automodule:: reptheory", ""]
    return "\n".join(lines).rstrip() + "\n"


def pages() -> dict[pathlib.Path, str]:
    """Every page of the reference: path -> text."""
    out = {OUT / "index.rst": index()}
    for stem, title, prefixes in PAGES:
        out[OUT / f"{stem}.rst"] = page(stem, title, prefixes)
    return out


def unplaced() -> list[str]:
    """Modules that no page holds (a new package needs a row in :data:`PAGES`)."""
    prefixes = [p for _, _, ps in PAGES for p in ps]
    return [m for m in modules() if m != "reptheory" and not any(m == p or m.startswith(p + ".") for p in prefixes)]


def main(argv: list[str]) -> int:
    if unplaced():
        print(f"modules on no page of the API reference (add them to PAGES): {unplaced()}", file=sys.stderr)
        return 1
    want = pages()
    stale = [p for p, text in want.items() if not p.exists() or p.read_text() != text]
    if "--write" in argv:
        OUT.mkdir(exist_ok=True)
        for p in stale:
            p.write_text(want[p])
        print(f"wrote {len(stale)} page(s)")
        return 0
    if stale:
        print("stale API pages (run python book/_ext/api_pages.py --write): "
              + ", ".join(str(p.relative_to(ROOT)) for p in stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
