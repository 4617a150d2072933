"""`python -m reprise_ray`: see cli.py and docs/scale-out.md."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
