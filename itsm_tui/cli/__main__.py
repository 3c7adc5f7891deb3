"""`python -m itsm_tui.cli` runs `itsm`."""

import sys

from itsm_tui.cli import main

main(sys.argv[1:])
