"""`python -m custom_components.immich_autotag`: the headless command, from a checkout.

The command itself is `cli/main.py` (no Home Assistant); `pip install .` installs it as
`immich-autotag`. Run this way, Python imports the integration's package first, so Home
Assistant must be installed.
"""

import sys

from .cli.main import main

if __name__ == "__main__":
    sys.exit(main())
