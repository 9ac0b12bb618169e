"""`python -m rnnedge` runs the command line."""

from rnnedge.cli import main

main()
