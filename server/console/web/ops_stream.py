"""GET /console/sites/{site}/stream: the operators' live channel, as Server-Sent Events.

Signed in (session cookie) and on the site (``require_site``). Each event is an entry of the
site's operators' feed (``store.read_ops``: ``conversation``, ``status``, ``message``, ``read``,
``seen``, ``assigned``), its entry id the event id, so a reconnect with ``Last-Event-ID`` (or
``?last=``) resumes right after the last one delivered. Without one, the stream starts at the
feed's end. Either way, once caught up it sends ``ready`` (with the feed's position as its id):
the page (re)loads the conversation list then, so nothing falls between the list and the feed.
Typing is ephemeral and has no id. A comment line ``: hb`` every HEARTBEAT seconds.

While open it keeps the operator online (``Presence.touch`` every TOUCH_EVERY seconds; away
when the page says so with ``?away=1`` or the away switch says so meanwhile) and ``leave``s when
it closes; and it runs ``ChatService.rebalance`` whenever it reads the feed, as the assignment
module asks (rebalance throttles itself per site and process).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator

from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response

from server.chat.service import ENTRY_ID, OPERATORS
from server.console.auth import require_site, signed_in
from server.store.base import StoreUnavailable
from server.web.errors import Refusal
from server.web.services import services

HEARTBEAT = 15.0  # seconds between comment lines on a quiet stream
TOUCH_EVERY = 15.0  # seconds between presence touches (presence.ONLINE_FOR is 45)
POLL = 20.0  # seconds between reads of the feed without a wake-up
BATCH = 200  # entries read at a time


async def get_stream(request: Request) -> Response:
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
    if last and not ENTRY_ID.match(last):
        raise Refusal(f"last event id '{last[:40]}' is not an event id such as 1733300000000-0", 400)
    away = request.query_params.get("away") == "1"
    email = operator.email

    async def leave() -> None:
        with contextlib.suppress(StoreUnavailable):  # a store down: the entry expires on its own
            await shared.presence.leave(site.key, email)

    async def events() -> AsyncIterator[ServerSentEvent]:
        nonlocal away
        after = last or "0"
        if not last:  # from the feed's end: the page loads the list on `ready`
            while len(entries := await shared.store.read_ops(site.key, after=after, count=BATCH * 10)):
                after = entries[-1][0]
        ready = False
        touched = -TOUCH_EVERY
        with shared.wakeups.listen(site.key, OPERATORS) as inbox:
            try:
                while True:
                    if time.monotonic() - touched >= TOUCH_EVERY:
                        await shared.presence.touch(site.key, email, away=away)
                        touched = time.monotonic()
                    await shared.chat.rebalance(site)
                    entries = await shared.store.read_ops(site.key, after=after, count=BATCH)
                    for entry_id, kind, data in entries:
                        yield ServerSentEvent(data.decode(), event=kind, id=entry_id)
                        after = entry_id
                    if len(entries) == BATCH:
                        continue
                    if not ready:
                        ready = True
                        yield ServerSentEvent(json.dumps({"me": email, "away": away}), event="ready", id=after)
                    wait = max(0.0, min(POLL, TOUCH_EVERY - (time.monotonic() - touched)))
                    try:
                        payload = await asyncio.wait_for(inbox.get(), wait)
                    except TimeoutError:
                        continue
                    kind, _, rest = payload.partition("\t")
                    if kind == "typing":
                        who, name, visitor = (rest.split("\t") + ["", "", ""])[:3]
                        yield ServerSentEvent(
                            json.dumps({"who": who, "name": name, "visitor": visitor}), event="typing"
                        )
                    elif kind == "away":
                        whose, _, flag = rest.partition("\t")
                        if whose == email and away != (flag == "1"):
                            away = flag == "1"
                            touched = -TOUCH_EVERY  # touch now, with the new state
                            yield ServerSentEvent(json.dumps({"away": away}), event="away")
            except StoreUnavailable as error:
                shared.repeating.warning("site %s: console stream ended: %s", site.key, error)

    return EventSourceResponse(
        events(),
        ping=HEARTBEAT,
        ping_message_factory=lambda: ServerSentEvent(comment="hb"),
        headers={"cache-control": "no-store"},
        # After the stream, however it ended (its generator may be left suspended, never finalized).
        background=BackgroundTask(leave),
    )
