"""Local sandbox trackers (design §9).

ASGI apps that speak the subset of the Jira and GitHub APIs priosync uses, with the real
shapes, status codes, paging and error bodies, plus seeded backlogs, persistence and fault
injection. Each tracker lives in its own subpackage (``sandbox.jira``, ``sandbox.github``);
``sandbox.loopback`` serves any ASGI app on 127.0.0.1 for tests and benchmarks.
"""
