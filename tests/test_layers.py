"""The package's layers (README, "The modules by layer"): imports between modules run one way."""
import ast
import pathlib

import pytest

import reptheory

PKG = pathlib.Path(reptheory.__file__).parent
LAYERS = {
    "core": {"configs", "cache", "parallel", "runtime", "validate"},          # the infrastructure the others stand on
    "theory": {"symbolic", "theory", "fit", "linear", "regimes", "stats"},
    "networks": {"data", "models", "train", "measure", "structure"},
    "experiments": {"experiments", "records"},
    "sequel": {"parity", "parity_batch", "parity_phase", "automata", "algorithm", "rnn_theory", "rnn_expansion",
               "weight_sharing"},
    "lab": {"lab", "probe_result", "probe_train", "probe_key", "probe_protocol", "zoo"},
    "presentation": {"display", "plots", "sequel_plots", "widgets", "explorer", "deviations", "report"},
    "top": {"cli", "bench", "__main__"},
}
ALLOWED = {
    "core": {"core"},
    "theory": {"core", "theory"},
    "networks": {"core", "theory", "networks"},
    "experiments": {"core", "theory", "networks", "experiments"},
    "sequel": {"core", "theory", "networks", "sequel"},
    "lab": {"core", "theory", "networks", "experiments", "lab"},
    "presentation": {"core", "theory", "networks", "experiments", "sequel", "lab", "presentation"},
    "top": set(LAYERS),
}
LAYER_OF = {m: layer for layer, mods in LAYERS.items() for m in mods}


def _modules():
    return sorted(p for p in PKG.rglob("*.py") if p.stem != "__init__")


def _imports(path: pathlib.Path) -> set[str]:
    """The package's modules that ``path`` imports, at module level or inside functions."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            parts = (node.module or "").split(".")
            if parts[-1] and parts[-1] != "presentation":
                out.add(parts[-1])
            else:
                out |= {a.name for a in node.names if a.name in LAYER_OF}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("reptheory"):
            parts = node.module.split(".")
            out |= {parts[-1]} if parts[-1] in LAYER_OF else {a.name for a in node.names if a.name in LAYER_OF}
    return out


def test_every_module_has_a_layer():
    assert {p.stem for p in _modules()} == set(LAYER_OF)


def test_presentation_modules_live_in_their_package():
    assert {p.stem for p in (PKG / "presentation").glob("*.py") if p.stem != "__init__"} == LAYERS["presentation"]


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.stem)
def test_imports_run_one_way(path):
    layer = LAYER_OF[path.stem]
    wrong = {m: LAYER_OF[m] for m in _imports(path) if LAYER_OF[m] not in ALLOWED[layer]}
    assert not wrong, f"{path.stem} ({layer}) imports {wrong}"
