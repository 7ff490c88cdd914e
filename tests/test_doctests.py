"""The ``>>>`` examples in the docstrings of the public modules that have them run as tests."""
import doctest

import pytest

from reptheory import cli, fit, lab, parity, parity_phase, probe_key, probe_protocol, records, rnn_expansion, runtime, stats, theory, zoo
from reptheory.presentation import deviations, display, explorer, plots


@pytest.mark.parametrize("module", [deviations, display, explorer, fit, lab, plots, probe_key, probe_protocol, records, rnn_expansion, parity, parity_phase, runtime, stats, theory, cli, zoo],
                         ids=lambda m: m.__name__)
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
