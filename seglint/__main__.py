"""Run the command line as ``python -m seglint``."""

import sys

from seglint.cli import main

sys.exit(main())
