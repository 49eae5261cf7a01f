"""Write the synthetic datasets: `python -m amdlib.data --profile cpu [--root DIR] [--seed N] [--force]`."""

from ..cli.data import main

main()
