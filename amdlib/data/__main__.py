"""Write the synthetic datasets: `python -m amdlib.data --profile cpu [--root DIR] [--seed N] [--force]`."""

from .synthetic import main

main()
