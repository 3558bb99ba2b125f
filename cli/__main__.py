"""Allow `python -m whoru.cli` (the same interpreter, no PATH lookup) as well as the `whoru` console script."""

from whoru.cli.main import main

# Messages name the command users type, not `python -m whoru.cli`.
main(prog_name="whoru")
