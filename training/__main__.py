"""`python -m training` runs the `valuechain` command line."""

from training.cli import main

main()
