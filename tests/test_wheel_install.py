"""reptheory as a library: the built wheel installs into a new virtual environment outside the repository, with
the versions the resolver picks from ``pyproject.toml``'s ranges (not the book's pins), and the README's
examples ("Using the package", every ``python`` block as written) run there on the CPU.

PyTorch is installed first, as the README says (its CPU build, ``torch==2.13.0``, which this machine's pip takes
from a file on disk; the range ``torch>=2.4,<3`` then installs nothing more); everything else is the resolver's
choice. Needs the package index (PyPI or a mirror), as the install itself does; about two minutes.
"""
from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess
import sys
import zipfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
TORCH_CPU = "torch==2.13.0"


def readme_examples() -> list[str]:
    """The ``python`` code blocks of the README's "Using the package" section, in order."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Using the package\n"):]
    section = section[:section.index("\n## ", 1)]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def _run(cmd, cwd, env, timeout=900):
    p = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, f"{' '.join(map(str, cmd))} exited {p.returncode}\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"
    return p.stdout


def test_the_readme_has_the_examples_the_install_test_runs():
    blocks = readme_examples()
    assert len(blocks) == 2, "the install test runs the README's two library examples; update it with the README"
    assert "rt.solve(" in blocks[0] and "rt.fit_rates(" in blocks[0] and "rt.fixed_expansion(" in blocks[0]
    assert "rt.probe(" in blocks[1] and "rt.probe_many(" in blocks[1] and "rt.probe_grid(" in blocks[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A new virtual environment holding torch's CPU build and the wheel built from this checkout."""
    tmp = tmp_path_factory.mktemp("wheel")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env.update(REPTHEORY_CACHE=str(tmp / "cache"), REPTHEORY_PROGRESS="0", MPLBACKEND="Agg", PYTHONNOUSERSITE="1")
    src = tmp / "src"                   # the sources a wheel is built from, copied: a build in the checkout
    src.mkdir()                         # leaves build/ there, whose stale files a later build would package
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "reptheory", src / "reptheory", ignore=shutil.ignore_patterns("__pycache__", "*.nbi",
                                                                                       "*.nbc"))
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", tmp / "dist", src], tmp, env)
    wheel, = (tmp / "dist").glob("reptheory-*.whl")
    base = getattr(sys, "_base_executable", sys.executable)
    _run([base, "-m", "venv", tmp / "env"], tmp, env)
    py = tmp / "env" / "bin" / "python"
    _run([py, "-m", "pip", "install", "-q", TORCH_CPU], tmp, env)
    _run([py, "-m", "pip", "install", "-q", wheel], tmp, env)
    return {"tmp": tmp, "env": env, "py": py, "wheel": wheel}


def test_the_wheel_holds_the_package_and_its_declared_dependencies(installed):
    from reptheory import __version__
    with zipfile.ZipFile(installed["wheel"]) as z:
        names = z.namelist()
        meta = z.read(f"reptheory-{__version__}.dist-info/METADATA").decode()
    assert installed["wheel"].name.startswith(f"reptheory-{__version__}-")
    assert all(n.startswith(("reptheory/", f"reptheory-{__version__}.dist-info/")) for n in names), names
    assert "reptheory/theory/ode.py" in names and "reptheory/lab/probing.py" in names
    requires = [line.split(":", 1)[1].strip() for line in meta.splitlines() if line.startswith("Requires-Dist:")]
    core = {re.split(r"[<>=!;\s]", r)[0] for r in requires if "extra ==" not in r}
    assert {"numpy", "scipy", "sympy", "mpmath", "torch", "numba", "matplotlib", "joblib", "tqdm"} <= core
    extras = {m.group(1) for r in requires for m in [re.search(r'extra == "(\w+)"', r)] if m}
    assert extras == {"book", "dask", "ray", "test"}


def test_the_installed_package_is_the_wheel_and_knows_its_version(installed):
    from reptheory import __version__
    out = _run([installed["py"], "-m", "reptheory", "--version"], installed["tmp"], installed["env"], 120)
    assert out.strip() == f"reptheory {__version__}"
    where = _run([installed["py"], "-c", "import reptheory; print(reptheory.__file__)"], installed["tmp"],
                 installed["env"], 120).strip()
    assert where.startswith(str(installed["tmp"] / "env")) and not where.startswith(str(ROOT)), where


@pytest.mark.parametrize("k", [0, 1])
def test_the_readmes_examples_run_in_the_new_environment(installed, k):
    script = installed["tmp"] / f"example_{k}.py"
    script.write_text(readme_examples()[k])
    out = _run([installed["py"], script], installed["tmp"], installed["env"])
    assert out.strip(), "the example prints its results"
