"""priosync's leaves: the domain types (``priosync.domain``) and the one error tree
(``priosync.errors``), which every layer may import; ``python -m priosync`` runs the CLI.

The layers themselves are top-level packages (``config``, ``scoring``, ``connectors``,
``sync``, ``reports``, ``service``, ``cli``, ``sandbox``): priosync is an application,
installed into its own environment.
"""
