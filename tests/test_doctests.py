"""The ``>>>`` examples in the package's docstrings run as tests: every module that has one."""
import doctest
import importlib
import pathlib

import pytest

import reptheory

PKG = pathlib.Path(reptheory.__file__).parent
MODULES = sorted(".".join(p.relative_to(PKG.parent).with_suffix("").parts).removesuffix(".__init__")
                 for p in PKG.rglob("*.py") if "__pycache__" not in p.parts and ">>> " in p.read_text())


def test_the_public_layers_have_examples():
    assert {"reptheory.theory.ode", "reptheory.theory.fit", "reptheory.lab.probing", "reptheory.runtime",
            "reptheory.networks.stop", "reptheory.cli"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, tmp_path, monkeypatch):
    """Each module's examples, with a result cache of their own (an example that trains a tiny network leaves
    nothing in the reader's cache)."""
    monkeypatch.setenv("REPTHEORY_CACHE", str(tmp_path))
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
