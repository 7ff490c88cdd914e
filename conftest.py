"""The notebooks' two lanes for ``make notebooks`` (nbval on ``pytest-xdist``'s two workers, ``--dist loadscope``).

Each notebook goes to one of two lanes and each lane to one worker, which executes its notebooks one after the
other in book order. A run that both lanes ask for is trained once: the result cache holds an entry while one
process computes it, and another that asks for it waits and loads it (:func:`reptheory.cache.cached`,
:func:`reptheory.cache.claim`, which every batched engine's trials go through). A page that reuses another
page's runs shares its lane and comes after it (:data:`SHARES`) where that saves waiting: then it finds them done.
The lanes are balanced on the pages' measured empty-cache times (:data:`COLD_SECONDS`) by placing the longest
first. Without ``-n`` (a plain ``pytest --nbval book/``) nothing changes: the notebooks run in book order in one
process.
"""
from __future__ import annotations

import functools
import pathlib

import pytest

#: seconds each notebook's cells took under nbval in a two-lane ``make notebooks`` from an empty cache on this project's
#: 2-core machine (a fresh clone, 2026-12-07, beside a few minutes of unit tests at the start; the sum of each page's
#: cells among the 80 longest, ``--durations=80``, its others under 1.1 s each, the performance page's all of them): a
#: page whose runs an earlier page of its lane trained costs little there (see SHARES). The lanes ended after 82 and
#: about 76 minutes. Unlisted: 60 s.
COLD_SECONDS = {
    "deviations": 2, "effective_theory": 6, "explorer": 125, "fig01_schematic": 4, "fig02_architectures": 260,
    "fig03_initial_weights": 302, "fig04_mnist_two_points": 676, "fig05_final_distance": 1347,
    "fig05b_paper_scale": 669, "fig06_xor": 107, "fig07_blobs": 4, "fig08_feature_collapse": 281,
    "fig09_mnist_structure": 13, "fig10_depth": 23, "fig11_loss_curves": 11, "fig12_very_low_gain": 574,
    "fig13_adam": 211, "fig14_xor_adam": 28, "fig15_blobs_adam": 351, "fig16_mnist_adam": 223, "fixed_points": 17,
    "parity_phase": 1901, "parity_theory": 231, "parity_tree_merge": 50, "performance": 1, "phase_diagram": 169,
    "universality_lab": 1553, "weight_sharing": 350,
}
#: pages that read cached runs another page trains, kept in one lane in book order so that the reader finds them
#: trained instead of waiting for the other lane: the Fig. 2 rows (Fig. 11, Fig. 13's default, the performance page);
#: Fig. 3's runs (the phase diagram, which reads Fig. 2's rows too); Fig. 5's fits and grids (Figs. 5b and 6; Fig. 14
#: reuses Fig. 6's XOR runs); the MNIST networks; the blob runs; the parity networks of the sequel's theory pages.
#: The lab reads the Fig. 2 rows and Fig. 5's fits but comes last in book order: by then the other lane has trained
#: them (or the lab trains them, and that lane loads them)
SHARES = (
    {"fig02_architectures", "fig11_loss_curves", "fig13_adam", "performance"},
    {"fig03_initial_weights", "phase_diagram"},
    {"fig05_final_distance", "fig05b_paper_scale", "fig06_xor", "fig14_xor_adam"},
    {"fig04_mnist_two_points", "fig09_mnist_structure", "fig16_mnist_adam"},
    {"fig08_feature_collapse", "fig12_very_low_gain", "fig15_blobs_adam"},
    {"parity_theory", "parity_tree_merge"},
)


def lanes(notebooks: list[str]) -> dict[str, int]:
    """Lane 0 or 1 for each notebook name: the sets of :data:`SHARES` (and each other page alone), longest
    first, each to the lane with less work so far.

    >>> sorted(lanes(["fig05_final_distance", "fig05b_paper_scale", "fig01_schematic"]).values())
    [0, 0, 1]
    """
    units, seen = [], set()
    for group in SHARES:
        members = [n for n in notebooks if n in group]
        if members:
            units.append(members)
            seen |= set(members)
    units += [[n] for n in notebooks if n not in seen]
    cost = lambda unit: sum(COLD_SECONDS.get(n, 60.0) for n in unit)
    load, lane = [0.0, 0.0], {}
    for unit in sorted(units, key=cost, reverse=True):
        k = load.index(min(load))
        load[k] += cost(unit)
        lane |= dict.fromkeys(unit, k)
    return lane


@pytest.hookimpl(optionalhook=True)        # pytest-xdist's hook: without the plugin, pytest runs as usual
def pytest_xdist_make_scheduler(config, log):
    """With ``--dist loadscope``, the scheduler of ``make notebooks``: each notebook's cells are one lane's
    (:func:`lanes`) instead of their own scope, so each of the two workers runs one lane's notebooks, each
    notebook whole and in book order. Other tests keep ``pytest-xdist``'s scope (their module)."""
    if config.getoption("dist", "no") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class Lanes(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            if not path.endswith(".ipynb"):
                return super()._split_scope(nodeid)
            pages = sorted({pathlib.Path(n.split("::", 1)[0]).stem for n in self.collection or []
                            if n.split("::", 1)[0].endswith(".ipynb")})
            return f"lane {_lanes(tuple(pages)).get(pathlib.Path(path).stem, 0)}"

    return Lanes(config, log)


@functools.lru_cache(maxsize=None)
def _lanes(pages: tuple) -> dict:
    return lanes(list(pages))
