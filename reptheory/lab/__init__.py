"""The theory tested on any PyTorch model: :func:`probe` (one network), :func:`probe_many` (many networks of one
architecture at once) and :func:`pair_data` (:mod:`~reptheory.lab.probing`); their input rule, checked before any
training (:mod:`~reptheory.lab.inputs`); the probed run and its verdict
(:mod:`~reptheory.lab.result`); their training engines (:mod:`~reptheory.lab.engines`); their cache key
(:mod:`~reptheory.lab.key`); the Fig. 5 protocol on a model, the initial-scale rule and the chapter's survey
(:mod:`~reptheory.lab.protocol`); the architectures beyond the paper's that the book probes
(:mod:`~reptheory.lab.zoo`); the controlled experiment on the Fig. 5 CNN's plateau
(:mod:`~reptheory.lab.cnn_plateau`).

The names below are the package's public API, which the book's pages call: the probes, the chapter's protocol
(:func:`survey`, ``survey_summary``, :func:`meets`, :func:`probe_grid`), the zoo, the width sweep
(``width_sweeps``) and the CNN plateau experiment (``cnn_plateau_runs``); a name two modules could share carries
its subject.

>>> from reptheory import lab
>>> "transformer" in lab.ZOO and lab.meets({"dev h2": 0.01, "dev y2": 0.01, "dev w": 0.01, "Eq. 10 vs final": 0.01})
True
"""
from reptheory.lab.cnn_plateau import VARIANTS as CNN_VARIANTS
from reptheory.lab.cnn_plateau import runs as cnn_plateau_runs
from reptheory.lab.probing import OPTIMIZERS, pair_data, probe, probe_many
from reptheory.lab.protocol import ProbeGrid, Survey, choose_scale, meets, probe_grid, survey
from reptheory.lab.protocol import summary as survey_summary
from reptheory.lab.width import KEYS as WIDTH_KEYS
from reptheory.lab.width import WidthSweep
from reptheory.lab.width import against as width_against
from reptheory.lab.width import sweeps as width_sweeps
from reptheory.lab.zoo import ZOO, Spec

__all__ = ["OPTIMIZERS", "probe", "probe_many", "pair_data", "ProbeGrid", "probe_grid", "choose_scale", "Survey",
           "survey", "survey_summary", "meets", "Spec", "ZOO", "WidthSweep", "width_sweeps", "width_against",
           "WIDTH_KEYS", "cnn_plateau_runs", "CNN_VARIANTS"]
