"""`python -m dedupe` runs the command line."""

from dedupe.cli import main

main()
