"""Privacy over HTTP (docs/privacy.md): what a browser's signals and a site's consent mode let
the events endpoint store, the widget's forget endpoint, and the export and deletion API.

- A site honours Global Privacy Control by default: a batch with ``Sec-GPC: 1`` stores nothing
  and is answered 403 with ``"stop": "gpc"``; Do Not Track likewise where the site opts in.
- With ``consent: required``, only batches with ``"consent": true`` are stored.
- ``POST /forget`` with the visitor's own token deletes their data.
- With the site's secret, ``GET``/``DELETE /privacy/visitors/{id}`` and ``/privacy/customers/{id}``
  export and delete a visitor (state, conversations with messages, coupon codes) or every visitor a
  verified identify proved to be the customer; afterwards no key and no value in Redis holds the
  visitor's id or the customer's (webhook deliveries about them included) (checked on one Redis and on a Redis Cluster), while a coupon
  code they had is still never handed out or redeemed twice.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from starlette.testclient import TestClient

from server.identity import VisitorIds
from tests.conftest import all_keys, redis_client
from tests.helpers import SECRET, SITE_YAML, batch, make_app, page_view, post, write_site

SITE_SECRET = "privacy-site-secret-0123456789"
IDENTITY_SECRET = "privacy-identity-secret-0123456789"
CUSTOMER = "C-PRIVACY-7731"
SITE = (
    SITE_YAML
    + """\
coupons:
  vip:
    generate: {prefix: VIP-, length: 8}
"""
)
RULES = """\
rules:
  - id: vip-offer
    when: {page: /vip}
    show: {coupon: {pool: vip, text: "{{ coupon.code }}"}}
"""


WHSEC = "whsec_" + base64.b64encode(b"w" * 32).decode()
# Every webhook event, to a port where nobody listens: its deliveries about the visitor stay queued.
WEBHOOKS = """\
webhooks:
  crm:
    url: http://127.0.0.1:9/hooks
    events: ["*"]
    allow_private: true
"""


def _app(tmp_path, site_yaml=SITE, kind="memory", redis_url=""):
    write_site(tmp_path, "shop", site_yaml, **{"rules.yaml": RULES})
    return make_app(
        tmp_path,
        kind,
        redis_url,
        site_secrets=f"shop={SITE_SECRET}",
        identity_secrets=f"shop={IDENTITY_SECRET}",
        webhook_secrets=f"shop/crm={WHSEC}",
        webhook_backoff=3600.0,
    )


@pytest.fixture
def client(tmp_path):
    with TestClient(_app(tmp_path)) as client:
        yield client


def identify_event(customer=CUSTOMER) -> dict:
    proof = hmac.new(IDENTITY_SECRET.encode(), customer.encode(), hashlib.sha256).hexdigest()
    base = page_view("/")
    return {
        "type": "identify",
        "id": base["id"],
        "ts": base["ts"],
        "customer": customer,
        "attributes": {"name": "山田 花子"},
        "hash": proof,
    }


def api(client, method, path, secret=SITE_SECRET):
    headers = {"authorization": f"Bearer {secret}"} if secret else {}
    return client.request(method, f"/v1/sites/shop/privacy/{path}", headers=headers)


def chat_say(client, token, text):
    body = {"visitor": token, "do": {"type": "say", "id": "client-0001", "text": text}}
    headers = {"content-type": "text/plain;charset=UTF-8", "origin": "https://shop.example"}
    return client.post("/v1/sites/shop/chat", content=json.dumps(body), headers=headers)


def a_visitor_with_everything(client) -> tuple[str, str]:
    """A visitor with a state, a coupon code, a verified identity, a conversation with messages
    and live presence: (token, visitor id)."""
    reply = post(client, batch(page_view("/vip"), identify_event()))
    assert reply.status_code == 200, reply.text
    token = reply.json()["visitor"]
    assert reply.json()["show"]["code"].startswith("VIP-")
    assert chat_say(client, token, "この商品の在庫はありますか").status_code == 200
    return token, VisitorIds(SECRET).verify("shop", token)


# The browser's signals and the site's consent mode


def test_gpc_stores_nothing_and_tells_the_widget_to_stop(client):
    reply = post(client, batch(page_view("/")), **{"sec-gpc": "1"})
    assert reply.status_code == 403
    assert reply.json()["stop"] == "gpc"
    assert "Global Privacy Control" in reply.json()["error"]
    assert reply.headers["access-control-allow-origin"] == "https://shop.example"
    assert "visitor" not in reply.json()


def test_dnt_is_ignored_unless_the_site_honours_it(tmp_path):
    with TestClient(_app(tmp_path)) as client:
        assert post(client, batch(page_view("/")), dnt="1").status_code == 200
    honouring = SITE + "privacy:\n  dnt: honour\n"
    with TestClient(_app(tmp_path / "dnt", honouring)) as client:
        reply = post(client, batch(page_view("/")), dnt="1")
        assert (reply.status_code, reply.json()["stop"]) == (403, "dnt")


def test_gpc_can_be_ignored_by_a_site(tmp_path):
    with TestClient(_app(tmp_path, SITE + "privacy:\n  gpc: ignore\n")) as client:
        assert post(client, batch(page_view("/")), **{"sec-gpc": "1"}).status_code == 200


def test_a_consent_site_stores_only_batches_with_consent(tmp_path):
    with TestClient(_app(tmp_path, SITE + "privacy:\n  consent: required\n")) as client:
        reply = post(client, batch(page_view("/")))
        assert (reply.status_code, reply.json()["stop"]) == (403, "consent")
        body = json.loads(batch(page_view("/")))
        reply = post(client, json.dumps({**body, "consent": True}).encode())
        assert reply.status_code == 200 and reply.json()["acked"]


# The widget's forget endpoint


def test_forget_with_the_visitors_token_deletes_their_data(client):
    token, visitor = a_visitor_with_everything(client)
    headers = {"origin": "https://shop.example", "content-type": "text/plain;charset=UTF-8"}
    reply = client.post("/v1/sites/shop/forget", content=json.dumps({"visitor": token}), headers=headers)
    assert reply.status_code == 200 and reply.json() == {"forgotten": True}
    export = api(client, "GET", f"visitors/{visitor}").json()
    assert export["state"] is None and export["conversations"] == [] and export["coupons"] == {}


@pytest.mark.parametrize(
    ("body", "origin", "status"),
    [
        (json.dumps({"visitor": "forged.token"}), "https://shop.example", 403),
        ("not json", "https://shop.example", 400),
        ("", "https://shop.example", 400),
        ("x" * 5000, "https://shop.example", 413),
        (json.dumps({"visitor": "x"}), "https://evil.example", 403),
    ],
)
def test_a_bad_forget_request_is_one_line_and_deletes_nothing(client, body, origin, status):
    _, visitor = a_visitor_with_everything(client)
    reply = client.post("/v1/sites/shop/forget", content=body, headers={"origin": origin})
    assert reply.status_code == status
    assert "\n" not in reply.json()["error"]
    assert api(client, "GET", f"visitors/{visitor}").json()["state"] is not None


# The export and deletion API


def test_a_visitors_export_holds_everything_kept_about_them(client):
    _, visitor = a_visitor_with_everything(client)
    export = api(client, "GET", f"visitors/{visitor}").json()
    assert export["site"] == "shop" and export["visitor"] == visitor
    assert export["state"]["customer"] == CUSTOMER and export["state"]["verified"] is True
    assert export["state"]["attributes"] == {"name": "山田 花子"}
    assert "/vip" in export["state"]["page_views"]
    assert export["coupons"]["vip"]["code"].startswith("VIP-")
    assert [c["id"] for c in export["conversations"]] == [f"{visitor}.1"]
    texts = [entry["data"].get("text") for entry in export["feed"] if entry["type"] == "message"]
    assert "この商品の在庫はありますか" in texts


def test_a_customers_export_holds_every_visitor_proved_to_be_them(client):
    _, first = a_visitor_with_everything(client)
    _, second = a_visitor_with_everything(client)
    post(client, batch(page_view("/"), {**identify_event(), "hash": "0" * 64}))  # refused: proves nothing
    unproven = {key: value for key, value in identify_event().items() if key != "hash"}
    unproven = post(client, batch(page_view("/"), unproven))
    assert unproven.status_code == 200
    export = api(client, "GET", f"customers/{CUSTOMER}").json()
    assert export["customer"] == CUSTOMER
    assert sorted(v["visitor"] for v in export["visitors"]) == sorted([first, second])


def test_the_api_needs_the_sites_secret_and_says_what_is_wrong(client):
    _, visitor = a_visitor_with_everything(client)
    assert api(client, "GET", f"visitors/{visitor}", secret=None).status_code == 401
    assert api(client, "DELETE", f"visitors/{visitor}", secret="wrong").status_code == 401
    assert api(client, "GET", f"visitors/{visitor}").json()["state"] is not None
    assert api(client, "GET", f"customers/{'x' * 129}").status_code == 400
    reply = client.get("/v1/sites/nope/privacy/visitors/x", headers={"authorization": f"Bearer {SITE_SECRET}"})
    assert reply.status_code == 401  # an unknown site: the same answer as a wrong secret


def test_deleting_a_customer_deletes_each_of_their_visitors(client):
    _, first = a_visitor_with_everything(client)
    _, second = a_visitor_with_everything(client)
    reply = api(client, "DELETE", f"customers/{CUSTOMER}")
    assert reply.status_code == 200
    assert sorted(reply.json()["forgotten"]) == sorted([first, second])
    assert api(client, "GET", f"customers/{CUSTOMER}").json()["visitors"] == []
    for visitor in (first, second):
        assert api(client, "GET", f"visitors/{visitor}").json()["state"] is None


def _values(client, key: bytes) -> list[bytes]:
    kind = client.type(key).decode()
    if kind == "string":
        return [client.get(key) or b""]
    if kind == "hash":
        return [word for pair in client.hgetall(key).items() for word in pair]
    if kind == "set":
        return list(client.smembers(key))
    if kind == "zset":
        return list(client.zrange(key, 0, -1))
    if kind == "list":
        return client.lrange(key, 0, -1)
    if kind == "stream":
        return [word for _, fields in client.xrange(key) for pair in fields.items() for word in pair]
    return []


@pytest.mark.parametrize("how", ["visitor", "customer"])
def test_after_deletion_nothing_in_redis_holds_the_visitor_or_the_customer(tmp_path, any_redis_url, how):
    redis = redis_client(any_redis_url)
    with TestClient(_app(tmp_path, SITE + WEBHOOKS, kind="redis", redis_url=any_redis_url)) as client:
        _, visitor = a_visitor_with_everything(client)
        code = api(client, "GET", f"visitors/{visitor}").json()["coupons"]["vip"]["code"]
        needles = (visitor.encode(), CUSTOMER.encode())
        before = [key for key in all_keys(redis) if visitor.encode() in key]
        assert len(before) >= 4, before  # state, feed, chat record, the chat's rate limit: the check can see them
        deliveries = [key for key in all_keys(redis) if b":delivery:" in key]
        assert any(visitor.encode() in value for key in deliveries for value in _values(redis, key))
        assert any(CUSTOMER.encode() in value for key in all_keys(redis) for value in _values(redis, key))

        path = f"visitors/{visitor}" if how == "visitor" else f"customers/{CUSTOMER}"
        assert api(client, "DELETE", path).status_code == 200

        for key in all_keys(redis):
            assert not any(needle in key for needle in needles), key
            for value in _values(redis, key):
                assert not any(needle in value for needle in needles), (key, value[:200])
        # The code a deleted visitor had is still never handed out or redeemed twice.
        redeem = {"site": "shop", "code": code}
        headers = {"authorization": f"Bearer {SITE_SECRET}"}
        assert client.post("/v1/coupons/redeem", content=json.dumps(redeem), headers=headers).status_code == 200
        assert client.post("/v1/coupons/redeem", content=json.dumps(redeem), headers=headers).status_code == 409
