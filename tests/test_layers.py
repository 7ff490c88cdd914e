"""The package's layers (README, "The package by layer"): one package per layer, imports run one way."""
import ast
import pathlib

import pytest

import reptheory

PKG = pathlib.Path(reptheory.__file__).parent
#: the layer packages; the root holds the infrastructure (``core``; the settings registry ``configs`` is a package
#: of its own, one module per paper) and, on top, the command lines (the figures, the cache comparison) and benchmark
PACKAGES = ("theory", "networks", "experiments", "sequel", "lab", "presentation")
CORE = {"configs", "cache", "parallel", "runtime", "stats", "validate", "_version"}
TOP = {"cli", "bench", "compare", "__main__"}
ALLOWED = {
    "core": {"core"},
    "theory": {"core", "theory"},
    "networks": {"core", "theory", "networks"},
    "experiments": {"core", "theory", "networks", "experiments"},
    "sequel": {"core", "theory", "networks", "sequel"},
    "lab": {"core", "theory", "networks", "experiments", "lab"},
    "presentation": {"core", "theory", "networks", "experiments", "sequel", "lab", "presentation"},
    "top": {"core", *PACKAGES, "top"},
}


def layer_of(dotted: str) -> str:
    """The layer of the module ``reptheory.<dotted>``."""
    head = dotted.split(".")[0]
    if head in PACKAGES:
        return head
    assert head in CORE | TOP, f"reptheory.{dotted} has no layer"
    return "core" if head in CORE else "top"


def _modules():
    return sorted(p for p in PKG.rglob("*.py") if "__pycache__" not in p.parts and p != PKG / "__init__.py")


def _dotted(path: pathlib.Path) -> str:
    return ".".join(path.relative_to(PKG).with_suffix("").parts)


def _imports(path: pathlib.Path) -> set[str]:
    """The package's modules (dotted, without ``reptheory.``) that ``path`` imports, anywhere in the file."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import (the package imports absolutely)"
            mod = node.module or ""
            if mod == "reptheory":
                out |= {a.name for a in node.names if a.name != "__version__"}
            elif mod.startswith("reptheory."):
                out.add(mod.removeprefix("reptheory."))
        elif isinstance(node, ast.Import):
            out |= {a.name.removeprefix("reptheory.") for a in node.names if a.name.startswith("reptheory.")}
    return out


def test_the_layers_are_packages():
    assert {p.name for p in PKG.iterdir() if (p / "__init__.py").exists()} == set(PACKAGES) | {"configs"}
    root = {p.stem for p in PKG.glob("*.py") if p.stem != "__init__"}
    assert root | {"configs"} == CORE | TOP


@pytest.mark.parametrize("path", _modules(), ids=_dotted)
def test_imports_run_one_way(path):
    layer = layer_of(_dotted(path))
    wrong = {m: layer_of(m) for m in _imports(path) if layer_of(m) not in ALLOWED[layer]}
    assert not wrong, f"{_dotted(path)} ({layer}) imports {wrong}"


@pytest.mark.parametrize("path", _modules(), ids=_dotted)
def test_no_module_is_over_400_lines(path):
    n = len(path.read_text().splitlines())
    assert n <= 400, f"{_dotted(path)}: {n} lines"
