"""``python -m skdl``: see :mod:`skdl.cli`."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
