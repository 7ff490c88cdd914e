"""``python -m reptheory``: see :mod:`reptheory.cli`. A Ctrl-C while the package is still importing (before
:func:`reptheory.cli.main` can handle it) is one line and status 130, as later."""
import sys

try:
    from reptheory.cli import main
except KeyboardInterrupt:
    print("reptheory: stopped by SIGINT (Ctrl-C) while starting: nothing ran", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
