"""The benchmark's blob comparison runs end to end (its timings are printed by benchmarks/train_step.py, never
asserted)."""
import numpy as np

from reptheory import bench


def test_blob_stack_rates_times_both_ways():
    alone, stacked = bench.blob_stack_rates(1, seeds=2)
    assert np.isfinite(alone) and np.isfinite(stacked) and alone > 0 and stacked > 0
