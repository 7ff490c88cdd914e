"""The networks of Table 1 and what is measured on them: the datasets (:mod:`~reptheory.networks.data`), the
architectures (:mod:`~reptheory.networks.models`), training (:mod:`~reptheory.networks.train`, with one module
per engine and one stop and divergence rule, :mod:`~reptheory.networks.stop`), the theory's variables measured
on a run (:mod:`~reptheory.networks.measure`) and representational structure (distance matrices, Eq. 10 pair by
pair, MDS: :mod:`~reptheory.networks.structure`). This layer builds on the theory and the settings.

The names below are the package's public API that the book's pages call: the datasets and the measures of
representational structure. (Training goes through :mod:`reptheory.experiments`; the modules keep their names, so
``networks.train`` is the training module.)

>>> from reptheory import networks
>>> networks.two_points(1.0, 0.5)[0].shape
(2, 1)
"""
from reptheory.networks.data import Blobs, Mnist, blobs, load_mnist, two_points, xor
from reptheory.networks.structure import (compare_matrices, distances, eq50_prediction, eta_squared, mds, merge_ratio,
                                          participation_ratio, within_context_ratio)

__all__ = ["two_points", "xor", "Blobs", "blobs", "Mnist", "load_mnist", "distances", "compare_matrices",
           "within_context_ratio", "eta_squared", "merge_ratio", "participation_ratio", "eq50_prediction", "mds"]
