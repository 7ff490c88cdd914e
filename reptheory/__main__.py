"""``python -m reptheory``: see :mod:`reptheory.cli`."""
import sys

from reptheory.cli import main

sys.exit(main())
