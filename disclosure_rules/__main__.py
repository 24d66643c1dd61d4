"""``python -m disclosure_rules`` is the same as the ``disclosure-rules`` command."""

import sys

from .cli import main

sys.exit(main())
