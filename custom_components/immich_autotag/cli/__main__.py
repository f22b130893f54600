"""`python -m immich_autotag.cli` (installed) runs the headless command."""

import sys

from .main import main

sys.exit(main())
