"""``python -m reptheory``: see :mod:`reptheory.cli`."""
import sys

from .cli import main

sys.exit(main())
