"""nbval over the book in two chains of notebooks, one per pytest-xdist worker (``make notebooks`` runs
``-n 2 --dist loadgroup``): while one chain fits, draws or derives in a single process, the other's training
fills the second core.

A notebook that reads runs another notebook trains (through the result cache) is in that notebook's chain, after
it: a chain runs in file order on one worker, so the runs it reads are on disk when it starts. Across chains no
notebook reads another's runs, so the chains are independent; a notebook put in the wrong chain still passes, it
only trains the runs again. Every notebook of ``book/`` is named here once (``tests/test_notebooks.py`` checks
it), each chain about half of the cold time (the Reproduce page lists the times).
"""
from __future__ import annotations

import pathlib

import pytest

#: chain -> its notebooks (file stems, in file order); the comments say which runs a notebook reads
CHAINS = {
    "two-point runs": (
        "fig02_architectures",          # trains Table 1's rows (seed 0)
        "fig03_initial_weights",        # the gain rows over four seeds
        "fig05_final_distance",         # Fig. 5's fit runs and grids (Table 1 rows, more seeds)
        "fig05b_paper_scale",           # reads Fig. 5's runs
        "fig06_xor",                    # reads Fig. 5's default fit runs (mean rates)
        "fig10_depth",
        "fig11_loss_curves",            # reads Fig. 2's runs
        "fig13_adam",                   # reads Table 1's default runs (Fig. 5's fit seeds)
        "fig14_xor_adam",               # reads Fig. 5's default fit runs and Fig. 6's XOR runs
        "performance",                  # reads Fig. 2's runs and Fig. 13's Adam run
        "phase_diagram",                # reads Figs. 2-3's gain rows
        "universality_lab",             # reads Fig. 2's runs and Fig. 5's
    ),
    "data sets, theory and sequel": (
        "deviations",
        "effective_theory",
        "explorer",
        "fig01_schematic",
        "fig04_mnist_two_points",       # trains the MNIST networks
        "fig07_blobs",
        "fig08_feature_collapse",       # trains the blob networks
        "fig09_mnist_structure",        # reads Fig. 4's networks
        "fig12_very_low_gain",          # reads Fig. 8's gain-0.5 blob networks
        "fig15_blobs_adam",             # reads Fig. 8's gain-0.5 blob networks
        "fig16_mnist_adam",
        "fixed_points",
        "parity_phase",
        "parity_theory",
        "parity_tree_merge",            # reads the parity theory's runs
        "weight_sharing",
    ),
}


def chain_of(stem: str) -> str:
    """The chain that runs notebook ``stem`` (``book/<stem>.ipynb``)."""
    for chain, stems in CHAINS.items():
        if stem in stems:
            return chain
    raise pytest.UsageError(f"book/{stem}.ipynb is in no chain of book/conftest.py's CHAINS: add it to the chain "
                            "of the notebooks whose runs it reads (any chain if it reads none)")


def pytest_collection_modifyitems(items):
    for item in items:
        path = pathlib.Path(str(item.fspath))
        if path.suffix == ".ipynb":
            item.add_marker(pytest.mark.xdist_group(chain_of(path.stem)))
