"""The delivery queue's contract (webhooks, LINE pushes), on both stores: MemoryStore and RedisStore
on a real redis-server and on a real Redis Cluster.

Queued deliveries are taken only when due, oldest due first, at most `limit`; a taken one is not
taken again until its lease ends (so two workers never send it at once) and is taken again after
(so a worker that died does not lose it). Finishing records the attempt: delivered leaves the due
list, a retry is due at its time, failed is never taken again, and a stale attempt cannot undo a
delivery. Resend makes a delivery due now with its retries counted afresh. Recent lists newest
first; trim keeps the newest; endpoints are disabled and enabled per site; sites and endpoints
never mix; every key has a TTL in Redis.

Lanes (a LINE user's replies): only a lane's first unfinished delivery is due, so one lane's
deliveries go one at a time in the order queued; finishing one (delivered or failed) makes the
next due, a retry does not; a first one that was lost (trimmed) is skipped at the next queueing.
A delivery released by a stopping process is due at once, without an attempt counted; a finished
one stays finished. The webhook queue and the LINE push queue never mix.
"""

from __future__ import annotations

import pytest

from server.store import keys
from server.store.memory import MemoryStore
from server.store.redis import RedisStore
from server.store.webhooks import Delivery, delivery_id
from tests.conftest import all_keys, redis_client, store_url
from tests.store.test_contract import Clock

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["memory", "redis", "cluster"])
def kind(request):
    return request.param


@pytest.fixture
async def store(kind, request):
    store = MemoryStore(clock=Clock()) if kind == "memory" else RedisStore(store_url(kind, request))
    yield store
    await store.close()


def delivery(
    message: str, endpoint: str = "crm", at: float = 100.0, body: bytes = b'{"type":"x"}', lane: str = ""
) -> Delivery:
    return Delivery(
        id=delivery_id(message, endpoint),
        message=message,
        endpoint=endpoint,
        type="coupon.claimed",
        body=body,
        created=at,
        since=at,
        next_at=at,
        lane=lane,
    )


def pushed(message: str, lane: str, at: float = 100.0) -> Delivery:
    return delivery(message, endpoint="push", at=at, lane=lane)


async def taken(queue, now: float, site: str = "demo", endpoint: str = "push") -> list[str]:
    return [d.id for d in await queue.take(site, endpoint, now=now, lease=30.0, limit=10)]


async def test_due_deliveries_are_taken_once_per_lease_oldest_first(store):
    queue = store.webhooks
    await queue.queue("demo", [delivery("msg_b", at=101.0), delivery("msg_a", at=100.0), delivery("msg_c", at=500.0)])
    await queue.queue("demo", [delivery("msg_o", endpoint="slack", at=100.0)])
    await queue.queue("other", [delivery("msg_x", at=100.0)])
    taken = await queue.take("demo", "crm", now=200.0, lease=30.0, limit=10)
    assert [d.id for d in taken] == ["msg_a.crm", "msg_b.crm"]  # msg_c is not due; slack is another endpoint
    assert taken[0].body == b'{"type":"x"}' and taken[0].type == "coupon.claimed" and taken[0].status == "pending"
    assert await queue.take("demo", "crm", now=220.0, lease=30.0, limit=10) == []  # leased
    again = await queue.take("demo", "crm", now=231.0, lease=30.0, limit=1)  # the lease ended: a worker died
    assert [d.id for d in again] == ["msg_a.crm"]
    assert [d.id for d in await queue.take("demo", "slack", now=200.0, lease=30.0, limit=10)] == ["msg_o.slack"]
    assert [d.id for d in await queue.take("other", "crm", now=200.0, lease=30.0, limit=10)] == ["msg_x.crm"]


async def test_finish_records_each_outcome(store):
    queue = store.webhooks
    await queue.queue("demo", [delivery("msg_1"), delivery("msg_2"), delivery("msg_3")])
    await queue.take("demo", "crm", now=100.0, lease=30.0, limit=10)
    await queue.finish("demo", "msg_1.crm", "delivered", at=101.0, status=204, error="")
    await queue.finish("demo", "msg_2.crm", "retry", at=101.0, status=500, error="HTTP 500", next_at=160.0)
    await queue.finish("demo", "msg_3.crm", "failed", at=101.0, status=410, error="HTTP 410: disabled")
    first, second, third = [await queue.get("demo", f"msg_{n}.crm") for n in (1, 2, 3)]
    assert (first.status, first.attempts, first.last_status, first.last_error) == ("delivered", 1, 204, "")
    assert (second.status, second.attempts, second.tries, second.next_at) == ("pending", 1, 1, 160.0)
    assert (second.last_status, second.last_error, second.last_at) == (500, "HTTP 500", 101.0)
    assert (third.status, third.last_status) == ("failed", 410)
    assert await queue.take("demo", "crm", now=159.0, lease=30.0, limit=10) == []
    assert [d.id for d in await queue.take("demo", "crm", now=1000.0, lease=30.0, limit=10)] == ["msg_2.crm"]
    # A stale attempt (a lease that ran out while another process delivered) never undoes the delivery.
    await queue.finish("demo", "msg_1.crm", "retry", at=102.0, status=0, error="timed out", next_at=200.0)
    assert (await queue.get("demo", "msg_1.crm")).status == "delivered"
    assert await queue.take("demo", "crm", now=1020.0, lease=30.0, limit=10) == []  # msg_2 is leased
    assert await queue.get("demo", "msg_9.crm") is None
    await queue.finish("demo", "msg_9.crm", "delivered", at=1.0, status=200, error="")  # unknown: nothing


async def test_resend_makes_a_delivery_due_now_with_its_retries_afresh(store):
    queue = store.webhooks
    await queue.queue("demo", [delivery("msg_1")])
    await queue.take("demo", "crm", now=100.0, lease=30.0, limit=10)
    await queue.finish("demo", "msg_1.crm", "failed", at=101.0, status=500, error="HTTP 500")
    assert await queue.resend("demo", "msg_1.crm", now=300.0)
    found = await queue.get("demo", "msg_1.crm")
    assert (found.status, found.tries, found.attempts, found.since, found.next_at) == ("pending", 0, 1, 300.0, 300.0)
    assert [d.id for d in await queue.take("demo", "crm", now=300.0, lease=30.0, limit=10)] == ["msg_1.crm"]
    assert not await queue.resend("demo", "msg_9.crm", now=300.0)
    assert not await queue.resend("other", "msg_1.crm", now=300.0)


async def test_recent_is_newest_first_and_trim_keeps_the_newest(store):
    queue = store.webhooks
    await queue.queue("demo", [delivery(f"msg_{n}", at=100.0 + n) for n in range(5)])
    assert [d.id for d in await queue.recent("demo", 3)] == ["msg_4.crm", "msg_3.crm", "msg_2.crm"]
    assert await queue.trim("demo", keep=2) == 3
    assert [d.id for d in await queue.recent("demo", 10)] == ["msg_4.crm", "msg_3.crm"]
    assert await queue.get("demo", "msg_0.crm") is None
    assert [d.id for d in await queue.take("demo", "crm", now=1000.0, lease=30.0, limit=10)] == [
        "msg_3.crm",
        "msg_4.crm",
    ]  # the dropped ones are no longer due
    assert await queue.trim("demo", keep=2) == 0
    assert await queue.recent("other", 10) == []


async def test_endpoints_are_disabled_and_enabled_per_site(store):
    queue = store.webhooks
    assert await queue.disabled("demo") == {}
    await queue.disable("demo", "crm", b'{"fingerprint":"abc"}')
    await queue.disable("other", "slack", b"{}")
    assert await queue.disabled("demo") == {"crm": b'{"fingerprint":"abc"}'}
    assert await queue.enable("demo", "crm")
    assert not await queue.enable("demo", "crm")
    assert await queue.disabled("demo") == {}
    assert await queue.disabled("other") == {"slack": b"{}"}


async def test_a_lane_sends_its_deliveries_one_at_a_time_in_the_order_queued(store):
    queue = store.line_pushes
    await queue.queue("demo", [pushed("a1", "ken", 100.0), pushed("b1", "aya", 100.0)])
    await queue.queue("demo", [pushed("a2", "ken", 101.0)])
    await queue.queue("demo", [pushed("a3", "ken", 102.0)])
    assert await taken(queue, 200.0) == ["a1.push", "b1.push"]  # one per lane: a2 waits for a1
    assert (await queue.get("demo", "a2.push")).lane == "ken"
    await queue.finish("demo", "a1.push", "retry", at=201.0, status=500, error="500", next_at=300.0, lane="ken")
    assert await taken(queue, 220.0) == []  # a retry keeps its place: a2 still waits (b1 is leased)
    assert await taken(queue, 300.0) == ["b1.push", "a1.push"]  # b1's lease ended (at 230), a1's retry (300)
    await queue.finish("demo", "a1.push", "delivered", at=310.0, status=200, error="", lane="ken")
    assert await taken(queue, 310.0) == ["a2.push"]  # due when a1 was delivered
    await queue.finish("demo", "a2.push", "failed", at=320.0, status=400, error="400", lane="ken")
    assert await taken(queue, 320.0) == ["a3.push"]  # a failure moves the lane on too
    # A stale attempt at a2 (its lease ran out while another process finished it) changes nothing.
    await queue.finish("demo", "a2.push", "retry", at=321.0, status=500, error="500", next_at=321.0, lane="ken")
    assert (await queue.get("demo", "a2.push")).status == "failed"
    await queue.finish("demo", "a3.push", "delivered", at=330.0, status=200, error="", lane="ken")
    assert await taken(queue, 1000.0) == ["b1.push"]  # b1 is still taken by no one
    await queue.queue("demo", [pushed("a4", "ken", 1001.0)])  # the lane is empty: due at once
    assert await taken(queue, 1001.0) == ["a4.push"]


async def test_a_lane_whose_first_delivery_was_lost_moves_on_at_the_next_queueing(store):
    queue = store.line_pushes
    await queue.queue("demo", [pushed("a1", "ken", 100.0)])
    await queue.queue("demo", [pushed("a2", "ken", 101.0)])
    await queue.queue("demo", [pushed("b1", "aya", 102.0)])
    assert await queue.trim("demo", keep=2) == 1  # a1, the oldest, is dropped while first in its lane
    assert await taken(queue, 200.0) == ["b1.push"]
    await queue.queue("demo", [pushed("a3", "ken", 201.0)])
    assert await taken(queue, 201.0) == ["a2.push"]
    await queue.finish("demo", "a2.push", "delivered", at=202.0, status=200, error="", lane="ken")
    assert await taken(queue, 202.0) == ["a3.push"]


async def test_a_released_delivery_is_due_at_once_and_a_finished_one_stays_finished(store):
    queue = store.line_pushes
    await queue.queue("demo", [pushed("a1", "ken"), pushed("b1", "aya")])
    assert await taken(queue, 100.0) == ["a1.push", "b1.push"]
    await queue.finish("demo", "b1.push", "delivered", at=101.0, status=200, error="", lane="aya")
    await queue.release("demo", "a1.push", now=102.0)  # its process is stopping
    await queue.release("demo", "b1.push", now=102.0)
    assert await taken(queue, 102.0) == ["a1.push"]  # long before its lease (130) ends
    found = await queue.get("demo", "a1.push")
    assert (found.status, found.attempts) == ("pending", 0)
    assert (await queue.get("demo", "b1.push")).status == "delivered"


async def test_the_webhook_and_line_push_queues_never_mix(store):
    await store.line_pushes.queue("demo", [pushed("a1", "ken")])
    await store.webhooks.queue("demo", [delivery("a1", endpoint="push")])
    assert await taken(store.webhooks, 100.0) == ["a1.push"]
    assert await taken(store.line_pushes, 100.0) == ["a1.push"]
    await store.webhooks.finish("demo", "a1.push", "delivered", at=101.0, status=200, error="")
    assert (await store.line_pushes.get("demo", "a1.push")).status == "pending"
    assert [d.id for d in await store.webhooks.recent("demo", 10)] == ["a1.push"]


async def test_every_line_push_key_has_a_ttl_in_redis(any_redis_url):
    store = RedisStore(any_redis_url)
    await store.line_pushes.queue("demo", [pushed("a1", "ken"), pushed("a2", "ken")])
    await store.line_pushes.take("demo", "push", now=100.0, lease=30.0, limit=1)
    await store.line_pushes.finish(
        "demo", "a1.push", "retry", at=101.0, status=500, error="x", next_at=200.0, lane="ken"
    )
    await store.close()
    client = redis_client(any_redis_url)
    found = all_keys(client)
    assert keys.queue_lane("demo", "ken", keys.LINE_PUSHES).encode() in found
    assert len(found) == 5 and all(b"{demo:line-push}" in key for key in found)
    for key in found:
        assert 0 < client.ttl(key) <= keys.WEBHOOKS_TTL, key
    client.close()


async def test_every_webhook_key_has_a_ttl_in_redis(any_redis_url):
    store = RedisStore(any_redis_url)
    await store.webhooks.queue("demo", [delivery("msg_1"), delivery("msg_2")])
    await store.webhooks.take("demo", "crm", now=100.0, lease=30.0, limit=1)
    await store.webhooks.finish("demo", "msg_1.crm", "retry", at=101.0, status=500, error="x", next_at=200.0)
    await store.webhooks.resend("demo", "msg_2.crm", now=150.0)
    await store.webhooks.disable("demo", "crm", b"{}")
    await store.close()
    client = redis_client(any_redis_url)
    found = all_keys(client)
    assert len(found) == 5 and all(b"{demo:webhooks}" in key for key in found)
    for key in found:
        assert 0 < client.ttl(key) <= keys.WEBHOOKS_DISABLED_TTL, key
    assert 0 < client.ttl(keys.queue_recent("demo")) <= keys.WEBHOOKS_TTL
    client.close()


async def test_assign_code_says_whether_the_code_was_given_just_now(store):
    assert await store.assign_code("demo", "spring", "v1", "shared", "SPRING10", 100) == ("SPRING10|100", True)
    assert await store.assign_code("demo", "spring", "v1", "shared", "SPRING10", 200) == ("SPRING10|100", False)
    await store.seed_codes("demo", "welcome", ["W-AAA"])
    assert await store.assign_code("demo", "welcome", "v1", "list", "", 0) == ("W-AAA|0", True)
    assert await store.assign_code("demo", "welcome", "v2", "list", "", 0) == (None, False)  # none left
    assert await store.assign_code("demo", "other", "v1", "list", "", 0) == ("unseeded", False)
    assert await store.assign_code("demo", "vip", "v1", "generated", "IRS-A", 0) == ("IRS-A|0", True)
    assert await store.assign_code("demo", "vip", "v2", "generated", "IRS-A", 0) == ("taken", False)
    assert await store.claim_code("demo", "welcome", "v1", "list", "", 0) == "W-AAA|0"  # as before
    assert await store.code_owner("demo", "welcome", "W-AAA") == "v1"
    assert await store.code_owner("demo", "spring", "SPRING10") is None  # a shared code has no owner


async def test_forgetting_a_visitor_deletes_the_deliveries_about_them_and_keeps_the_others(store):
    """docs/privacy.md: a deleted visitor's pending and sent deliveries go; others are untouched."""
    queue = store.webhooks
    about = b'{"type":"coupon.claimed","visitor":"v-forget-me"}'
    await queue.queue(
        "demo", [delivery("m1", body=about), delivery("m2"), delivery("m3", endpoint="slack", body=about)]
    )
    assert await queue.forget("demo", "v-forget-me") == 2
    assert await queue.get("demo", "m1.crm") is None and await queue.get("demo", "m3.slack") is None
    assert [d.id for d in await queue.recent("demo", 10)] == ["m2.crm"]
    assert [d.id for d in await queue.take("demo", "crm", now=200.0, lease=30.0, limit=10)] == ["m2.crm"]
    assert await queue.take("demo", "slack", now=200.0, lease=30.0, limit=10) == []
    assert await queue.forget("demo", "v-forget-me") == 0


async def test_forgetting_a_lane_deletes_its_deliveries_and_the_next_lane_keeps_going(store):
    queue = store.line_pushes
    await queue.queue("demo", [pushed("a1", "line-ken"), pushed("a2", "line-ken"), pushed("b1", "line-yui")])
    assert await queue.forget("demo", "line-ken") == 2
    assert await taken(queue, 200.0) == ["b1.push"]
    await queue.queue("demo", [pushed("a3", "line-ken", at=210.0)])
    assert await taken(queue, 220.0) == ["a3.push"]  # b1 is leased; a new reply to the forgotten user is due at once
