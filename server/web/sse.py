"""The Server-Sent Events wire format (text/event-stream), as the live stream writes it.

An event is an optional ``id:`` line, an optional ``event:`` line and one ``data:`` line per
line of its data (a line break inside data would otherwise end the field early), then a blank
line; a comment is a line that starts with ``:``. Lines end with ``\\n``. Ids and event names
lose any line break, as they are single-line fields.
"""

from __future__ import annotations

import random
import re

LINE_BREAK = re.compile(r"\r\n|\r|\n")
HEADERS = (
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-store"),
    # nginx buffers responses unless told not to, which would hold events back.
    (b"x-accel-buffering", b"no"),
)


def event(data: str, kind: str | None = None, event_id: str | None = None) -> bytes:
    lines = []
    if event_id is not None:
        lines.append("id: " + LINE_BREAK.sub("", event_id))
    if kind is not None:
        lines.append("event: " + LINE_BREAK.sub("", kind))
    lines.extend("data: " + line for line in LINE_BREAK.split(data))
    return ("\n".join(lines) + "\n\n").encode()


def goodbye() -> bytes:
    """The last event of a stream whose server is stopping: ``retry:`` asks the browser to
    reconnect (to another process) within RECONNECT milliseconds, spread so that the streams of a
    stopping process do not all arrive at once; ``event: bye`` (no id, so the browser's
    Last-Event-ID stays the last entry delivered) lets a page tell this from a failure."""
    low, high = RECONNECT
    return f"retry: {random.randint(low, high)}\nevent: bye\ndata: {{}}\n\n".encode()


RECONNECT = (250, 2000)  # milliseconds


def comment(text: str) -> bytes:
    return "".join(": " + line + "\n" for line in LINE_BREAK.split(text)).encode() + b"\n"
