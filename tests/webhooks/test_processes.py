"""Webhooks across server processes on one real redis-server: each event is delivered once.

Two `irasshai serve` processes share the queue in Redis; both workers take due deliveries from
it, each delivery by one of them (a lease), so the receiver gets every event exactly once
whichever process queued it, with a signature the Standard Webhooks library accepts.
"""

from __future__ import annotations

import asyncio
import base64
import time

import httpx2 as httpx
import pytest

from server.store.redis import RedisStore
from tests.conftest import serve_process
from tests.helpers import SHOP, batch, page_view, write_site
from tests.webhooks.receiver import Receiver, serving

pytestmark = pytest.mark.redis
SECRET = "whsec_" + base64.b64encode(b"p" * 32).decode()
EVENTS = 20


def site_yaml(url: str) -> str:
    return f"""\
origins: [{SHOP}]
coupons:
  spring10: {{code: SPRING10}}
webhooks:
  crm:
    url: {url}
    events: [coupon.claimed]
    allow_private: true
"""


RULES = """\
rules:
  - id: pricing-coupon
    when: {page: /pricing}
    show: {coupon: {pool: spring10, text: "{{ coupon.code }}"}}
"""


def statuses(redis_url: str) -> list[str]:
    async def read() -> list[str]:
        store = RedisStore(redis_url)
        try:
            return [d.status for d in await store.webhooks.recent("shop", 100)]
        finally:
            await store.close()

    return asyncio.run(read())


def test_two_processes_on_one_redis_deliver_each_event_once(tmp_path, redis_url):
    receiver = Receiver()
    with serving(receiver) as url:
        write_site(tmp_path, "shop", site_yaml(url), **{"rules.yaml": RULES})
        env = {"IRASSHAI_WEBHOOK_SECRETS": f"shop/crm={SECRET}"}
        with serve_process(tmp_path, redis_url, **env) as one, serve_process(tmp_path, redis_url, **env) as two:
            for n in range(EVENTS):  # a new visitor each: one coupon.claimed each, queued by either process
                reply = httpx.post(
                    f"{(one, two)[n % 2]}/v1/sites/shop/events",
                    content=batch(page_view("/pricing")),
                    headers={"origin": SHOP, "content-type": "text/plain;charset=UTF-8"},
                )
                assert reply.status_code == 200 and reply.json()["show"]["code"] == "SPRING10"
            receiver.wait_for(EVENTS)
            for _ in range(200):  # every delivery recorded as delivered, by whichever process sent it
                if statuses(redis_url) == ["delivered"] * EVENTS:
                    break
                time.sleep(0.05)
            assert statuses(redis_url) == ["delivered"] * EVENTS
    ids = [headers["webhook-id"] for headers, _ in receiver.requests]
    assert len(ids) == EVENTS and len(set(ids)) == EVENTS  # each event once, none twice
    visitors = {payload["data"]["visitor"] for payload in receiver.events(SECRET)}
    assert len(visitors) == EVENTS
