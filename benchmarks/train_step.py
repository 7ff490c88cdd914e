"""Training-step benchmark of the Default 20x500 two-point net; see reptheory/bench.py.

Usage: python benchmarks/train_step.py [steps]
"""
import sys

from reptheory import bench

if __name__ == "__main__":
    bench.main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
