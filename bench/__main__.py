"""``python -m bench [--quick] [--only NAME ...]`` — see bench/run.py."""

import sys

from .run import main

sys.exit(main())
