"""Two server processes on one real three-master Redis Cluster (docs/deployment.md).

Two `irasshai serve` processes share the test cluster, each on its own port so that the test
chooses which one a request goes to, as a load balancer without sticky sessions would:

- the event path: a visitor's batches sent to both processes at the same moment are all stored
  and a once-only rule is shown once (the compare-and-set on the visitor's slot), and the rule's
  counters count each decision once (one Lua call on the site's {site:stats} slot);
- the live chat: an operator's reply posted through one process reaches the visitor's stream
  open on the other (a sharded pub/sub wake-up), and a stream cut and resumed on the other
  process gets the replies posted meanwhile exactly once.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx2 as httpx

from tests.conftest import serve_process
from tests.helpers import SHOP, batch, page_view, write_site
from tests.web.sse import open_stream, operator_says, say, visitor_and_ticket

SECRET = "operator-secret-0123456789"
VISITORS = 8
RULES = """\
rules:
  - id: once-ever
    when: {page: /sale}
    show: {message: {title: セール開催中, style: banner}}
    limit: {per_visitor: 1}
"""


def events(base: str, body: bytes) -> dict:
    reply = httpx.post(
        f"{base}/v1/sites/shop/events", content=body, headers={"origin": SHOP, "content-type": "text/plain"}
    )
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_two_processes_on_a_cluster_count_each_visitor_once_and_carry_the_live_chat(tmp_path, redis_cluster_url):
    write_site(tmp_path, **{"sale.yaml": RULES})
    settings = {"IRASSHAI_SITE_SECRETS": f"shop={SECRET}", "IRASSHAI_NEW_VISITORS_PER_MINUTE": "0"}
    with (
        serve_process(tmp_path, redis_cluster_url, **settings) as one,
        serve_process(tmp_path, redis_cluster_url, **settings) as two,
    ):
        assert [httpx.get(base + "/readyz").status_code for base in (one, two)] == [200, 200]

        # The event path: both processes get the same visitor's batch at once.
        barrier = threading.Barrier(2)

        def race(base: str, token: str) -> dict:
            body = batch(page_view("/sale"), visitor=token)
            barrier.wait()
            return events(base, body)

        shown = []
        with ThreadPoolExecutor(max_workers=2) as pool:
            for _ in range(VISITORS):
                token = events(one, batch(page_view("/")))["visitor"]
                replies = list(pool.map(race, (one, two), (token, token)))
                assert all(len(reply["acked"]) == 1 for reply in replies)
                shown.append(sum("show" in reply for reply in replies))
                # A third batch sees both earlier ones: the rule's limit holds on either process.
                assert "show" not in events(two, batch(page_view("/sale"), visitor=token))
        assert shown == [1] * VISITORS
        stats = httpx.get(f"{one}/v1/sites/shop/stats?days=1", headers={"authorization": f"Bearer {SECRET}"})
        assert stats.status_code == 200, stats.text
        assert stats.json()["rules"]["once-ever"]["decided"] == VISITORS

        # The live chat: the stream is on process two, the operator answers through process one.
        token, ticket = visitor_and_ticket(one)
        conversation = say(one, token, "hello", "client-0001")["conversation"]["id"]
        with open_stream(two, ticket) as stream:
            stream.until(lambda e: e["data"].get("author") == "system")
            live = operator_says(one, SECRET, conversation, "from process one")
            arrived = stream.until(lambda e: e.get("id") == live["id"])
            assert arrived[-1]["data"]["text"] == "from process one"
            last = arrived[-1]["id"]
        replies = [operator_says(one, SECRET, conversation, f"reply {n}") for n in range(3)]
        with open_stream(two, ticket, last=last) as stream:
            resumed = stream.until(lambda e: e.get("id") == replies[-1]["id"])
    assert [e["data"]["text"] for e in resumed] == ["reply 0", "reply 1", "reply 2"]
