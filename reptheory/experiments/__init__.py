"""The paper's experiments, one module per figure family: cached entry points that train, measure, fit.

A figure asks for a setting (by name and profile, or a :class:`~reptheory.configs.Setting`) and gets the trained
run, the measured curves and the fitted theory; a figure that needs another figure's runs calls the same function
and gets them from :mod:`reptheory.cache`. Sec. 3: :func:`two_point` (one seed) and :func:`two_point_seeds`
(several, in parallel). Sec. 4: :func:`mean_rates`, :func:`final_distance` and :func:`seed_sets` (Fig. 5),
:func:`xor` (Fig. 6), :func:`blobs` (Figs. 8, 12), :func:`mnist` (Figs. 4, 9) and what those check,
:func:`mnist_summary`. Sec. 5: :func:`depth` (Fig. 10). The rich/lazy phase diagram: :func:`phase`.
Independent runs go to worker processes through joblib (:mod:`reptheory.parallel`: ``n_jobs`` workers, by
default ``$REPTHEORY_N_JOBS`` or 2, on the configured backend), each result cached on its own, so an
interrupted sweep resumes where it stopped.

Modules: :mod:`~reptheory.experiments.result` (the one two-point result type, of these runs and the lab's probes),
:mod:`~reptheory.experiments.runs` (Sec. 3, Fig. 10, and the cached two-point run path),
:mod:`~reptheory.experiments.fig5`, :mod:`~reptheory.experiments.xor_blobs`, :mod:`~reptheory.experiments.mnist_runs`,
:mod:`~reptheory.experiments.phase_diagram`. The names below are the package's public API; the committed paper-scale
results are read by :mod:`reptheory.presentation.records`.
"""
from reptheory.experiments.fig5 import (FinalDistanceResult, GridPoint, RateEstimate, estimate_rates, final_distance,
                                        mean_rates, seed_set, seed_sets)
from reptheory.experiments.mnist_runs import (MNIST_PREDICTIONS, MnistResult, mnist, mnist_fig4_rows, mnist_matrices,
                                              mnist_summary)
from reptheory.experiments.phase_diagram import PhaseResult, phase
from reptheory.experiments.result import TwoPointResult
from reptheory.experiments.runs import (ArchitectureStatistics, architecture_statistics, depth, plateau_ratio,
                                       plateau_ratios, run_many, summary, two_point, two_point_seeds)
from reptheory.experiments.xor_blobs import BlobsResult, XorResult, XorStructure, blobs, xor, xor_structure

__all__ = ["TwoPointResult", "two_point", "two_point_seeds", "run_many", "plateau_ratio", "plateau_ratios", "summary",
           "ArchitectureStatistics", "architecture_statistics", "RateEstimate", "estimate_rates", "mean_rates",
           "GridPoint", "FinalDistanceResult", "final_distance", "seed_set", "seed_sets", "XorResult", "xor",
           "XorStructure", "xor_structure", "BlobsResult", "blobs", "depth", "MnistResult", "mnist",
           "MNIST_PREDICTIONS", "mnist_matrices", "mnist_fig4_rows", "mnist_summary", "PhaseResult", "phase"]
