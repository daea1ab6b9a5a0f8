"""GET /healthz says the process is up; GET /readyz says whether the store answers and takes writes.

/readyz also checks the coupon pools of codes files: a pool Redis lost (flushed, or restarted
without persistence) makes it 503 naming the pool, and is loaded again, so the next answer
is ready; a visitor's claim does the same repair. Low pools are listed, still ready.
"""

from __future__ import annotations

import pytest
import redis as redis_sync
from starlette.testclient import TestClient

from server.app import create_app
from server.config import load_config
from server.settings import Settings
from server.store.redis import RedisStore
from tests.conftest import free_port
from tests.helpers import SECRET, SITE_YAML, batch, make_app, page_view, post, write_site


def test_healthz_is_ok(tmp_path):
    write_site(tmp_path)
    with TestClient(make_app(tmp_path)) as client:
        assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_is_ready_with_a_reachable_redis_and_names_the_rules_version(tmp_path, redis_url):
    write_site(tmp_path)
    with TestClient(make_app(tmp_path, "redis", redis_url)) as client:
        body = client.get("/readyz").json()
    assert body["status"] == "ready"
    assert body["rules"]["version"] == load_config(tmp_path)[0].version


def test_readyz_is_503_with_a_reason_when_redis_is_unreachable(tmp_path):
    write_site(tmp_path)
    config, _ = load_config(tmp_path)
    url = f"redis://127.0.0.1:{free_port()}/0"
    app = create_app(Settings(secret_key=SECRET), config=config, store=RedisStore(url))
    with TestClient(app) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable" and url in response.json()["reason"]


def test_readyz_is_503_while_redis_answers_but_refuses_writes(tmp_path, redis_url):
    """A Redis that reads but refuses writes (here: waiting for a replica it does not have; in life a
    read-only replica after a failover, or out of memory) refuses every batch: /readyz used to PING
    it and say ready all the same."""
    write_site(tmp_path)
    admin = redis_sync.Redis.from_url(redis_url)
    with TestClient(make_app(tmp_path, "redis", redis_url)) as client:
        admin.config_set("min-replicas-to-write", 1)
        try:
            refused = post(client, batch(page_view("/")))
            response = client.get("/readyz")
        finally:
            admin.config_set("min-replicas-to-write", 0)
        assert refused.status_code == 503
        assert response.status_code == 503, response.json()
        assert "refuses writes" in response.json()["reason"]
        assert client.get("/readyz").status_code == 200
    admin.close()


@pytest.mark.parametrize("scheme", ["redis", "redis+cluster"])
def test_readyz_names_an_unreachable_redis_without_its_password(tmp_path, scheme):
    """/readyz answers anyone: its reason once held the whole Redis URL, password included."""
    write_site(tmp_path)
    config, _ = load_config(tmp_path)
    port = free_port()
    store = RedisStore(f"{scheme}://:hunter2-secret@127.0.0.1:{port}")
    with TestClient(create_app(Settings(secret_key=SECRET), config=config, store=store)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    reason = response.json()["reason"]
    assert f"{scheme}://:***@127.0.0.1:{port}" in reason and "hunter2" not in reason


def test_an_unknown_path_is_a_json_404(tmp_path):
    write_site(tmp_path)
    with TestClient(make_app(tmp_path)) as client:
        response = client.get("/nope")
    assert response.status_code == 404 and response.json() == {"error": "Not Found"}


POOL_SITE = (
    SITE_YAML
    + """\
coupons:
  welcome:
    codes_file: welcome-codes.txt
"""
)
POOL_RULES = """\
rules:
  - id: welcome-offer
    when: {page: /welcome}
    show: {coupon: {pool: welcome, text: "{{ coupon.code }}"}}
"""


def write_pool_site(rules_dir):
    write_site(
        rules_dir,
        "shop",
        POOL_SITE,
        **{"rules.yaml": POOL_RULES, "welcome-codes.txt": "W-AAA111\nW-BBB222\nW-CCC333\n"},
    )


def test_readyz_reports_a_pool_redis_lost_then_is_ready_again(tmp_path, redis_url):
    write_pool_site(tmp_path)
    with TestClient(make_app(tmp_path, "redis", redis_url)) as client:
        assert client.get("/readyz").json()["coupons"] == {"not_loaded": [], "low": {}}
        redis_sync.Redis.from_url(redis_url).flushall()
        lost = client.get("/readyz")
        assert lost.status_code == 503 and lost.json()["status"] == "unavailable"
        assert lost.json()["coupons"]["not_loaded"] == ["shop/welcome"] and "shop/welcome" in lost.json()["reason"]
        again = client.get("/readyz")
        assert again.status_code == 200 and again.json()["coupons"] == {"not_loaded": [], "low": {}}


def test_a_visitor_gets_a_code_from_a_pool_redis_lost(tmp_path, redis_url):
    write_pool_site(tmp_path)
    with TestClient(make_app(tmp_path, "redis", redis_url)) as client:
        redis_sync.Redis.from_url(redis_url).flushall()
        reply = post(client, batch(page_view("/welcome"))).json()
    assert reply["show"]["code"] in ("W-AAA111", "W-BBB222", "W-CCC333")


def test_readyz_lists_a_low_pool_and_stays_ready(tmp_path, redis_url):
    write_pool_site(tmp_path)  # 3 codes: low with 1 left
    with TestClient(make_app(tmp_path, "redis", redis_url)) as client:
        for _ in range(2):
            assert "show" in post(client, batch(page_view("/welcome"))).json()
        response = client.get("/readyz")
    assert response.status_code == 200 and response.json()["status"] == "ready"
    assert response.json()["coupons"] == {"not_loaded": [], "low": {"shop/welcome": 1}}
