"""Log lines that cannot be forged: control characters in a message are escaped.

A webhook's key, a title or a tracker's error message ends up in log messages; a newline in
one of them would start a line that looks like priosync's own (``INFO …: rescored``), and an
escape sequence would act on the terminal that tails the log. Messages are escaped; a
traceback appended by ``log.exception`` keeps its own lines.
"""

from __future__ import annotations

import copy
import logging
import re

FORMAT = "%(levelname)s %(name)s: %(message)s"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape_controls(text: str) -> str:
    """``text`` with every control character (newlines too) written as ``\\xNN``/``\\uNNNN``."""
    return _CONTROL.sub(
        lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}", text
    )


class EscapingFormatter(logging.Formatter):
    """A ``logging.Formatter`` that escapes control characters in the message."""

    def format(self, record: logging.LogRecord) -> str:
        safe = copy.copy(record)
        safe.msg = escape_controls(record.getMessage())
        safe.args = None
        return super().format(safe)


def configure(level: int) -> None:
    """Log to stderr at ``level`` through the escaping formatter (once per process)."""
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    for handler in root.handlers:
        if not isinstance(handler.formatter, EscapingFormatter):
            handler.setFormatter(EscapingFormatter(FORMAT))
    root.setLevel(level)
