"""``python -m simfarm ...``: the same as ``minerwatch simulate ...``."""

import sys

from simfarm.cli import main

sys.exit(main())
