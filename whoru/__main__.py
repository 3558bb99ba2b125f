"""Allow `python -m whoru` as well as the `whoru` console script."""

from whoru.cli import main

main()
