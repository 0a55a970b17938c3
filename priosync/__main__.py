"""`python -m priosync` is the `priosync` command."""

from cli.main import main

main()
