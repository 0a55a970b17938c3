"""The ``priosync`` command line: one command per module where it is more than a call."""
