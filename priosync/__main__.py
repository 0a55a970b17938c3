"""`python -m priosync` is the `priosync` command."""

from priosync.sync.cli import main

main()
