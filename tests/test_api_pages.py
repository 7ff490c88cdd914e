"""The API reference (``book/api``): its committed pages are what ``book/_ext/api_pages.py`` writes from the
package today, and a Sphinx build of them under the book's own settings (``_config.yml``: autodoc, nitpicky)
gives no warning and documents every public name of every module, and every name of ``import reptheory as
rt``, exactly once."""
from __future__ import annotations

import io
import pathlib
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))

import api_pages  # noqa: E402


def test_the_committed_pages_are_current_and_every_module_has_a_page(capsys):
    assert api_pages.unplaced() == []
    assert api_pages.main([]) == 0, capsys.readouterr().err


def test_public_names_are_those_the_module_defines():
    names = dict((n, k) for k, n in api_pages.public_names("reptheory.theory.ode"))
    assert names["solve"] == "function" and names["TAU_MAX"] == "data"
    assert "h_inf" not in names and "SolveError" not in names      # imported: documented where defined
    assert ("exception", "SolveError") in api_pages.public_names("reptheory.theory.trajectory")
    assert ("function", "h_inf") in api_pages.public_names("reptheory.theory.closed_form")
    cached = dict((n, k) for k, n in api_pages.public_names("reptheory.theory.symbolic"))
    assert all(not n.startswith("_") for n in cached)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The API pages built alone with the book's Sphinx settings; its warnings and its object inventory."""
    from sphinx.application import Sphinx
    from sphinx.util.inventory import InventoryFile
    tmp = tmp_path_factory.mktemp("api")
    src = tmp / "src"
    (src / "api").mkdir(parents=True)
    for p in (ROOT / "book" / "api").glob("*.rst"):
        (src / "api" / p.name).write_text(p.read_text())
    (src / "equations.rst").write_text("Equations\n=========\n")      # the page the index links to
    book = yaml.safe_load((ROOT / "_config.yml").read_text())["sphinx"]
    conf = dict(book["config"])
    conf["nitpick_ignore_regex"] = [tuple(x) for x in conf["nitpick_ignore_regex"]]
    conf = {k: v for k, v in conf.items() if k.startswith(("autodoc", "nitpick"))}
    exts = [e for e in book["extra_extensions"] if e.startswith("sphinx.ext.")] + list(book["local_extensions"])
    warnings = io.StringIO()
    app = Sphinx(str(src), None, str(tmp / "html"), str(tmp / "doctrees"), "html", status=None, warning=warnings,
                 confoverrides={"extensions": exts, "root_doc": "api/index", "exclude_patterns": [], **conf})
    app.build()
    with open(tmp / "html" / "objects.inv", "rb") as f:
        inv = InventoryFile.load(f, "", lambda *a: "/".join(a))
    objects = {name for kind, entries in inv.items() if kind.startswith("py:") for name in entries}
    html = "".join(p.read_text() for p in (tmp / "html" / "api").glob("*.html"))
    return warnings.getvalue(), objects, html


def test_the_reference_builds_without_a_warning(built):
    text = built[0]
    problems = [line for line in text.splitlines() if ("WARNING" in line or "ERROR" in line)
                and "isn't included in any toctree" not in line]
    assert not problems, "\n".join(problems)


def _missing(objects: set[str]) -> list[str]:
    """Every module, public name and facade name (at its home) that ``objects`` lacks."""
    import reptheory
    missing = []
    for m in api_pages.modules():
        missing += [m] if m not in objects else []
        missing += [f"{m}.{n}" for _, n in api_pages.public_names(m) if f"{m}.{n}" not in objects]
    for n in reptheory.__all__:
        obj = getattr(reptheory, n)
        if callable(obj) and f"{obj.__module__}.{n}" not in objects:
            missing.append(f"rt.{n}")
    return missing


def test_a_default_from_a_factory_shows_what_it_gives(built):
    import re
    text = re.sub(r"<[^>]+>", "", built[2])
    assert "&lt;factory&gt;" not in text
    assert "cache_dir: str = _default_cache()" in text and "extra: dict = {}" in text
    assert "&lt;function" not in text and "agg=median" in text
    assert "~reptheory" not in text and "theory: reptheory.theory.trajectory.Trajectory | None = None" in text


def test_every_public_name_has_its_entry(built):
    assert _missing(built[1]) == []


def test_a_name_without_an_entry_would_be_found_missing(built):
    """The completeness check can fail: drop one entry from the inventory and it names the name and its alias."""
    objects = built[1] - {"reptheory.theory.ode.solve"}
    assert _missing(objects) == ["reptheory.theory.ode.solve", "rt.solve"]
