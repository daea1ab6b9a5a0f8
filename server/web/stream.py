"""GET /v1/sites/{site}/stream?ticket=…: the visitor's live channel, as Server-Sent Events.

Checked like events (site, then origin), then the ticket (401 when bad or expired), all before
the response starts. Each event is a feed entry, with the entry's id as the event id, so a
reconnect with ``Last-Event-ID`` (or ``?last=``) resumes right after the last one delivered:
none lost, none twice, in order. Without one, the stream starts with the current conversation
(its opening status, then every entry since), or with the visitor's newest proactive prompt when
it is newer and recent. Typing is ephemeral and has no id. A comment line
``: hb`` after HEARTBEAT seconds without anything sent keeps proxies from closing a quiet stream.

The stream reads the feed when woken (server/chat/wakeups.py) and every POLL seconds anyway:
a wake-up is a hint, the feed is the truth. If the store fails mid-stream, the stream ends and
the browser's EventSource reconnects with the last id it got.

One process holds many thousands of streams, so each costs as little as it can: the response is
one coroutine (:class:`LiveStream`) that writes the events, plus one small task waiting on
``receive()`` for the client to leave, which closes the stream's listener; heartbeats and polls
are timeouts of that listener's wait, timed by the one clock of the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import threading
from collections.abc import Iterator

from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from server import metrics
from server.chat.feed import ENTRY_ID, before, with_id
from server.chat.proactive import fresh, newer
from server.chat.wakeups import Listener, Wakeups
from server.store.base import StoreUnavailable
from server.web import sse
from server.web.errors import CORS, Refusal
from server.web.origins import allowed_site
from server.web.services import Services, services

HEARTBEAT = 15.0  # seconds without anything sent before a comment line
POLL = 20.0  # seconds between reads of the feed without a wake-up
BATCH = 200  # entries read at a time
BEAT = sse.comment("hb")


async def get_stream(request: Request) -> LiveStream:
    site = allowed_site(request)
    shared = services(request)
    visitor = shared.tickets.verify(site.key, request.query_params.get("ticket", ""))
    if visitor is None:
        raise Refusal("bad or expired ticket; use the newest ticket from an events reply", 401)
    last = request.headers.get("last-event-id") or request.query_params.get("last", "")
    if last and not ENTRY_ID.match(last):
        raise Refusal(f"last event id '{last[:40]}' is not an event id such as 1733300000000-0", 400)
    if not last:
        chat = await shared.store.get_chat(site.key, visitor)
        since, prompt = chat.get("since", ""), chat.get("prompt", "")
        if fresh(prompt, shared.clock()) and newer(prompt, since):
            since = prompt  # a proactive prompt newer than the conversation: from it (the widget shows it once)
        last = before(since) if since else "0"
    cors = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in request.scope[CORS].items()]
    return LiveStream(shared, site.key, visitor, last, [*sse.HEADERS, *cors])


class LiveStream:
    """The ASGI response of one open stream."""

    __slots__ = ("shared", "site", "visitor", "last", "headers")

    def __init__(self, shared: Services, site: str, visitor: str, last: str, headers: list[tuple[bytes, bytes]]):
        self.shared, self.site, self.visitor, self.last, self.headers = shared, site, visitor, last, headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.headers})
        if scope["method"] != "HEAD":  # HEAD: the headers of GET, and no stream
            metrics.visitor_streams.inc()
            try:
                with self.shared.wakeups.listen(self.site, self.visitor) as listener:
                    watcher = asyncio.get_running_loop().create_task(until_gone(receive, listener))
                    try:
                        await self._deliver(send, listener)
                        if self.shared.wakeups.ended:
                            await send(_body(sse.goodbye()))
                    except StoreUnavailable as error:
                        self.shared.repeating.warning("site %s: stream ended: %s", self.site, error)
                    finally:
                        watcher.cancel()
            finally:
                metrics.visitor_streams.dec()
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _deliver(self, send: Send, listener: Listener) -> None:
        """Write what the feed holds after the last id, then wait: until the client leaves."""
        clock = asyncio.get_running_loop().time
        after, read, beat_at = self.last, True, clock() + HEARTBEAT
        while not listener.closed:
            if read:
                entries = await self.shared.store.read_feed(self.site, self.visitor, after=after, count=BATCH)
                if entries:
                    await send(_body(b"".join(_entry(*entry) for entry in entries)))
                    after, beat_at = entries[-1][0], clock() + HEARTBEAT
                if len(entries) == BATCH:
                    continue
                read_at = clock() + POLL
            woken = await listener.wait(min(beat_at, read_at) - clock())
            now = clock()
            read = "" in woken or now >= read_at
            typing = b"".join(_typing(payload) for payload in woken if payload)
            if typing:
                await send(_body(typing))
                beat_at = now + HEARTBEAT
            elif now >= beat_at:
                await send(_body(BEAT))
                beat_at = now + HEARTBEAT


@contextlib.contextmanager
def ended_by_exit_signals(wakeups: Wakeups) -> Iterator[None]:
    """While the app runs, SIGINT and SIGTERM end its streams first, then do what they did.

    uvicorn waits for open responses to finish before it stops, and a stream never finishes by
    itself: without this a server asked to stop would wait for every visitor to leave. Each
    stream ends with `sse.goodbye()`, so the browser reconnects, to another process, at once. The
    server's own handlers (uvicorn's, installed before the app starts) are chained, not replaced;
    only in the main thread, where signal handlers live."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    loop = asyncio.get_running_loop()
    previous = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}

    def ending(number, frame) -> None:
        loop.call_soon_threadsafe(wakeups.end)
        previous[number](number, frame)

    chained = [number for number, handler in previous.items() if callable(handler)]
    for number in chained:
        signal.signal(number, ending)
    try:
        yield
    finally:
        for number in chained:
            if signal.getsignal(number) is ending:
                signal.signal(number, previous[number])


async def until_gone(receive: Receive, listener: Listener) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    listener.close()


def _body(chunk: bytes) -> dict:
    return {"type": "http.response.body", "body": chunk, "more_body": True}


def _entry(entry_id: str, kind: str, data: bytes) -> bytes:
    body = with_id(entry_id, data) if kind == "message" else data
    return sse.event(body.decode(), kind, entry_id)


def _typing(payload: str) -> bytes:
    kind, _, rest = payload.partition("\t")
    who, _, name = rest.partition("\t")
    if kind != "typing" or who == "visitor":
        return b""
    return sse.event(json.dumps({"who": who, "name": name}), "typing")
