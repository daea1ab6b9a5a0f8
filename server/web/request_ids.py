"""A request id for every HTTP request: in each log line while it is handled, and in its answer.

An incoming ``X-Request-Id`` is kept when it is sane (1 to 64 letters, digits or ``._:/+=-``, as a
proxy or load balancer writes one), so a request can be followed from the proxy's log to ours;
otherwise one is made: this process's random prefix and a counter, unique without a system call.
The id is echoed in the answer's ``X-Request-Id`` header and put, with the site of a
``/v1/sites/{site}/…`` or ``/console/sites/{site}/…`` path, in the context variables that
:mod:`server.logs` writes into every line.

A pure ASGI middleware (no BaseHTTPMiddleware, which would cost a task and a stream per request):
on the event path it costs a look through the headers and one small dict per answer.
"""

from __future__ import annotations

import itertools
import re
import secrets

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.logs import request_id, request_site

HEADER = b"x-request-id"
SANE = re.compile(rb"[A-Za-z0-9._:/+=-]{1,64}")
SITE_PREFIXES = ("/v1/sites/", "/console/sites/")
SITE_KEY = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")  # server.sites.SITE_KEY; anything else is not logged

_prefix = secrets.token_hex(4) + "-"
_counter = itertools.count(1)


def new_id() -> str:
    return f"{_prefix}{next(_counter):x}"


def current() -> str | None:
    """The id of the request being handled (None outside one)."""
    return request_id.get()


class RequestIds:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        identifier = None
        for name, value in scope["headers"]:
            if name == HEADER:
                if SANE.fullmatch(value):
                    identifier = value.decode("ascii")
                break
        if identifier is None:
            identifier = new_id()
        # Each request runs in a task of its own, whose context these stay in: nothing to reset,
        # and the error handlers that run after the app raised still see them.
        request_id.set(identifier)
        path = scope["path"]
        for prefix in SITE_PREFIXES:
            if path.startswith(prefix):
                site = path[len(prefix) :].partition("/")[0]
                if SITE_KEY.fullmatch(site):
                    request_site.set(site)
                break
        header = (HEADER, identifier.encode("ascii"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), header]}
            await send(message)

        await self.app(scope, receive, send_with_id)
