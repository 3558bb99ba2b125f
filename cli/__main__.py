"""Allow `python -m cli` (the same interpreter, no PATH lookup) as well as the `whoru` console script."""

from cli.main import main

# Messages name the command users type, not `python -m cli`.
main(prog_name="whoru")
