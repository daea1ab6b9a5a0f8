"""One visitor as an operator sees them beside a conversation: the console's visitor panel.

Built from what Irasshai already keeps, read only: the visitor's state (server/visitor.py:
identity, pages and when, sessions with landing, referrer and UTM, device, language, the
shop's attributes, the engagements decided for them, shown or held out), the codes they got from the site's
coupon pools, and their conversations (``<visitor>.1`` … ``<visitor>.n``). Lists are cut to
the newest few so the panel stays small whatever the visitor did.

A LINE user (server/line/users.py) has no state of their own: their panel is what LINE told
(display name, following or not) and, once LINE's account-link flow linked them to a web
visitor, that web visitor's panel with the LINE user's conversations. A linked web visitor's
panel names their LINE user.
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec

from server.chat.model import Conversation, conversation_id
from server.console.visitors import LIVE_FOR
from server.line import users
from server.sites import Site
from server.store.base import Store
from server.tracking import FEEDBACK_BITS
from server.visitor import decode

PAGES = 20  # most recently viewed paths shown
SESSIONS = 10
ENGAGEMENTS = 20
CONVERSATIONS = 20


class PageSeen(msgspec.Struct):
    path: str
    title: str
    views: int
    last: int  # second of the latest view


class SessionSeen(msgspec.Struct):
    number: int
    start: int
    last: int
    landing: str
    referrer: str
    utm: dict[str, str]
    pages: int


class EngagementSeen(msgspec.Struct):
    rule: str
    ts: int
    held_out: bool  # decided but NOT shown: the visitor is in the rule's control group (docs/insights.md)
    clicked: bool
    dismissed: bool
    converted: bool  # the rule's goal followed within its window


class CouponSeen(msgspec.Struct):
    pool: str
    code: str
    expires_at: int  # 0: never
    redeemed: int  # second it was redeemed; 0: not yet


class ConversationSeen(msgspec.Struct):
    id: str
    status: str
    started: float
    activity: float
    assignee: str


class LineSeen(msgspec.Struct):
    visitor: str  # the LINE user's visitor id
    name: str  # their display name on LINE ("" until LINE's profile was read)
    follows: str  # "1" following, "0" blocked (unfollowed), "" not known
    follow_at: float
    web: str  # the web visitor linked with LINE's account-link flow, if any
    customer: str
    linked: float


class Profile(msgspec.Struct):
    visitor: str
    customer: str  # the shop's customer id, from identify
    verified: bool  # whether the shop's server proved `customer`
    online: bool  # an event within LIVE_FOR seconds
    last_seen: int
    first_seen: int
    page: str  # the latest page view's path, and its title
    title: str
    device: str
    language: str
    sessions: int  # how many sessions in all (the list below keeps the newest)
    cart_value: Any
    attributes: dict[str, Any]
    pages: list[PageSeen]
    session_log: list[SessionSeen]
    engagements: list[EngagementSeen]
    coupons: list[CouponSeen]
    conversations: list[ConversationSeen]
    line: LineSeen | None = None  # the LINE user this visitor is, or is linked to


async def profile(store: Store, site: Site, visitor_id: str, now: float) -> Profile | None:
    """The visitor's panel; None when the site has no such visitor (or their state is unreadable)."""
    chat = await store.get_chat(site.key, visitor_id)
    line_user = users.from_chat(visitor_id, chat)
    if line_user is not None:
        return await _line_profile(store, site, line_user, now)
    found = await _web_profile(store, site, visitor_id, now)
    linked = await users.read(store, site.key, chat["line_visitor"]) if chat.get("line_visitor") else None
    if found is not None and linked is not None:
        found.line = _line_seen(linked)
    return found


async def _line_profile(store: Store, site: Site, user: users.LineUser, now: float) -> Profile:
    found = await _web_profile(store, site, user.web, now) if user.web else None
    if found is None:
        found = Profile(user.visitor, "", False, False, 0, 0, "", "", "", "", 0, None, {}, [], [], [], [], [])
    found.visitor = user.visitor
    found.conversations = await _conversations(store, site, user.visitor)
    found.line = _line_seen(user)
    if user.customer:  # proven by the shop's link page (server/line/link.py)
        found.customer, found.verified = user.customer, True
    return found


def _line_seen(user: users.LineUser) -> LineSeen:
    return LineSeen(user.visitor, user.name, user.follows, user.follow_at, user.web, user.customer, user.linked)


async def _web_profile(store: Store, site: Site, visitor_id: str, now: float) -> Profile | None:
    blob, _ = await store.load_visitor(site.key, visitor_id)
    if blob is None:
        return None
    try:
        state = decode(blob)
    except msgspec.DecodeError:
        return None
    coupons, conversations = await asyncio.gather(
        _coupons(store, site, visitor_id), _conversations(store, site, visitor_id)
    )
    pages = sorted(
        (
            PageSeen(path, views.title, views.total, views.recent[-1] if views.recent else 0)
            for path, views in state.page_views.items()
        ),
        key=lambda page: page.last,
        reverse=True,
    )
    return Profile(
        visitor=visitor_id,
        customer=state.customer,
        verified=state.verified and bool(state.customer),
        online=now - state.last_seen <= LIVE_FOR,
        last_seen=state.last_seen,
        first_seen=state.first_seen,
        page=pages[0].path if pages else "",
        title=pages[0].title if pages else "",
        device=state.device,
        language=state.language,
        sessions=state.sessions,
        cart_value=state.attributes.get("cart_value"),
        attributes=dict(state.attributes),
        pages=pages[:PAGES],
        session_log=[_session(record) for record in reversed(state.session_log[-SESSIONS:])],
        engagements=[_engagement(e) for e in reversed(state.engagements[-ENGAGEMENTS:])],
        coupons=coupons,
        conversations=conversations,
    )


def _session(record) -> SessionSeen:
    return SessionSeen(
        record.number, record.start, record.last, record.landing, record.referrer, dict(record.utm), len(record.paths)
    )


def _engagement(engagement) -> EngagementSeen:
    return EngagementSeen(
        engagement.rule,
        engagement.ts,
        engagement.held_out,
        bool(engagement.feedback & FEEDBACK_BITS["clicked"]),
        engagement.dismissed or bool(engagement.feedback & FEEDBACK_BITS["dismissed"]),
        engagement.converted,
    )


async def _coupons(store: Store, site: Site, visitor_id: str) -> list[CouponSeen]:
    names = sorted(site.coupons)
    found = await asyncio.gather(*(store.visitor_code(site.key, name, visitor_id) for name in names))
    coupons = []
    for name, held in zip(names, found, strict=True):
        if held is not None:
            code, _, expires_at = held[0].partition("|")
            coupons.append(CouponSeen(name, code, int(expires_at or 0), held[1]))
    return coupons


async def _conversations(store: Store, site: Site, visitor_id: str) -> list[ConversationSeen]:
    count = int((await store.get_chat(site.key, visitor_id)).get("n", "0") or 0)
    ids = [conversation_id(visitor_id, number) for number in range(count, max(0, count - CONVERSATIONS), -1)]
    records = await store.load_conversations(site.key, ids) if ids else []
    seen = []
    for record in records:
        if not record:
            continue  # past the site's retention
        try:
            c = msgspec.json.decode(record, type=Conversation)
        except msgspec.DecodeError:
            continue
        seen.append(ConversationSeen(c.id, c.status, c.started, c.activity, c.assignee))
    return seen
