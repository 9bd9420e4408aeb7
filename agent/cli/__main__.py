"""`python -m agent.cli`: the same as the `homeclaw` console script."""

import sys

from agent.cli import main

sys.exit(main())
