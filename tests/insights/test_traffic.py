"""The site overview (server/insights/traffic.py) through the event path (Ingest), on both stores.

What a marketer reads: page views, unique visitors and sessions per day; the most viewed pages
with their entrances and median time on page (read back to the histogram's bucket); sessions by
hour of day and weekday in the site's timezone; devices; referrer hosts (the shop's own pages
and none count as direct); UTM sources; engagements shown and conversions from the rules'
counters. Beyond MAX_PAGES paths a day the rest counts as "(other)", also with several server
processes. Counting adds no store call to a batch: the buffer is written by a flush, once per
site, also when the server stops; a flush the store refuses is kept for the next one.
"""

from __future__ import annotations

import time
import timeit
from datetime import datetime
from zoneinfo import ZoneInfo

import anyio
import httpx2 as httpx
import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.config import load_config
from server.events import decode_batch
from server.identity import VisitorIds
from server.ingest import Ingest
from server.insights.traffic import DIRECT, MAX_PAGES, Traffic, referrer_host, site_overview
from server.settings import Settings
from server.store.memory import MemoryStore
from server.store.redis import RedisStore
from server.tracking import RequestFacts, apply
from server.visitor import VisitorState
from tests.conftest import free_port, serve_process
from tests.helpers import SECRET, SHOP, SITE_YAML, batch, page_view, post, track, write_site
from tests.store.test_contract import Clock

pytestmark = pytest.mark.anyio

TOKYO = ZoneInfo("Asia/Tokyo")
# Monday 23 November 2026, 01:30 in Tokyo: still Sunday the 22nd, 16:30, in UTC.
START = datetime(2026, 11, 23, 1, 30, tzinfo=TOKYO).timestamp()


@pytest.fixture(params=["memory", "redis"])
def kind(request):
    return request.param


@pytest.fixture
async def store(kind, request):
    store = MemoryStore(clock=Clock(START)) if kind == "memory" else RedisStore(request.getfixturevalue("redis_url"))
    yield store
    await store.close()


class Shop:
    """One site's event path on a fixed clock, as the server runs it, with the overview's buffer."""

    def __init__(self, tmp_path, store, site_yaml: str = SITE_YAML, key: str = "shop"):
        write_site(tmp_path, key, site_yaml)
        config, problems = load_config(tmp_path)
        assert config is not None, problems.lines()
        self.site, self.rules = config.sites[key], config.rules[key]
        self.clock = Clock(START)
        self.ids = VisitorIds(SECRET)
        self.traffic = Traffic(store, clock=self.clock)
        self.ingest = Ingest(store, self.ids, 1800, self.clock, traffic=self.traffic)
        self.store = store

    def visitor(self) -> str:
        return self.ids.issue(self.site.key)[1]

    async def send(self, token: str, *events: dict, device: str = "desktop", at: float | None = None) -> None:
        self.clock.now = at if at is not None else max(e["ts"] for e in events) / 1000
        parsed, decoded = decode_batch(batch(*events, visitor=token))
        await self.ingest.handle(self.site, self.rules, parsed, decoded, RequestFacts(device=device))

    async def overview(self, *days: str) -> dict:
        await self.traffic.flush()
        return await site_overview(self.store, self.site, list(days))


def rows(overview: dict, table: str) -> list[list]:
    return overview["tables"][table]["rows"]


async def test_the_overview_counts_what_visitors_did_in_the_sites_timezone(tmp_path, store):
    shop = Shop(tmp_path, store)
    ann, bob = shop.visitor(), shop.visitor()
    google = "https://www.google.com/search?q=shoes"
    await shop.send(ann, page_view("/?utm_source=newsletter", ts=START, referrer=google), device="mobile")
    await shop.send(bob, page_view("/pricing", ts=START + 10, referrer=SHOP + "/old-link"))
    await shop.send(ann, page_view("/pricing", ts=START + 40), device="mobile")  # 40 s on /
    await shop.send(bob, page_view("/pricing", ts=START + 30))  # a reload: 20 s on /pricing
    await shop.send(ann, page_view("/cart", ts=START + 100), track("add_to_cart", ts=START + 101), device="mobile")
    # An hour later, after the session timeout: Ann's second visit, typed in.
    await shop.send(ann, page_view("/pricing", ts=START + 3600), device="mobile")
    # The next day (Tuesday) Ann comes back once more.
    await shop.send(ann, page_view("/", ts=START + 86400), device="mobile")
    await store.add_counts(
        "shop",
        {
            ("2026-11-23", "cart-coupon", "decided"): 5,
            ("2026-11-23", "cart-coupon", "shown"): 4,
            ("2026-11-23", "exit-offer", "shown"): 1,
            ("2026-11-23", "cart-coupon", "converted"): 2,
            ("2026-11-24", "exit-offer", "clicked"): 1,
        },
    )

    overview = await shop.overview("2026-11-22", "2026-11-23", "2026-11-24")

    assert overview["tables"]["daily"]["columns"] == [
        "day",
        "page_views",
        "visitors",
        "sessions",
        "engagements_shown",
        "conversions",
    ]
    assert rows(overview, "daily") == [
        ["2026-11-22", 0, 0, 0, 0, 0],  # nothing in UTC's Sunday belongs to Tokyo's
        ["2026-11-23", 6, 2, 3, 5, 2],
        ["2026-11-24", 1, 1, 1, 0, 0],
    ]
    totals = overview["totals"]
    assert (totals["page_views"], totals["visitors"], totals["sessions"]) == (7, 2, 4)  # Ann is one visitor
    assert (totals["engagements_shown"], totals["conversions"], totals["conversions_per_engagement_shown"]) == (
        5,
        2,
        0.4,
    )
    assert overview["tables"]["pages"]["columns"] == ["path", "views", "median_seconds_on_page", "entrances"]
    # /pricing: 60 s (Ann, until /cart) and 20 s (Bob's reload): the median is in the 20 s bucket.
    assert rows(overview, "pages") == [["/pricing", 4, 20, 2], ["/", 2, 45, 2], ["/cart", 1, None, 0]]
    hours = rows(overview, "hours")
    assert [row[0] for row in hours] == list(range(24))
    # Tokyo's 01:xx (Monday's two visits and Tuesday's) and 02:xx, not UTC's 16:xx and 17:xx.
    assert hours[1] == [1, 3, 6] and hours[2] == [2, 1, 1]
    assert sum(row[1] for row in hours) == 4 and sum(row[2] for row in hours) == 7
    assert rows(overview, "weekdays") == [
        ["Mon", 3, 6],
        ["Tue", 1, 1],
        ["Wed", 0, 0],
        ["Thu", 0, 0],
        ["Fri", 0, 0],
        ["Sat", 0, 0],
        ["Sun", 0, 0],
    ]
    assert rows(overview, "devices") == [["mobile", 3, 5], ["desktop", 1, 2]]
    assert rows(overview, "referrers") == [[DIRECT, 3], ["google.com", 1]]  # the shop's own link is direct
    assert rows(overview, "utm_sources") == [["(none)", 3], ["newsletter", 1]]


async def test_time_on_page_counts_on_the_day_the_page_was_viewed(tmp_path, store):
    shop = Shop(tmp_path, store)
    ann = shop.visitor()
    before_midnight = datetime(2026, 11, 23, 23, 59, 50, tzinfo=TOKYO).timestamp()
    await shop.send(ann, page_view("/late", ts=before_midnight))
    await shop.send(ann, page_view("/later", ts=before_midnight + 95))
    overview = await shop.overview("2026-11-23", "2026-11-24")
    assert rows(overview, "pages") == [["/late", 1, 120, 1], ["/later", 1, None, 0]]
    assert [row[1] for row in rows(overview, "daily")] == [1, 1]
    assert rows(await shop.overview("2026-11-24"), "pages") == [["/later", 1, None, 0]]


async def test_a_batch_of_several_page_views_times_each_page(tmp_path, store):
    shop = Shop(tmp_path, store)
    ann = shop.visitor()
    await shop.send(ann, page_view("/a", ts=START), page_view("/b", ts=START + 8), page_view("/a", ts=START + 208))
    await shop.send(ann, page_view("/c", ts=START + 240))
    pages = {row[0]: row for row in rows(await shop.overview("2026-11-23"), "pages")}
    assert pages["/a"] == ["/a", 2, 10, 1]  # 8 s (the 10 s bucket) and 32 s (45 s): the median's bucket is 10
    assert pages["/b"][2] == 300 and pages["/c"][2] is None


# (path, seconds after START): a double-fired page view, a reload, two pages in one second.
JOURNEY = [("/a", 0), ("/b", 8), ("/b", 8), ("/a", 40), ("/a", 100), ("/c", 100), ("/d", 400)]


@pytest.mark.parametrize("batches", ["one view per batch", "one batch"])
async def test_time_on_page_is_the_same_however_the_views_are_batched(tmp_path, store, batches):
    shop = Shop(tmp_path, store)
    ann = shop.visitor()
    views = [page_view(path, ts=START + offset) for path, offset in JOURNEY]
    if batches == "one batch":
        await shop.send(ann, *views)
    else:
        for view in views:
            await shop.send(ann, view)
    # /a: 8 s, 60 s and 0 s (/c came in the same second); /b: 0 s (fired twice) and 32 s; /c: 300 s.
    assert rows(await shop.overview("2026-11-23"), "pages") == [
        ["/a", 3, 10, 1],
        ["/b", 2, 5, 0],
        ["/c", 1, 300, 0],
        ["/d", 1, None, 0],
    ]
    counts, _, _ = await store.read_traffic("shop", ["2026-11-23"])
    assert {field: n for field, n in counts["2026-11-23"].items() if field.startswith("time_on_page:")} == {
        "time_on_page:10|/a": 1,
        "time_on_page:60|/a": 1,
        "time_on_page:5|/a": 1,
        "time_on_page:5|/b": 1,
        "time_on_page:45|/b": 1,
        "time_on_page:300|/c": 1,
    }


async def test_pages_beyond_the_daily_limit_count_as_other_also_across_processes(tmp_path, store):
    first, second = Shop(tmp_path, store), Shop(tmp_path, store)  # two server processes, one store
    for number in range(MAX_PAGES + 5):
        shop = (first, second)[number % 2]
        await shop.send(shop.visitor(), page_view(f"/product/{number}", ts=START + number))
    await first.traffic.flush()
    overview = await second.overview("2026-11-23")
    pages = rows(overview, "pages")
    assert pages[0] == ["(other)", 5, None, 5]
    _, page_views, visitors, sessions, _, _ = rows(overview, "daily")[0]
    assert page_views == sessions == MAX_PAGES + 5
    assert visitors == pytest.approx(MAX_PAGES + 5, rel=0.03)  # Redis: a HyperLogLog's estimate
    counts, _, _ = await store.read_traffic("shop", ["2026-11-23"])
    named = [field for field in counts["2026-11-23"] if field.startswith("views|/")]
    assert len(named) == MAX_PAGES


async def test_a_batch_of_page_views_makes_no_extra_store_call_and_a_flush_one_per_site(tmp_path, redis_url):
    store = CountingStore(redis_url)
    try:
        shop = Shop(tmp_path, store)
        other = Shop(tmp_path / "other", store, key="outlet")
        other.traffic = shop.traffic  # one process, two sites: one buffer
        other.ingest.traffic = shop.traffic
        await shop.send(shop.visitor(), page_view("/", ts=START, referrer="https://www.google.com/"))
        assert store.calls == ["load_visitor", "swap_visitor"]
        await shop.send(shop.visitor(), page_view("/", ts=START + 1), page_view("/a", ts=START + 2))
        await other.send(other.visitor(), page_view("/", ts=START + 3))
        assert store.calls == ["load_visitor", "swap_visitor"] * 3
        store.calls.clear()
        await shop.traffic.flush()
        assert sorted(store.calls) == ["add_traffic", "add_traffic"]  # one per site, however many batches
        store.calls.clear()
        await shop.traffic.flush()
        assert store.calls == []  # nothing new: nothing written
        assert rows(await site_overview(store, "outlet", ["2026-11-23"]), "daily")[0][1] == 1
    finally:
        await store.close()


class CountingStore(RedisStore):
    """The real Redis store, recording the name of every store call made."""

    def __init__(self, url: str):
        super().__init__(url)
        self.calls: list[str] = []

    def __getattribute__(self, name: str):
        found = super().__getattribute__(name)
        if not name.startswith("_") and name not in ("calls", "url", "close") and callable(found):
            self.calls.append(name)
        return found


async def test_a_flush_the_store_refuses_is_kept_for_the_next(tmp_path, redis_url):
    store = RedisStore(redis_url)
    shop = Shop(tmp_path, store)
    down = RedisStore(f"redis://127.0.0.1:{free_port()}/0")
    try:
        shop.traffic.store = down  # the store is unreachable when the flush comes
        await shop.send(shop.visitor(), page_view("/", ts=START))
        await shop.traffic.flush()  # refused: kept
        await shop.send(shop.visitor(), page_view("/", ts=START + 1))
        shop.traffic.store = store  # and back for the next
        overview = await shop.overview("2026-11-23")
        assert rows(overview, "daily")[0][1:4] == [2, 2, 2]
    finally:
        await down.close()
        await store.close()


def serve(tmp_path, store, **settings):
    write_site(tmp_path)
    config, _ = load_config(tmp_path)
    return create_app(Settings(secret_key=SECRET, rules_dir=str(tmp_path), **settings), config=config, store=store)


def test_the_counts_buffered_when_the_server_stops_are_written(tmp_path, redis_url):
    app = serve(tmp_path, RedisStore(redis_url), traffic_flush_interval=3600.0)
    with TestClient(app) as client:
        for path in ("/", "/pricing"):
            assert post(client, batch(page_view(path))).status_code == 200
    # The server has stopped (its store closed); a new connection reads what it wrote.

    async def read() -> dict:
        store = RedisStore(redis_url)
        try:
            return await site_overview(store, "shop", [datetime.now(TOKYO).date().isoformat()])
        finally:
            await store.close()

    overview = anyio.run(read)
    assert overview["totals"]["page_views"] == 2 and overview["totals"]["sessions"] == 2


@pytest.mark.redis
def test_two_server_processes_on_one_redis_count_everything_once_stopped(tmp_path, redis_url):
    """`irasshai serve` processes, stopped as a service manager stops them (SIGTERM), write what
    they buffered: page views through either process are all in the overview."""
    write_site(tmp_path)
    slow = {"IRASSHAI_TRAFFIC_FLUSH_INTERVAL": "3600"}  # nothing is flushed before the stop
    headers = {"origin": SHOP, "content-type": "text/plain;charset=UTF-8"}
    with serve_process(tmp_path, redis_url, **slow) as one, serve_process(tmp_path, redis_url, **slow) as two:
        for number, server in enumerate((one, one, one, two, two)):
            body = batch(page_view(f"/item/{number}"))
            assert httpx.post(f"{server}/v1/sites/shop/events", content=body, headers=headers).status_code == 200

    async def read() -> dict:
        store = RedisStore(redis_url)
        try:
            return await site_overview(store, "shop", [datetime.now(TOKYO).date().isoformat()])
        finally:
            await store.close()

    overview = anyio.run(read)
    assert overview["totals"]["page_views"] == 5 and len(rows(overview, "pages")) == 5


def test_a_running_server_writes_its_counts_every_interval(tmp_path):
    store = MemoryStore()
    app = serve(tmp_path, store, traffic_flush_interval=0.05)
    with TestClient(app) as client:
        ua = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148"
        assert post(client, batch(page_view("/")), **{"user-agent": ua}).status_code == 200
        today = datetime.now(TOKYO).date().isoformat()
        deadline = time.monotonic() + 10
        while True:  # eventually, not within a set time
            overview = client.portal.call(site_overview, store, "shop", [today])
            if overview["totals"]["page_views"] or time.monotonic() > deadline:
                break
            time.sleep(0.02)
    assert overview["totals"]["page_views"] == 1
    assert rows(overview, "devices") == [["mobile", 1, 1]]


def test_referrer_hosts_group_www_and_count_the_shop_itself_as_direct(tmp_path):
    write_site(tmp_path)
    site = load_config(tmp_path)[0].sites["shop"]
    assert referrer_host("https://www.google.co.jp/search?q=x", site) == "google.co.jp"
    assert referrer_host("https://t.co/abc", site) == "t.co"
    assert referrer_host("", site) == DIRECT
    assert referrer_host(SHOP + "/cart", site) == DIRECT
    assert referrer_host("http://[::1", site) == DIRECT


def test_counting_a_batch_costs_little(tmp_path):
    """Not a timing assertion: prints what Traffic.observe costs a batch, for docs/performance.md,
    beside apply (the batch's own work) for scale."""
    write_site(tmp_path)
    site = load_config(tmp_path)[0].sites["shop"]
    traffic, facts = Traffic(MemoryStore()), RequestFacts(device="mobile")
    state = VisitorState()
    earlier = [decode_batch(batch(page_view(f"/p{n}", ts=START + 20 * n)))[1][0] for n in range(10)]
    apply(state, earlier, START + 200, facts, 1800)
    new = decode_batch(batch(page_view("/cart", ts=START + 220)))[1]
    applied = apply(state, new, START + 220, facts, 1800)

    def best(call) -> float:
        return min(timeit.repeat(call, number=5000, repeat=5)) / 5000 * 1e6

    observe = best(lambda: traffic.observe(site, "v1", state, applied, START + 220))
    applying = best(lambda: apply(VisitorState(), new, START + 220, facts, 1800))
    print(
        f"Traffic.observe, the 11th page view of a visit: {observe:.1f} µs (apply, a first page view: {applying:.1f} µs)"
    )
