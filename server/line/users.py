"""A LINE user as a visitor of a site, and what Irasshai keeps about them.

A LINE user is a visitor with the id ``line-<first 32 hex of sha256(site + userId)>``: stable,
never a web visitor's token, and telling nobody the LINE user id. Their conversations live in
the same chat model as the widget's (feed, chat record, conversation index). What LINE says
about them is kept in their chat record (server/store, ``irs:{site:visitor}:chat``), in fields
that start with ``line_``, for the site's retention from the last write:

- ``line_user``: the LINE user id (to push replies to), ``line_name`` and ``line_named``: the
  display name from LINE's profile and the second it was read;
- ``line_follows``: ``1`` while they have the shop as a friend, ``0`` after they unfollowed
  (blocked it), with ``line_follow_at``, the second of the latest change;
- ``line_web``, ``line_customer``, ``line_linked``: the web visitor and the shop's customer id
  they were linked to with LINE's account-link flow, and when (server/line/link.py).

A web visitor linked to a LINE user has ``line_visitor``, the LINE visitor's id, in theirs.
"""

from __future__ import annotations

import hashlib

import msgspec

from server.store.base import Store

PREFIX = "line-"


def visitor_of(site_key: str, user_id: str) -> str:
    return PREFIX + hashlib.sha256(f"{site_key}\n{user_id}".encode()).hexdigest()[:32]


def is_line(visitor: str) -> bool:
    return visitor.startswith(PREFIX) and len(visitor) == len(PREFIX) + 32


class LineUser(msgspec.Struct, kw_only=True):
    visitor: str
    user_id: str = ""
    name: str = ""
    named: float = 0.0
    follows: str = ""  # "1" following, "0" unfollowed, "" not known (never followed through the webhook)
    follow_at: float = 0.0
    web: str = ""  # the web visitor linked to, if any
    customer: str = ""
    linked: float = 0.0


_FIELDS = {
    "user_id": "line_user",
    "name": "line_name",
    "named": "line_named",
    "follows": "line_follows",
    "follow_at": "line_follow_at",
    "web": "line_web",
    "customer": "line_customer",
    "linked": "line_linked",
}


def from_chat(visitor: str, chat: dict[str, str]) -> LineUser | None:
    """The LINE user recorded in a visitor's chat record; None when it holds none."""
    if not chat.get("line_user"):
        return None
    found = {name: chat.get(field, "") for name, field in _FIELDS.items()}
    for name in ("named", "follow_at", "linked"):
        found[name] = _number(found[name])
    return LineUser(visitor=visitor, **found)


async def read(store: Store, site_key: str, visitor: str) -> LineUser | None:
    return from_chat(visitor, await store.get_chat(site_key, visitor))


async def write(store: Store, site_key: str, visitor: str, ttl: int, **fields: str | float) -> None:
    """Set fields of the LINE user's record (names as LineUser's), kept `ttl` seconds from now."""
    await store.set_chat(site_key, visitor, {_FIELDS[name]: str(value) for name, value in fields.items()}, ttl)


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0
