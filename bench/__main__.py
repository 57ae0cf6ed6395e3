"""``python -m bench [--quick] [--only NAME ...]`` — see bench/run.py."""

import sys

from bench.run import main

sys.exit(main())
