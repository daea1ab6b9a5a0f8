"""GET /v1/sites/{site}/stream?ticket=…: the visitor's live channel, as Server-Sent Events.

Checked like events (site, then origin), then the ticket (401 when bad or expired). Each event
is a feed entry, with the entry's id as the event id, so a reconnect with ``Last-Event-ID`` (or
``?last=``) resumes right after the last one delivered: none lost, none twice, in order.
Without one, the stream starts with the current conversation (its opening status, then every
entry since), or with the visitor's newest proactive prompt when it is newer and recent. Typing is ephemeral and has no id. A comment line ``: hb`` every HEARTBEAT seconds
keeps proxies from closing a quiet stream.

The stream reads the feed when woken (server/chat/wakeups.py) and every POLL seconds anyway:
a wake-up is a hint, the feed is the truth. If the store fails mid-stream, the stream ends and
the browser's EventSource reconnects with the last id it got.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator

from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.requests import Request
from starlette.responses import Response

from server.chat.proactive import fresh, newer
from server.chat.service import ENTRY_ID, before, with_id
from server.store.base import StoreUnavailable
from server.web.errors import CORS, Refusal
from server.web.origins import allowed_site
from server.web.services import services

log = logging.getLogger("irasshai.web")
HEARTBEAT = 15.0  # seconds between comment lines on a quiet stream
POLL = 20.0  # seconds between reads of the feed without a wake-up
BATCH = 200  # entries read at a time


async def get_stream(request: Request) -> Response:
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

    async def events() -> AsyncIterator[ServerSentEvent]:
        after = last
        with shared.wakeups.listen(site.key, visitor) as inbox:
            try:
                while True:
                    entries = await shared.store.read_feed(site.key, visitor, after=after, count=BATCH)
                    for entry_id, kind, data in entries:
                        body = with_id(entry_id, data) if kind == "message" else data
                        yield ServerSentEvent(body.decode(), event=kind, id=entry_id)
                        after = entry_id
                    if len(entries) == BATCH:
                        continue
                    try:
                        payload = await asyncio.wait_for(inbox.get(), POLL)
                    except TimeoutError:
                        continue
                    kind, _, rest = payload.partition("\t")
                    who, _, name = rest.partition("\t")
                    if kind == "typing" and who != "visitor":
                        yield ServerSentEvent(json.dumps({"who": who, "name": name}), event="typing")
            except StoreUnavailable as error:
                shared.repeating.warning("site %s: stream ended: %s", site.key, error)

    return EventSourceResponse(
        events(),
        ping=HEARTBEAT,
        ping_message_factory=lambda: ServerSentEvent(comment="hb"),
        headers={**request.scope[CORS], "cache-control": "no-store"},
    )
