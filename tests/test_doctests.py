"""The ``>>>`` examples in the docstrings of the sequel's public modules run as tests."""
import doctest

import pytest

from reptheory import display, parity, parity_phase, rnn_expansion


@pytest.mark.parametrize("module", [display, rnn_expansion, parity, parity_phase], ids=lambda m: m.__name__)
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
