"""``python -m bot`` is the same program as ``newsrelay``."""

import sys

from bot.cli import main

sys.exit(main())
