"""The webhook events of one batch on the event path (server/ingest.py): what the widget's feedback
reported, which coupon codes were handed out for the first time, and which decisions a goal
event converted for the first time. Pure, but for :class:`NewCodes`
wrapping the batch's coupons."""

from __future__ import annotations

from server.coupons.coupon import Coupon
from server.coupons.pools import CouponPool
from server.events import Feedback
from server.insights.conversions import Conversion
from server.sites import Site
from server.visitor import Engagement, VisitorState
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
    feedback: list[tuple[Feedback, Engagement]],
    issued: list[tuple[str, Coupon]],
    conversions: list[Conversion],
    rule_of_pool: dict[str, str],
    now: float,
) -> list[tuple[str, dict, float | None]]:
    """(type, data, when it happened) of engagement.shown|clicked|dismissed for the batch's new
    feedback that counts, coupon.claimed for each code handed out new (`rule_of_pool`: the
    rule shown with a pool's code), and goal.converted for each decision converted now for the
    first time (shown or held out: the receiver sees both groups)."""
    who = {"customer": state.customer, "verified": state.verified}
    found: list[tuple[str, dict, float | None]] = []
    for event, _ in feedback:
        type = events.FEEDBACK_EVENTS.get(event.action)
        if type is not None:
            at = min(event.ts / 1000, now)  # a client's clock may run ahead
            found.append((type, events.engagement(site.key, visitor, event.rule, **who), at))
    for pool, coupon in issued:
        data = events.coupon_claimed(
            site.key, visitor, rule_of_pool.get(pool, ""), pool, coupon.code, coupon.expires_at, **who
        )
        found.append((events.COUPON_CLAIMED, data, now))
    for conversion in conversions:
        if conversion.first:
            decision = conversion.engagement
            data = events.goal_converted(
                site.key,
                visitor,
                conversion.goal,
                decision.rule,
                conversion.value,
                decision.held_out,
                decision.ts,
                **who,
            )
            found.append((events.GOAL_CONVERTED, data, now))
    return found
