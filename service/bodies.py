"""Reading a webhook's body safely: size, encoding, form wrapping, nesting (before parsing).

- The size limit applies to what is read off the wire (413 as soon as it is exceeded, never
  read whole) and again to what decompression yields (a small gzip bomb is refused too).
- ``Content-Encoding: gzip`` or ``deflate`` is undone, bounded; any other encoding is 415.
- GitHub sends ``application/x-www-form-urlencoded`` with the JSON in a ``payload`` field when
  a webhook is set up that way; the signature covers the raw form, so it is checked on the
  raw bytes and the JSON taken out afterwards.
- JSON nested deeper than ``MAX_DEPTH`` is 400 for every tracker and event (a signed
  ``ping`` of 1,000 nested arrays once made a 500 with a traceback).
- A client that hangs up mid-body is not an error: there is no one to answer.
"""

from __future__ import annotations

import re
import zlib
from urllib.parse import parse_qs

from starlette.requests import ClientDisconnect, Request

from priosync.errors import WebhookRejected

#: No tracker's payload is nested anywhere near this deep (Jira's changelog: about 6).
MAX_DEPTH = 64
_STRUCTURE = re.compile(rb'[\[\]{}"\\]')


class Disconnected(Exception):
    """The client went away before its body arrived: nothing to answer, nothing to log."""


async def read_raw_body(request: Request, max_bytes: int) -> bytes:
    """The body as sent, or 413 as soon as it is known to exceed ``max_bytes``."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise WebhookRejected("invalid Content-Length", status=400)
        if int(declared) > max_bytes:
            raise WebhookRejected(f"body over {max_bytes} bytes", status=413)
    chunks: list[bytes] = []
    total = 0
    try:
        async for chunk in request.stream():
            total += len(chunk)
            if total > max_bytes:
                raise WebhookRejected(f"body over {max_bytes} bytes", status=413)
            chunks.append(chunk)
    except ClientDisconnect:
        raise Disconnected from None
    return b"".join(chunks)


def decoded_body(request: Request, raw: bytes, max_bytes: int) -> bytes:
    """The body with its ``Content-Encoding`` undone (at most ``max_bytes``), or 415."""
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        return raw
    if encoding not in ("gzip", "deflate"):
        raise WebhookRejected(
            f"Content-Encoding {encoding!r} is not accepted; send the body uncompressed, "
            "gzip or deflate",
            status=415,
        )
    wbits = 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS
    inflater = zlib.decompressobj(wbits)
    try:
        body = inflater.decompress(raw, max_bytes + 1)
    except zlib.error:
        raise WebhookRejected(f"the body is not valid {encoding}", status=400) from None
    if len(body) > max_bytes or inflater.unconsumed_tail:
        raise WebhookRejected(f"body over {max_bytes} bytes once decompressed", status=413)
    if not inflater.eof:
        raise WebhookRejected(f"the {encoding} body is cut short", status=400)
    return body


def json_payload(request: Request, body: bytes) -> bytes:
    """The JSON document in the body: the body itself, or a form's ``payload`` field; 415
    for any other content type."""
    kind = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if kind in ("application/json", "") or kind.endswith("+json"):
        return body
    if kind == "application/x-www-form-urlencoded":
        try:
            form = parse_qs(body.decode("utf-8"), strict_parsing=True, max_num_fields=10)
        except (UnicodeDecodeError, ValueError):
            raise WebhookRejected("malformed body: not a URL-encoded form", status=400) from None
        payload = form.get("payload")
        if not payload or len(payload) != 1:
            raise WebhookRejected("malformed body: the form has no payload field", status=400)
        return payload[0].encode("utf-8")
    raise WebhookRejected(
        f"Content-Type {kind!r} is not accepted; set the webhook's content type to "
        "application/json",
        status=415,
    )


def check_depth(document: bytes, *, max_depth: int = MAX_DEPTH) -> None:
    """400 when the JSON nests arrays and objects deeper than ``max_depth`` (strings skipped).

    Looks only at structural characters, so a megabyte is checked in a few milliseconds
    before any parser can recurse on it.
    """
    depth = 0
    in_string = False
    skip_at = -1  # the position right after a backslash inside a string
    for match in _STRUCTURE.finditer(document):
        if match.start() == skip_at:
            continue  # an escaped character: part of the string
        char = match[0]
        if in_string:
            if char == b"\\":
                skip_at = match.end()
            elif char == b'"':
                in_string = False
            continue
        if char == b'"':
            in_string = True
        elif char in (b"[", b"{"):
            depth += 1
            if depth > max_depth:
                raise WebhookRejected(
                    f"malformed body: JSON nested deeper than {max_depth} levels", status=400
                )
        elif char in (b"]", b"}"):
            depth -= 1
