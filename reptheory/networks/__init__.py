"""The networks of Table 1 and what is measured on them: the datasets (:mod:`~reptheory.networks.data`), the
architectures (:mod:`~reptheory.networks.models`), training (:mod:`~reptheory.networks.train`, with one module
per engine and one stop and divergence rule, :mod:`~reptheory.networks.stop`), the theory's variables measured
on a run (:mod:`~reptheory.networks.measure`) and representational structure (distance matrices, Eq. 10 pair by
pair, MDS: :mod:`~reptheory.networks.structure`). This layer builds on the theory and the settings."""
