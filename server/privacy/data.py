"""One visitor's data, or one verified customer's, exported and deleted (docs/privacy.md).

Export reads everything the store keeps about a visitor: their state (decoded, every part by
name), their chat record, their live channel's feed (messages included), their conversations'
records and their coupon codes; a LINE user linked to them is exported with them. Deletion asks
the store to forget all of it (server/store/base.py, ``forget_visitor``): a coupon code they had
stays given out, with no owner, so it is never handed out or redeemed twice.

A customer is every visitor a verified ``identify`` proved to be them (the store's customer
index): an unverified identify claims nothing, so nobody can export or delete another's data by
naming their customer id from a page.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

from server.line.users import is_line
from server.ratelimits import MINUTE
from server.sites import Site
from server.store.base import Store
from server.visitor import decode

FEED_PAGE = 200


def _named(value: Any) -> Any:
    """Builtins for JSON, with every struct (array-like ones too) as an object of its fields by name."""
    if isinstance(value, msgspec.Struct):
        return {name: _named(getattr(value, name)) for name in value.__struct_fields__}
    if isinstance(value, dict):
        return {str(key): _named(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_named(item) for item in value]
    return value


def _json_or_text(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return data.decode(errors="replace")


def _customer_of(blob: bytes | None) -> str:
    try:
        return decode(blob).customer
    except msgspec.DecodeError:
        return ""


class VisitorData:
    def __init__(self, store: Store):
        self.store = store

    async def export_visitor(self, site: Site, visitor_id: str) -> dict:
        """Everything kept about the visitor (empty parts when nothing is)."""
        store, key = self.store, site.key
        blob, _ = await store.load_visitor(key, visitor_id)
        try:
            state = _named(decode(blob)) if blob is not None else None
        except msgspec.DecodeError:
            state = {"unreadable": True}
        chat = await store.get_chat(key, visitor_id)
        feed, after = [], "0"
        while True:
            page = await store.read_feed(key, visitor_id, after, FEED_PAGE)
            feed += [{"id": entry, "type": kind, "data": _json_or_text(data)} for entry, kind, data in page]
            if len(page) < FEED_PAGE:
                break
            after = page[-1][0]
        conversation_ids = await store.visitor_conversations(key, visitor_id)
        records = await store.load_conversations(key, conversation_ids)
        coupons = {}
        for pool in site.coupons:
            found = await store.visitor_code(key, pool, visitor_id)
            if found is not None:
                code, _, expires = found[0].rpartition("|")
                coupons[pool] = {"code": code, "expires_at": int(expires or 0), "redeemed_at": found[1] or None}
        exported = {
            "visitor": visitor_id,
            "state": state,
            "chat": chat,
            "feed": feed,
            "conversations": [_json_or_text(record) for record in records if record is not None],
            "coupons": coupons,
        }
        linked = chat.get("line_visitor", "")
        if is_line(linked):
            exported["line"] = await self.export_visitor(site, linked)
        return exported

    async def forget_visitor(self, site: Site, visitor_id: str) -> list[str]:
        """Delete everything kept about the visitor, and about a LINE user linked to them; the
        visitor ids forgotten."""
        forgotten = [visitor_id]
        linked = (await self.store.get_chat(site.key, visitor_id)).get("line_visitor", "")
        if is_line(linked):
            forgotten.append(linked)
        for visitor in forgotten:
            blob, _ = await self.store.load_visitor(site.key, visitor)
            customer = _customer_of(blob)
            if customer:
                await self.store.unlink_customer(site.key, customer, visitor)
            await self.store.webhooks.forget(site.key, visitor)
            await self.store.line_pushes.forget(site.key, visitor)
            await self.store.forget_visitor(site.key, visitor, list(site.coupons), {f"chat:{visitor}": (MINUTE,)})
        return forgotten

    async def export_customer(self, site: Site, customer: str) -> dict:
        visitors = await self.store.customer_visitors(site.key, customer)
        return {"customer": customer, "visitors": [await self.export_visitor(site, v) for v in visitors]}

    async def forget_customer(self, site: Site, customer: str) -> list[str]:
        """Delete every visitor the customer was verified as, then the index; the visitor ids forgotten."""
        forgotten = []
        for visitor in await self.store.customer_visitors(site.key, customer):
            forgotten += await self.forget_visitor(site, visitor)
        await self.store.forget_customer(site.key, customer)
        return forgotten
