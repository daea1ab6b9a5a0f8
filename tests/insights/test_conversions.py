"""Conversions and the counters they feed, through the real event path (server/ingest.py) on both stores.

A goal event converts the most recent decision of each rule whose goal it is, shown or held
out, made within the goal's window before it: counted `converted` (or `converted_held_out`)
once per decision, its value added to `value` and the sum of squares per decision to
`value_sq` (or their `_held_out` twins), on the DAY OF THE DECISION, with the decision's page
and hour and the visitor's device as breakdowns. A held-out visitor is decided (and counted
`decided` and `held_out`) but shown nothing and given no coupon code; the limit is claimed as
if shown; the widget's feedback about a held-out decision never counts. A retried batch
counts nothing twice. All of a batch's counts are written in one add_counts call.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime

import pytest

from server.config import load_config
from server.events import decode_batch
from server.identity import VisitorIds
from server.ingest import Ingest, Reply
from server.insights.holdout import held_out
from server.store.memory import MemoryStore
from server.store.redis import RedisStore
from server.tracking import RequestFacts
from tests.helpers import SECRET, SHOP, batch, event_id, page_view, track, write_site

pytestmark = pytest.mark.anyio

TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=TOKYO).timestamp()
DAY = "2026-11-22"
HOUR, DAYS = 3600, 86400
SITE = f"""\
origins: [{SHOP}]
timezone: Asia/Tokyo
goals:
  purchase: {{event: purchase, value: total, within: 7d}}
  signup: {{event: signup, within: 1d}}
coupons:
  cart10: {{generate: {{prefix: CART-, length: 8}}, discount: 10%オフ}}
"""
RULES = """\
rules:
  - id: pricing-help
    when: {page: /pricing}
    show: {chat: お手伝いしましょうか？}
    limit: {per_visitor: 3}
  - id: cart-coupon
    when: {page: /cart}
    show: {coupon: {pool: cart10, title: 今なら10%オフ}}
    holdout: 50%
  - id: newsletter
    when: {page: /blog/*}
    show: {message: {title: ニュースレター}}
    goal: signup
"""


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


class Shop:
    """One site's event path on a store, with a clock the test moves."""

    def __init__(self, store, clock: Clock, config):
        self.store, self.clock = store, clock
        self.site, self.rules = config.sites["shop"], config.rules["shop"]
        self.ids = VisitorIds(SECRET)
        self.ingest = Ingest(store, self.ids, 1800, clock=clock)
        self.adds: list[dict] = []  # every add_counts call, to count round trips
        add_counts = store.add_counts

        async def counting(site, counts):
            self.adds.append(dict(counts))
            await add_counts(site, counts)

        store.add_counts = counting

    def visitor(self, rule: str, control: bool) -> str:
        """A visitor id that is (or is not) in `rule`'s control group."""
        share = self.rules.by_id[rule].holdout or 0.0
        return next(f"v{n}" for n in range(1000) if held_out("shop", rule, f"v{n}", share) == control)

    async def send(self, visitor: str, *events: dict, device: str = "mobile") -> Reply:
        return await self.send_body(batch(*events, visitor=self.ids.sign("shop", visitor)), device)

    async def send_body(self, body: bytes, device: str = "mobile") -> Reply:
        parsed, events = decode_batch(body)
        return await self.ingest.handle(self.site, self.rules, parsed, events, RequestFacts(device=device))

    async def counts(self, day: str = DAY) -> dict:
        return (await self.store.read_counts("shop", [day]))[day]

    async def state(self, visitor: str):
        return await self.ingest.profile(self.site, visitor)


@pytest.fixture(params=["memory", "redis"])
async def shop(request, tmp_path):
    write_site(tmp_path, "shop", SITE, **{"rules.yaml": RULES})
    config, problems = load_config(tmp_path)
    assert config is not None, problems.lines()
    clock = Clock()
    store = MemoryStore(clock=clock) if request.param == "memory" else RedisStore(request.getfixturevalue("redis_url"))
    made = Shop(store, clock, config)
    await made.ingest.coupons.seed(config.sites)
    yield made
    await store.close()


def purchase(total, ts: float, **more) -> dict:
    return track("purchase", {"total": total, **more}, ts=ts)


async def test_a_purchase_within_the_window_converts_for_the_rule_that_was_shown(shop):
    reply = await shop.send("v1", page_view("/pricing", ts=NOW))
    assert reply.show["rule"] == "pricing-help"
    shop.clock.now = NOW + 6 * DAYS  # six days later, the next week: still the decision's day that counts
    await shop.send("v1", purchase(1200, ts=shop.clock.now))
    await shop.send("v1", purchase(800.5, ts=shop.clock.now))
    assert await shop.counts() == {
        "pricing-help": {
            **breakdowns("decided", 1, "mobile", 12, "/pricing"),
            **breakdowns("converted", 1, "mobile", 12, "/pricing"),
            **breakdowns("value", 2000.5, "mobile", 12, "/pricing"),
            "value_sq": 2000.5**2,  # the square of the decision's whole value, not a sum of squares of orders
        }
    }
    assert await shop.counts("2026-11-28") == {}
    (engagement,) = (await shop.state("v1")).engagements
    assert (engagement.converted, engagement.value, engagement.held_out) == (True, 2000.5, False)


def breakdowns(counter: str, amount, device: str, hour: int, page: str) -> dict:
    return {
        counter: amount,
        f"{counter}@device={device}": amount,
        f"{counter}@hour={hour}": amount,
        f"{counter}@page={page}": amount,
    }


async def test_a_purchase_outside_the_window_or_before_the_decision_does_not_convert(shop):
    await shop.send("v1", purchase(500, ts=NOW - 60))  # before anything was decided
    await shop.send("v1", page_view("/pricing", ts=NOW))
    shop.clock.now = NOW + 7 * DAYS + 1  # one second past the 7-day window
    await shop.send("v1", purchase(1200, ts=shop.clock.now))
    assert set((await shop.counts())["pricing-help"]) == set(breakdowns("decided", 1, "mobile", 12, "/pricing"))
    assert not (await shop.state("v1")).engagements[0].converted


async def test_the_most_recent_decision_in_the_window_is_the_one_that_converts(shop):
    await shop.send("v1", page_view("/pricing", ts=NOW))
    shop.clock.now = NOW + 1 * DAYS
    await shop.send("v1", page_view("/pricing", ts=shop.clock.now))  # a new session: decided again
    await shop.send("v1", purchase(3000, ts=shop.clock.now + 5))
    assert "converted" not in (await shop.counts())["pricing-help"]
    assert (await shop.counts("2026-11-23"))["pricing-help"]["converted"] == 1
    first, second = (await shop.state("v1")).engagements
    assert (first.converted, second.converted, second.value) == (False, True, 3000)


async def test_a_held_out_visitors_purchase_counts_for_the_held_out_group(shop):
    visitor = shop.visitor("cart-coupon", control=True)
    reply = await shop.send(visitor, page_view("/cart", ts=NOW))
    assert reply.show is None  # nothing shown
    assert await shop.store.visitor_code("shop", "cart10", visitor) is None  # and no code taken
    shop.clock.now = NOW + 2 * HOUR
    await shop.send(visitor, purchase(4800, ts=shop.clock.now))
    counts = (await shop.counts())["cart-coupon"]
    assert {name: n for name, n in counts.items() if "@" not in name} == {
        "decided": 1,
        "held_out": 1,
        "converted_held_out": 1,
        "value_held_out": 4800,
        "value_sq_held_out": 4800**2,
    }
    assert counts["held_out@page=/cart"] == counts["converted_held_out@hour=12"] == 1
    assert counts["value_held_out@device=mobile"] == 4800
    (engagement,) = (await shop.state(visitor)).engagements
    assert (engagement.held_out, engagement.converted, engagement.page) == (True, True, "/cart")


async def test_a_visitor_not_held_out_gets_the_coupon_and_counts_for_the_treatment_group(shop):
    visitor = shop.visitor("cart-coupon", control=False)
    reply = await shop.send(visitor, page_view("/cart", ts=NOW))
    assert reply.show["rule"] == "cart-coupon" and reply.show["code"].startswith("CART-")
    assert (await shop.store.visitor_code("shop", "cart10", visitor))[0].startswith(reply.show["code"])
    await shop.send(visitor, purchase(4800, ts=NOW + 60))
    counts = (await shop.counts())["cart-coupon"]
    assert (counts["decided"], counts["converted"], counts["value"]) == (1, 1, 4800)
    assert "held_out" not in counts and "converted_held_out" not in counts


async def test_a_held_out_decision_claims_its_limit_and_the_gap_as_if_shown(shop):
    visitor = shop.visitor("cart-coupon", control=True)
    await shop.send(visitor, page_view("/cart", ts=NOW))
    shop.clock.now = NOW + 30
    # Within the engagement gap (60 s): no other rule is decided either.
    assert (await shop.send(visitor, page_view("/pricing", ts=shop.clock.now))).show is None
    shop.clock.now = NOW + 600
    await shop.send(visitor, page_view("/cart", ts=shop.clock.now))  # once per session, as for a shown one
    assert (await shop.counts())["cart-coupon"]["decided"] == 1
    assert "pricing-help" not in await shop.counts()
    shop.clock.now = NOW + 660
    assert (await shop.send(visitor, page_view("/pricing", ts=shop.clock.now))).show["rule"] == "pricing-help"


async def test_feedback_about_a_held_out_decision_never_counts(shop):
    visitor = shop.visitor("cart-coupon", control=True)
    await shop.send(visitor, page_view("/cart", ts=NOW))
    feedback = [
        {"type": "feedback", "id": event_id(), "ts": int(NOW * 1000) + 5, "rule": "cart-coupon", "action": action}
        for action in ("shown", "clicked", "copied", "dismissed")
    ]
    await shop.send(visitor, *feedback)
    counts = (await shop.counts())["cart-coupon"]
    assert not {"shown", "clicked", "copied", "dismissed"} & set(counts)
    assert not (await shop.state(visitor)).engagements[0].dismissed


async def test_feedback_counts_with_the_decisions_page_and_hour(shop):
    await shop.send("v1", page_view("/pricing", ts=NOW))
    shop.clock.now = NOW + 2 * HOUR  # the visitor clicks two hours later, on another device
    click = {"type": "feedback", "id": event_id(), "ts": int(shop.clock.now * 1000), "rule": "pricing-help"}
    await shop.send("v1", {**click, "action": "clicked"}, device="desktop")
    counts = (await shop.counts())["pricing-help"]
    assert counts["clicked@hour=12"] == counts["clicked@page=/pricing"] == counts["clicked@device=desktop"] == 1


async def test_a_goal_event_converts_only_the_rules_whose_goal_it_is(shop):
    await shop.send("v1", page_view("/blog/linen", ts=NOW))  # newsletter, goal signup
    shop.clock.now = NOW + 120
    await shop.send("v1", page_view("/pricing", ts=shop.clock.now))  # pricing-help, goal purchase
    await shop.send("v1", purchase(900, ts=shop.clock.now + 1), track("signup", ts=shop.clock.now + 2))
    counts = await shop.counts()
    assert (counts["pricing-help"]["converted"], counts["pricing-help"]["value"]) == (1, 900)
    assert counts["newsletter"]["converted"] == 1 and "value" not in counts["newsletter"]  # no value property
    shop.clock.now = NOW + 2 * DAYS  # signup's window is 1 day
    await shop.send("v1", track("signup", ts=shop.clock.now))
    assert (await shop.counts())["newsletter"]["converted"] == 1


async def test_a_value_that_is_not_a_plain_number_converts_with_value_0(shop):
    await shop.send("v1", page_view("/pricing", ts=NOW))
    for total in ("1200", -5, True, None, 1e13):
        await shop.send("v1", purchase(total, ts=NOW + 10))
    counts = (await shop.counts())["pricing-help"]
    assert counts["converted"] == 1 and "value" not in counts and "value_sq" not in counts


async def test_a_retried_batch_counts_nothing_twice(shop):
    decide = batch(page_view("/pricing", ts=NOW), visitor=shop.ids.sign("shop", "v1"))
    buy = batch(purchase(1500, ts=NOW + 30), visitor=shop.ids.sign("shop", "v1"))
    for body in (decide, decide, buy, buy, decide, buy):
        await shop.send_body(body)
    counts = (await shop.counts())["pricing-help"]
    assert (counts["decided"], counts["converted"], counts["value"], counts["value_sq"]) == (1, 1, 1500, 1500**2)
    assert len(shop.adds) == 2  # the decision, the conversion; retries add nothing, not even a round trip


async def test_one_batch_counts_in_one_call(shop):
    """A batch that converts, brings feedback and decides: one add_counts, on the right days."""
    await shop.send("v1", page_view("/pricing", ts=NOW))
    shop.adds.clear()
    shop.clock.now = NOW + 1 * DAYS
    click = {"type": "feedback", "id": event_id(), "ts": int(NOW * 1000) + 9, "rule": "pricing-help"}
    await shop.send(
        "v1", {**click, "action": "clicked"}, purchase(700, ts=shop.clock.now), page_view("/blog/x", ts=shop.clock.now)
    )
    assert len(shop.adds) == 1
    assert {(day, rule, counter) for day, rule, counter in shop.adds[0] if "@" not in counter} == {
        (DAY, "pricing-help", "clicked"),
        (DAY, "pricing-help", "converted"),
        (DAY, "pricing-help", "value"),
        (DAY, "pricing-help", "value_sq"),
        ("2026-11-23", "newsletter", "decided"),
    }


async def test_page_views_that_decide_nothing_count_nothing(shop):
    await shop.send("v1", page_view("/", ts=NOW), page_view("/about", ts=NOW + 1))
    assert shop.adds == [] and await shop.counts() == {}
