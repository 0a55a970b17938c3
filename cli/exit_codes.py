"""The exit codes of design §6, shared by every command."""

#: Done.
OK = 0
#: Bad config or usage; nothing was written.
CONFIG = 1
#: A tracker was unreachable or refused the credentials.
TRACKER = 2
#: Some writes failed; the rest landed.
WRITES = 3
#: `plan --detailed-exitcode`: changes are pending.
PENDING = 4
