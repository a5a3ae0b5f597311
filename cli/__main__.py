"""`python -m cli` runs the `valuechain` command line."""

from cli import main

main()
