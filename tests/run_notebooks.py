"""nbval over the book in two chains of notebooks run side by side, one pytest process each (``make notebooks``):
while one chain fits, draws or derives in a single process, the other's training fills the second core.

A notebook that reads runs another notebook trains (through the result cache) is in that notebook's chain, after
it: a chain runs in file order, so the runs it reads are on disk when it starts. Across chains no notebook reads
another's runs; a notebook put in the wrong chain still passes, it only trains the runs again. Every notebook of
``book/`` is named here once (``tests/test_notebooks.py`` checks it), each chain about half of the cold time.

Usage: ``python tests/run_notebooks.py [pytest options]``; the options go to both pytest processes, each line of
their output is printed with its chain's name, and the exit status is 0 only when both chains pass.
"""
from __future__ import annotations

import pathlib
import subprocess
import sys
import threading

BOOK = pathlib.Path(__file__).resolve().parents[1] / "book"

#: chain -> its notebooks (file stems, in file order); the comments say which runs a notebook reads
CHAINS = {
    "two-point": (
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
    "data+sequel": (
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


def _relay(chain: str, stream) -> None:
    for line in iter(stream.readline, ""):
        sys.stdout.write(f"[{chain}] {line}")
        sys.stdout.flush()


def main(options: list[str]) -> int:
    """Every chain of :data:`CHAINS` under ``pytest options``, after checking that they name every notebook."""
    named = sorted(stem for stems in CHAINS.values() for stem in stems)
    present = sorted(p.stem for p in BOOK.glob("*.ipynb"))
    if named != present:
        print(f"run_notebooks: the chains name {sorted(set(named) - set(present))} that book/ lacks and miss "
              f"{sorted(set(present) - set(named))}: add a new notebook to the chain of the notebooks whose runs "
              "it reads (any chain if it reads none)", file=sys.stderr)
        return 2
    return run(CHAINS, options)


def run(chains: dict, options: list[str], book: pathlib.Path = BOOK) -> int:
    """Each chain (``{name: notebook stems}``, notebooks in ``book``) in its own ``pytest options`` process, all
    at once; 0 when every one passes, else the largest exit status."""
    procs, relays = {}, []
    try:
        for chain, stems in chains.items():
            procs[chain] = p = subprocess.Popen(
                [sys.executable, "-m", "pytest", *options, *(str(book / f"{s}.ipynb") for s in stems)],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
            relays.append(threading.Thread(target=_relay, args=(chain, p.stdout), daemon=True))
            relays[-1].start()
        codes = {chain: p.wait() for chain, p in procs.items()}
    finally:                            # interrupted (a timeout, Ctrl-C): no chain outlives the runner
        for p in procs.values():
            if p.poll() is None:
                p.terminate()
    for t in relays:
        t.join()
    print("run_notebooks: " + ", ".join(f"{chain} exit {code}" for chain, code in codes.items()))
    return 0 if all(code == 0 for code in codes.values()) else max(codes.values())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
