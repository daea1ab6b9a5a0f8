"""The webhook events of one batch on the event path (server/ingest.py): what the widget's feedback
reported and which coupon codes were handed out for the first time. Pure, but for :class:`NewCodes`
wrapping the batch's coupons."""

from __future__ import annotations

from server.coupons.coupon import Coupon
from server.coupons.pools import CouponPool
from server.events import Feedback
from server.sites import Site
from server.visitor import VisitorState
from server.webhooks import events


class NewCodes:
    """The batch's coupons (server.engage.Coupons), noting each code handed to the visitor just now."""

    def __init__(self, coupons):
        self.coupons = coupons
        self.issued: list[tuple[str, Coupon]] = []  # (pool name, coupon), in the order handed out

    async def code_for(self, site: Site, pool: CouponPool, visitor_id: str, now: float) -> Coupon | None:
        coupon = await self.coupons.code_for(site, pool, visitor_id, now)
        if coupon is not None and coupon.new:
            self.issued.append((pool.name, coupon))
        return coupon


def visit_events(
    site: Site,
    visitor: str,
    state: VisitorState,
    feedback: list[Feedback],
    issued: list[tuple[str, Coupon]],
    rule_of_pool: dict[str, str],
    now: float,
) -> list[tuple[str, dict, float | None]]:
    """(type, data, when it happened) of engagement.shown|clicked|dismissed for the batch's new
    feedback that counts, and coupon.claimed for each code handed out new (`rule_of_pool`: the
    rule shown with a pool's code)."""
    who = {"customer": state.customer, "verified": state.verified}
    found: list[tuple[str, dict, float | None]] = []
    for event in feedback:
        type = events.FEEDBACK_EVENTS.get(event.action)
        if type is not None:
            at = min(event.ts / 1000, now)  # a client's clock may run ahead
            found.append((type, events.engagement(site.key, visitor, event.rule, **who), at))
    for pool, coupon in issued:
        data = events.coupon_claimed(
            site.key, visitor, rule_of_pool.get(pool, ""), pool, coupon.code, coupon.expires_at, **who
        )
        found.append((events.COUPON_CLAIMED, data, now))
    return found
