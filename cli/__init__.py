"""The ``priosync`` command line: one command per module where it is more than a call."""

import sys

# httpx's package __init__ imports its own command line (``httpx._main``) whenever click,
# rich and pygments are installed — and typer and rich are ours — which costs every
# priosync process ~3 MiB of resident memory and ~30 ms for modules it never uses
# (encode/httpx#3547). A ``None`` entry makes that import fail, and httpx catches the
# ImportError by design. Only the ``httpx`` console script needs the module.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
