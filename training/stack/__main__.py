"""Run the stacked model's fit: `python -m whoru.training.stack`."""

from whoru.training.stack.fit import main

main()
