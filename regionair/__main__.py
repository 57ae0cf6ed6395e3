import sys

from regionair.cli import main

sys.exit(main())
