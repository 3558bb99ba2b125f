"""Run the stacked model's fit: `python -m training.stack`."""

from training.stack.fit import main

main()
