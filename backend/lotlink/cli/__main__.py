"""`python -m lotlink.cli`: the same as the `lotlink` command."""

from lotlink.cli import main

main()
