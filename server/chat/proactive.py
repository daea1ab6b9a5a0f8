"""Proactive messages: an operator writes first to a live visitor, shown as a chat prompt.

The prompt is an ``engagement`` entry on the visitor's feed, shaped like an events reply's
``show`` for a chat prompt (rule ``proactive``), so the widget's stream hands it to ui.js as it
would a rule's. It is also claimed in the visitor's state like a rule's engagement, with the
store's compare-and-set and a retry: the gap (site.yaml ``engagement_gap``) and "one at a time"
then hold both ways, and two operators writing at the same instant cannot both be shown.

The chat hash remembers the newest prompt (``prompt``: its feed entry id, ``prompt_by``: who
sent it) so that a stream opened on the next page starts at it (server/web/stream.py) and the
conversation the visitor's reply opens is assigned to that operator (ChatService._start).

Delivery: a visitor with no conversation has no stream of their own; while an operator of the
site is online, events replies say ``"listen": true`` and the widget keeps a stream open for
prompts (docs/chat.md, "Proactive messages"). :class:`Listening` answers that per batch from a
per-process cache, so the event path pays one presence read per site every LISTEN_CACHE seconds.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from typing import Any

import msgspec

from server.chat.model import ChatError, clean_text
from server.sites import Site
from server.store.base import Store
from server.visitor import MAX_ENGAGEMENTS, Engagement, decode, encode

RULE = "proactive"  # the rule id of every proactive prompt, in the state, the stats and the conversation
LIVE_FOR = 300  # seconds since their last event for a visitor to be live (as server/console/visitors.py)
FRESH_FOR = 600  # seconds a prompt is still shown on the visitor's next page
LISTEN_CACHE = 15.0  # seconds an answer of Listening is kept per site in one process
TRIES = 5  # compare-and-set attempts before giving up
BUTTON = {"ja": "返信する", "en": "Reply"}
_json = msgspec.json.Encoder()


async def send(chat: Any, site: Site, visitor: str, operator_name: str, text: str, assignee: str = "") -> dict:
    """Show `text` to `visitor` as a prompt from `operator_name`; the `show` it was sent as.

    `chat` is the ChatService (server/chat/service.py, whose ``proactive`` calls this).

    ChatError 400 for empty or too long text or no name, 404 for an unknown visitor, 409 when the
    visitor is not live, has a conversation in progress, or was engaged within the site's gap."""
    text = clean_text(text)
    name = " ".join(operator_name.split())[:64]
    if not name:
        raise ChatError("author is required: the operator's name the visitor sees")
    if await chat.current(site, visitor) is not None:
        raise ChatError("the visitor has a conversation in progress; write to them there", 409)
    for attempt in range(TRIES):
        now = chat.clock()
        blob, version = await chat.store.load_visitor(site.key, visitor)
        if blob is None:
            raise ChatError(f"no visitor '{visitor[:64]}' on site '{site.key}'", 404)
        try:
            state = decode(blob)
        except msgspec.DecodeError:
            raise ChatError(f"visitor '{visitor[:64]}' was stored by an incompatible version", 409) from None
        if now - state.last_seen > LIVE_FOR:
            raise ChatError(f"visitor '{visitor[:64]}' is not on the shop now (no event for {LIVE_FOR // 60} min)", 409)
        if state.engagements and now - state.engagements[-1].ts < site.engagement_gap:
            since = int(now - state.engagements[-1].ts)
            raise ChatError(
                f"the visitor was engaged {since} s ago (rule '{state.engagements[-1].rule}'); "
                f"the site's engagement_gap is {site.engagement_gap} s",
                409,
            )
        state.engagements.append(Engagement(int(now), RULE, state.sessions))
        del state.engagements[:-MAX_ENGAGEMENTS]
        if await chat.store.save_visitor(site.key, visitor, encode(state), version, site.retention):
            break
        await asyncio.sleep(random.uniform(0, 0.01 * 2**attempt))
    else:
        raise ChatError("the visitor's state kept changing; retry", 409)
    show = {
        "type": "chat",
        "text": text,
        "agent": {"name": name},
        "button": {"label": BUTTON.get(site.language, BUTTON["en"])},
        "rule": RULE,
        "lang": site.language,
        "placement": site.placement,
    }
    entry_id, _ = await chat.store.add_feed(site.key, visitor, "engagement", _json.encode(show), site.retention)
    await chat.store.set_chat(
        site.key, visitor, {"prompt": entry_id, "prompt_by": (assignee or name)[:64]}, site.retention
    )
    await chat.store.publish(site.key, visitor)
    return {**show, "id": entry_id}


def fresh(prompt: str, now: float) -> bool:
    """Whether a prompt (its feed entry id) is recent enough to show on the visitor's next page."""
    return bool(prompt) and now * 1000 - int(prompt.partition("-")[0]) < FRESH_FOR * 1000


def newer(entry_id: str, other: str) -> bool:
    """Whether feed entry `entry_id` comes after `other` (any entry comes after "")."""
    return not other or tuple(map(int, entry_id.split("-"))) > tuple(map(int, other.split("-")))


class Listening:
    """Whether the widget should keep a stream open for prompts: an operator of the site is online."""

    def __init__(self, store: Store, clock: Callable[[], float] = time.time):
        self.store = store
        self.clock = clock
        self._known: dict[str, tuple[float, bool]] = {}  # site -> (when read, anyone online)

    async def __call__(self, site: str) -> bool:
        now = self.clock()
        read_at, online = self._known.get(site, (-LISTEN_CACHE, False))
        if now - read_at < LISTEN_CACHE:
            return online
        online = any(until > now for until in (await self.store.read_presence(site)).values())
        self._known[site] = (now, online)
        return online
