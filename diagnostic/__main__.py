"""Entry point of ``python -m diagnostic``."""

import sys

from diagnostic.cli import main

sys.exit(main())
