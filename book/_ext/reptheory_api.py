"""Sphinx extension for the book's API reference (``book/api``, written by :mod:`api_pages`).

* A cross-reference to a name where it is re-exported (``reptheory.lab.probe``, ``reptheory.configs.Setting``,
  or a short ``probe_many`` in a module that imports it) resolves to the one place the name is documented, the
  module that defines it. A reference that still finds nothing stays a warning (the book builds with
  ``nitpicky``, so a wrong name in a docstring fails the build).
* A module-level value without a ``#:`` comment shows no text, rather than the docstring of its type (a
  ``dict``'s or a sympy ``Symbol``'s).
* A summary line (the facade's table) does not end at the period of "Eq. 7", "Sec. 2" or "App. A".
* A signature reads as a reader would write it: a dataclass field whose default comes from a factory shows
  that default (an empty ``{}``) or the factory's call (``_default_cache()``), not Python's ``<factory>``; a
  default function shows its name (``median``); an optional type of the package shows no raw ``~``.
"""
from __future__ import annotations

import dataclasses
import importlib
import re
import sys

from sphinx.ext import autosummary

import api_pages


def _homes() -> dict[tuple[str, int], str]:
    """``(name, id(object)) -> "module.name"`` for every public name, at the module that defines it."""
    out = {}
    for m in api_pages.modules():
        module = importlib.import_module(m)
        for _, n in api_pages.public_names(m):
            out[(n, id(getattr(module, n)))] = f"{m}.{n}"
    return out


def _lookup(target: str, current: str | None):
    """The object a dotted ``target`` names (from the top, or from the module ``current``), and the rest of the
    path past the first public name found: ``("reptheory.lab.probe", None) -> (probe, "probe", "")``."""
    parts = target.lstrip(".~").split(".")
    starts = []
    for k in range(len(parts), 0, -1):                       # the longest prefix that is a module
        if ".".join(parts[:k]) in sys.modules or parts[0] == "reptheory":
            try:
                starts.append((importlib.import_module(".".join(parts[:k])), parts[k:]))
                break
            except ImportError:
                continue
    if current:
        starts.append((sys.modules.get(current) or importlib.import_module(current), parts))
    for module, rest in starts:
        if rest and hasattr(module, rest[0]):
            return getattr(module, rest[0]), rest[0], ".".join(rest[1:])
    return None


def _resolve(app, env, node, contnode):
    if node.get("refdomain") != "py":
        return None
    homes = app.env.reptheory_homes
    found = _lookup(node["reftarget"], node.get("py:module"))
    home = homes.get((found[1], id(found[0]))) if found else None
    if home is None:       # a short name the module does not import: the one public name so
        name, _, rest = node["reftarget"].lstrip(".~").partition(".")       # called, if there is exactly one
        matches = {h for (n, _), h in homes.items() if n == name}
        if len(matches) != 1:
            return None
        home = matches.pop()
    else:
        rest = found[2]
    target = f"{home}.{rest}" if rest else home
    return env.get_domain("py").resolve_xref(env, node["refdoc"], app.builder, "obj", target, node, contnode)


def _no_type_docstring(app, what, name, obj, options, lines):
    if what in ("data", "attribute") and not isinstance(obj, type) and getattr(obj, "__doc__", None) \
            and obj.__doc__ == getattr(type(obj), "__doc__", None) and lines:
        import inspect
        if "\n".join(lines).strip() == inspect.cleandoc(obj.__doc__).strip():
            lines.clear()


#: abbreviations whose period does not end a sentence
_ABBREVIATION = re.compile(r"\b(Eqs?|Secs?|Apps?|Figs?|Tabs?|cf|vs)\. ")
_HELD = "QQPERIODQQ"
_extract_summary = autosummary.extract_summary


def _summary(doc: list[str], document) -> str:
    """autosummary's first sentence, read past the abbreviations of :data:`_ABBREVIATION`."""
    held = [_ABBREVIATION.sub(lambda m: f"{m.group(1)}{_HELD} ", line) for line in doc]
    return _extract_summary(held, document).replace(_HELD, ".")


def _homes_once(app):
    app.env.reptheory_homes = _homes()


def _factory_default(f: dataclasses.Field) -> str:
    """What a field's ``default_factory`` gives, when that is an empty container; else the factory's call."""
    made = f.default_factory()
    if isinstance(made, (dict, list, tuple, set)) and not made:
        return repr(made)
    return f"{getattr(f.default_factory, '__name__', 'factory')}()"


def _readable_signature(app, what, name, obj, options, signature, return_annotation):
    """A signature as a reader writes it: a dataclass field's factory default as its value or call (not
    ``<factory>``), a default function by its name (not ``<function median>``), and an optional type of the
    package without the ``~`` that Sphinx leaves raw in a union (``~reptheory...Trajectory | None``)."""
    if not signature:
        return None
    if "<factory>" in signature and what == "class" and dataclasses.is_dataclass(obj):
        for f in dataclasses.fields(obj):
            if f.default_factory is not dataclasses.MISSING:
                signature = re.sub(rf"(\b{re.escape(f.name)}: [^,=]+ = )<factory>",
                                   lambda m, f=f: m.group(1) + _factory_default(f), signature)
    signature = re.sub(r"<function (\w+)>", r"\1", signature)
    signature = re.sub(r"~(reptheory\.[\w.]+ \| None)", r"\1", signature)    # the union's tilde stayed raw
    return signature, return_annotation


def setup(app):
    autosummary.extract_summary = _summary
    app.connect("builder-inited", _homes_once)
    app.connect("missing-reference", _resolve)
    app.connect("autodoc-process-docstring", _no_type_docstring)
    app.connect("autodoc-process-signature", _readable_signature)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
