"""The theory tested on any PyTorch model: :func:`probe` (one network), :func:`probe_many` (many networks of one
architecture at once) and :func:`pair_data` (:mod:`~reptheory.lab.probing`); their input rule, checked before any
training (:mod:`~reptheory.lab.inputs`); the probed run and its verdict
(:mod:`~reptheory.lab.result`); their training engines (:mod:`~reptheory.lab.engines`); their cache key
(:mod:`~reptheory.lab.key`); the Fig. 5 protocol on a model, the initial-scale rule and the chapter's survey
(:mod:`~reptheory.lab.protocol`); the architectures beyond the paper's that the book probes
(:mod:`~reptheory.lab.zoo`); the controlled experiment on the Fig. 5 CNN's plateau
(:mod:`~reptheory.lab.cnn_plateau`). The package's own names are those of :mod:`~reptheory.lab.probing`."""
from reptheory.lab.probing import OPTIMIZERS, pair_data, probe, probe_many

__all__ = ["OPTIMIZERS", "probe", "probe_many", "pair_data"]
