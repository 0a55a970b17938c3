"""Suite-wide settings.

In CI (``CI`` set) hypothesis runs derandomized: the same examples every run, so a red CI
is never a dice roll, and no deadline, since the 2-core machine is shared by the whole
suite. Locally it explores new examples each run (and keeps failures in its database).
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, database=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
