"""GET /console/sites/{site}/stream: the operators' live channel, as Server-Sent Events.

Signed in (session cookie) and on the site (``require_site``). Each event is an entry of the
site's operators' feed (``store.read_ops``: ``conversation``, ``status``, ``message``, ``read``,
``seen``, ``assigned``), its entry id the event id, so a reconnect with ``Last-Event-ID`` (or
``?last=``) resumes right after the last one delivered. Without one, the stream starts at the
feed's end. Either way, once caught up it sends ``ready`` (with the feed's position as its id):
the page (re)loads the conversation list then, so nothing falls between the list and the feed.
Typing is ephemeral and has no id. A comment line ``: hb`` after HEARTBEAT seconds without
anything sent. Written as the widget's stream is (server/web/stream.py, server/web/sse.py).

While open it keeps the operator online (``Presence.touch`` every TOUCH_EVERY seconds; away
when the page says so with ``?away=1`` or the away switch says so meanwhile) and ``leave``s when
it closes; and it runs ``ChatService.rebalance`` whenever it reads the feed, as the assignment
module asks (rebalance throttles itself per site and process).
"""

from __future__ import annotations

import asyncio
import contextlib
import json

from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from server import metrics
from server.chat.feed import ENTRY_ID, OPERATORS
from server.chat.wakeups import Listener
from server.console.auth import require_site, signed_in
from server.sites import Site
from server.store.base import StoreUnavailable
from server.web import sse
from server.web.errors import Refusal
from server.web.services import Services, services
from server.web.stream import until_gone

HEARTBEAT = 15.0  # seconds without anything sent before a comment line
TOUCH_EVERY = 15.0  # seconds between presence touches (presence.ONLINE_FOR is 45)
POLL = 20.0  # seconds between reads of the feed without a wake-up
BATCH = 200  # entries read at a time


async def get_stream(request: Request) -> OpsStream:
    found = await signed_in(request)
    if found is None:
        raise Refusal("not signed in to the console; sign in at /console/login", 401)
    _, operator = found
    key = request.path_params["site"]
    require_site(operator, key)
    shared = services(request)
    site = shared.live.config.sites.get(key)
    if site is None:
        raise Refusal(f"unknown site '{key[:64]}'", 404)
    last = request.headers.get("last-event-id") or request.query_params.get("last", "")
    # "0": the position a `ready` sent while the feed was still empty, which a reconnect sends back.
    if last and last != "0" and not ENTRY_ID.match(last):
        raise Refusal(f"last event id '{last[:40]}' is not an event id such as 1733300000000-0", 400)
    return OpsStream(shared, site, operator.email, last, request.query_params.get("away") == "1")


class OpsStream:
    """The ASGI response of one operator's open stream."""

    def __init__(self, shared: Services, site: Site, email: str, last: str, away: bool):
        self.shared, self.site, self.email, self.last, self.away = shared, site, email, last, away

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": list(sse.HEADERS)})
        if scope["method"] != "HEAD":
            metrics.operator_streams.inc()
            try:
                await self._stream(receive, send)
            finally:
                metrics.operator_streams.dec()
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _stream(self, receive: Receive, send: Send) -> None:
        with self.shared.wakeups.listen(self.site.key, OPERATORS) as listener:
            watcher = asyncio.get_running_loop().create_task(until_gone(receive, listener))
            try:
                await self._deliver(send, listener)
                if self.shared.wakeups.ended:  # the server is stopping: reconnect, to another process
                    await send(_body(sse.goodbye()))
            except StoreUnavailable as error:
                self.shared.repeating.warning("site %s: console stream ended: %s", self.site.key, error)
            finally:
                watcher.cancel()
                with contextlib.suppress(StoreUnavailable):  # a store down: the entry expires on its own
                    await self.shared.presence.leave(self.site.key, self.email)

    async def _deliver(self, send: Send, listener: Listener) -> None:
        shared, key = self.shared, self.site.key
        clock = asyncio.get_running_loop().time
        after = self.last or "0"
        if not self.last:  # from the feed's end: the page loads the list on `ready`
            while entries := await shared.store.read_ops(key, after=after, count=BATCH * 10):
                after = entries[-1][0]
        ready, touched, beat_at = False, -TOUCH_EVERY, clock() + HEARTBEAT
        while not listener.closed:
            if clock() - touched >= TOUCH_EVERY:
                await shared.presence.touch(key, self.email, away=self.away)
                touched = clock()
            await shared.chat.rebalance(self.site)
            entries = await shared.store.read_ops(key, after=after, count=BATCH)
            chunks = [sse.event(data.decode(), kind, entry_id) for entry_id, kind, data in entries]
            if entries:
                after = entries[-1][0]
            if len(entries) == BATCH:
                await send(_body(b"".join(chunks)))
                continue
            if not ready:
                ready = True
                chunks.append(sse.event(json.dumps({"me": self.email, "away": self.away}), "ready", after))
            if chunks:
                await send(_body(b"".join(chunks)))
                beat_at = clock() + HEARTBEAT
            woken = await listener.wait(min(POLL, beat_at - clock(), touched + TOUCH_EVERY - clock()))
            was_away = self.away
            ephemeral = b"".join(self._ephemeral(payload) for payload in woken if payload)
            if self.away != was_away:
                touched = -TOUCH_EVERY  # touch now, with the new state
            if ephemeral:
                await send(_body(ephemeral))
                beat_at = clock() + HEARTBEAT
            elif not woken and clock() >= beat_at:
                await send(_body(sse.comment("hb")))
                beat_at = clock() + HEARTBEAT

    def _ephemeral(self, payload: str) -> bytes:
        """A typing event, or the operator's own away switch (which also re-touches presence)."""
        kind, _, rest = payload.partition("\t")
        if kind == "typing":
            who, name, visitor = (rest.split("\t") + ["", "", ""])[:3]
            return sse.event(json.dumps({"who": who, "name": name, "visitor": visitor}), "typing")
        if kind == "away":
            whose, _, flag = rest.partition("\t")
            if whose == self.email and self.away != (flag == "1"):
                self.away = flag == "1"
                return sse.event(json.dumps({"away": self.away}), "away")
        return b""


def _body(chunk: bytes) -> dict:
    return {"type": "http.response.body", "body": chunk, "more_body": True}
