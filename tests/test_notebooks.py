"""Static checks of the committed notebooks (nbval then re-executes them)."""
import json
import pathlib

import pytest

BOOK = pathlib.Path(__file__).resolve().parents[1] / "book"
NOTEBOOKS = sorted(BOOK.glob("*.ipynb"))


def _code_cells(path):
    return [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_executed_in_order_without_errors(path):
    cells = _code_cells(path)
    # "skip-execution" cells (live-only code, e.g. an ipywidgets slider) are shown but never run
    skipped = [c for c in cells if "skip-execution" in c["metadata"].get("tags", [])]
    assert all(not c["outputs"] and c["execution_count"] is None and "nbval-skip" in c["metadata"]["tags"]
               for c in skipped)
    cells = [c for c in cells if c not in skipped]
    assert [c["execution_count"] for c in cells] == list(range(1, len(cells) + 1))
    assert not any(o["output_type"] == "error" for c in cells for o in c["outputs"])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_volatile_cells_are_tagged(path):
    # figures and timings must not be compared by nbval; the checks are asserts, which nbval always runs
    for c in _code_cells(path):
        src = "".join(c["source"])
        tags = c["metadata"].get("tags", [])
        if "plt.show()" in src:
            assert "nbval-ignore-output" in tags or "nbval-skip" in tags, src[:80]
        if "bench.main" in src or "seconds" in src:
            assert "nbval-skip" in tags, src[:80]
        if "display(slider)" in src or "FrameSlider(" in src:
            assert "nbval-ignore-output" in tags, src[:80]   # base64 frames differ in rendering across CPUs


#: the longest code cell a reader sees opened on a page, unless it asserts the page's claim
SHOWN_LINES = 5
#: a cell that draws a figure or builds a table (bookkeeping: its output is what the reader needs)
_DRAWS = ("plt.show()", "rt.table(", "html_table(", "display(Markdown(", "display(slider)")
_HIDDEN = {"hide-input", "remove-input", "hide-cell", "remove-cell"}


def shown_opened(cell) -> bool:
    """Whether a code cell may be shown opened: it asserts the claim, or it is a short call (at most
    :data:`SHOWN_LINES` lines) that does not only draw a figure or build a table. Everything else (set-up,
    plotting, tables, bookkeeping) sits behind the page's "show code" toggle, so that a page reads as
    claim, calls, result and checks."""
    src = "".join(cell["source"]).strip()
    if "assert" in src:
        return True
    return len(src.splitlines()) <= SHOWN_LINES and not any(k in src for k in _DRAWS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_long_or_bookkeeping_code_is_behind_a_toggle(path):
    opened = [c for c in _code_cells(path) if not _HIDDEN & set(c["metadata"].get("tags", []))]
    assert [("".join(c["source"])[:60]) for c in opened if not shown_opened(c)] == []


def test_the_toggle_rule_tells_a_check_from_bookkeeping():
    def cell(src):
        return {"source": src}
    assert shown_opened(cell("results = experiments.run_many(ROWS)"))
    assert shown_opened(cell("x = 1\n" * 12 + "assert x == 1"))
    assert not shown_opened(cell("x = 1\n" * 6))
    assert not shown_opened(cell("display(Markdown(rt.table(rows)))"))
    assert not shown_opened(cell("fig = plots.grid(r)\nplt.show()"))


#: the packages whose entry point holds every name a page calls: a page imports its names, not its modules
FACADES = ("reptheory.experiments", "reptheory.networks", "reptheory.sequel", "reptheory.lab")


def _public(package: str, name: str) -> bool:
    """Whether ``name`` is public at the entry point ``package`` (``reptheory`` or one of its packages): in its
    ``__all__``, or, outside :data:`FACADES`, one of its modules whose name has no leading underscore."""
    import importlib
    import pkgutil
    mod = importlib.import_module(package)
    if name in getattr(mod, "__all__", ()):
        return True
    subs = {m.name for m in pkgutil.iter_modules(getattr(mod, "__path__", []))}
    return package not in FACADES and not name.startswith("_") and name in subs


def _off_the_api(src: str) -> list[str]:
    """What a code cell's source reaches past the public entry points (see the test below)."""
    import ast
    wrong = []
    src = "\n".join(line for line in src.splitlines() if not line.startswith(("%", "!")))
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("reptheory"):
            if node.module.count(".") > 1:
                wrong.append(f"from {node.module} import …")
            else:
                wrong += [f"{node.module}.{a.name}" for a in node.names if not _public(node.module, a.name)]
        elif isinstance(node, ast.Import):
            wrong += [a.name for a in node.names if a.name.startswith("reptheory.")]
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            wrong.append(f"….{node.attr}")
    return wrong


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_use_the_package_entry_points_only(path):
    """A page imports from ``reptheory`` or a package of it (never from a module inside a package), names that
    entry point makes public (from the experiments, the networks, the sequel and the lab, names of their entry
    points, not their modules), and reaches no private name (``x._y``): what a page calls is the public API."""
    wrong = [w for c in _code_cells(path) for w in _off_the_api("".join(c["source"]))]
    assert not wrong, f"{path.name}: {wrong}"


def test_the_entry_point_rule_tells_public_from_private():
    ok = ("from reptheory import configs, experiments, sequel\nfrom reptheory.presentation import plots, Markdown\n"
          "from reptheory.sequel import parity_runs\nimport reptheory as rt\nplots.style()\n%matplotlib inline")
    assert _off_the_api(ok) == []
    assert _off_the_api("from reptheory.sequel import parity\nfrom reptheory.lab import zoo") == [
        "reptheory.sequel.parity", "reptheory.lab.zoo"]
    assert _off_the_api("from reptheory.presentation.display import Markdown") == [
        "from reptheory.presentation.display import …"]
    assert _off_the_api("from reptheory.lab import _helper, nothing_here") == ["reptheory.lab._helper",
                                                                             "reptheory.lab.nothing_here"]
    assert _off_the_api("import reptheory.cache\nparity._description(s, 0)") == ["reptheory.cache", "…._description"]


TEXT = BOOK / "text"


def _inputs(nb) -> list:
    """A notebook's cells as their kind, source and tags: what the paired text file holds."""
    return [(c["cell_type"], "".join(c["source"]).strip(), sorted(c.get("metadata", {}).get("tags", [])))
            for c in nb["cells"]]


def test_each_notebook_has_its_text_file_and_no_other():
    """``jupytext.toml`` pairs ``book/<name>.ipynb`` with ``book/text/<name>.md``: one text file per notebook."""
    assert sorted(p.stem for p in TEXT.glob("*.md")) == sorted(p.stem for p in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_text_file_holds_the_notebooks_inputs(path):
    """The MyST text file (a page's change as a reviewable diff) has the notebook's cells, sources and tags:
    after editing either, ``make pair`` brings the other in step."""
    import jupytext       # pinned in requirements.txt with the book's tools
    text = jupytext.read(TEXT / f"{path.stem}.md")
    assert _inputs(text) == _inputs(json.loads(path.read_text())), (
        f"book/text/{path.stem}.md and {path.name} differ: run `make pair` (jupytext --sync)")


def _lanes_module():
    import importlib.util
    spec = importlib.util.spec_from_file_location("book_lanes", BOOK.parent / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_lanes_keep_pages_that_share_runs_together():
    """``make notebooks`` runs the pages in two lanes (``conftest.py``): every page has a lane, both lanes have
    work, the pages that share cached runs are in one lane, and every page the lanes name exists."""
    m = _lanes_module()
    names = [p.stem for p in NOTEBOOKS]
    lane = m.lanes(names)
    assert set(lane) == set(names) and set(lane.values()) == {0, 1}
    for group in m.SHARES:
        assert group <= set(names), group - set(names)
        assert len({lane[n] for n in group}) == 1, group
    assert set(m.COLD_SECONDS) <= set(names), set(m.COLD_SECONDS) - set(names)
    cost = lambda pages: sum(m.COLD_SECONDS.get(n, 60.0) for n in pages)
    load = [cost(n for n in names if lane[n] == k) for k in (0, 1)]
    units = [g for g in m.SHARES] + [{n} for n in names if not any(n in g for g in m.SHARES)]
    assert max(load) <= sum(load) / 2 + max(cost(u) for u in units), load     # longest first keeps this bound
