"""The console's visitor JSON (server/console/web/visitors_api.py, server/console/profile.py).

A signed-in operator of the site gets the live list, a visitor's panel (identity, pages and
when, sessions with landing, referrer and UTM, device, language, cart, engagements shown (or
held out: decided but not shown) and clicked, coupons received, earlier conversations) and the canned replies; without a session
401, another site 403, another site's visitor (or a made-up one) 404. The proactive message
POST needs the CSRF token (403 without), checks its text (400) and the visitor (404), and says
409 for a visitor already in a conversation (server/chat/proactive.py).
"""

from __future__ import annotations

import asyncio
import concurrent.futures

from starlette.testclient import TestClient

from server.chat.service import ChatService
from server.visitor import Engagement, PathViews, SessionRecord, VisitorState, encode
from tests.console.helpers import add_operator, console_app, sign_in

VISITOR = "v1sitorAAAAAAAAAAAAAAA"


def run(coroutine):
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def seed_visitor(app, store, clock, site="shop-a", visitor=VISITOR):
    now = int(clock.now)
    state = VisitorState(
        first_seen=now - 86400 * 3,
        last_seen=now - 20,
        sessions=2,
        device="mobile",
        language="ja",
        attributes={"cart_value": 12800, "member_rank": "gold"},
        customer="cust-42",
        verified=True,
        page_views={
            "/": PathViews(total=3, recent=[now - 86400 * 3, now - 200], title="Home"),
            "/products/linen-shirt": PathViews(total=1, recent=[now - 20], title="Linen shirt"),
        },
        session_log=[
            SessionRecord(
                number=1, start=now - 86400 * 3, last=now - 86400 * 3, landing="/", referrer="https://www.google.com/"
            ),
            SessionRecord(
                number=2,
                start=now - 300,
                last=now - 20,
                landing="/",
                referrer="https://instagram.com/",
                utm={"source": "instagram", "campaign": "spring"},
                paths=["/", "/products/linen-shirt"],
            ),
        ],
        engagements=[
            Engagement(ts=now - 100, rule="welcome", session=2, feedback=1 | 2),
            Engagement(ts=now - 50, rule="cart-coupon", session=2, held_out=True, converted=True, value=4800.0),
        ],
    )

    async def write():
        await store.save_visitor(site, visitor, encode(state), 0, 86400)
        sites = app.state.services.live.config.sites
        chat = ChatService(store, clock)
        await chat.say(sites[site], visitor, "client-msg-0001", "サイズを教えてください")

    run(write())


def signed_in_client(tmp_path):
    app, store, clock = console_app(tmp_path)
    add_operator(store, "shop-a", "a@example.com", "pw-a", name="Aiko")
    client = TestClient(app, base_url="http://testserver")
    assert sign_in(client, "a@example.com", "pw-a").status_code == 303
    return app, store, clock, client


def csrf(client) -> str:
    page = client.get("/console/sites/shop-a/visitors")
    return page.text.split('data-csrf="', 1)[1].split('"', 1)[0]


def test_the_panel_shows_what_an_operator_needs(tmp_path):
    app, store, clock, client = signed_in_client(tmp_path)
    seed_visitor(app, store, clock)
    answer = client.get(f"/console/api/sites/shop-a/visitors/{VISITOR}")
    assert answer.status_code == 200, answer.text
    panel = answer.json()
    assert (panel["customer"], panel["verified"], panel["online"]) == ("cust-42", True, True)
    assert (panel["page"], panel["title"]) == ("/products/linen-shirt", "Linen shirt")
    assert [page["path"] for page in panel["pages"]] == ["/products/linen-shirt", "/"]
    assert panel["pages"][1]["views"] == 3
    newest = panel["session_log"][0]
    assert newest["number"] == 2 and newest["referrer"] == "https://instagram.com/"
    assert newest["utm"] == {"source": "instagram", "campaign": "spring"} and newest["pages"] == 2
    assert (panel["device"], panel["language"], panel["sessions"]) == ("mobile", "ja", 2)
    assert panel["cart_value"] == 12800 and panel["attributes"]["member_rank"] == "gold"
    # Newest first; a held-out decision is marked as such, never as shown.
    assert panel["engagements"] == [
        {
            "rule": "cart-coupon",
            "ts": int(clock.now) - 50,
            "held_out": True,
            "clicked": False,
            "dismissed": False,
            "converted": True,
        },
        {
            "rule": "welcome",
            "ts": int(clock.now) - 100,
            "held_out": False,
            "clicked": True,
            "dismissed": False,
            "converted": False,
        },
    ]
    assert [c["id"] for c in panel["conversations"]] == [f"{VISITOR}.1"]
    assert panel["coupons"] == []


def test_an_unverified_identity_is_shown_as_such(tmp_path):
    app, store, clock, client = signed_in_client(tmp_path)
    seed_visitor(app, store, clock)
    run(_unverify(store))
    panel = client.get(f"/console/api/sites/shop-a/visitors/{VISITOR}").json()
    assert (panel["customer"], panel["verified"]) == ("cust-42", False)


async def _unverify(store):
    from server.visitor import decode

    blob, version = await store.load_visitor("shop-a", VISITOR)
    state = decode(blob)
    state.verified = False
    await store.save_visitor("shop-a", VISITOR, encode(state), version, 86400)


def test_coupons_received_are_listed(tmp_path):
    app, store, clock, client = signed_in_client(tmp_path)
    seed_visitor(app, store, clock)
    sites = app.state.services.live.config.sites
    sites["shop-a"].coupons.clear()  # the test site has no pools: give it one, in this test only
    from server.coupons.pools import CouponPool

    sites["shop-a"].coupons["spring10"] = CouponPool(name="spring10", kind="shared", code="SPRING10")
    run(store.claim_code("shop-a", "spring10", VISITOR, "shared", "SPRING10", 0))
    panel = client.get(f"/console/api/sites/shop-a/visitors/{VISITOR}").json()
    assert panel["coupons"] == [{"pool": "spring10", "code": "SPRING10", "expires_at": 0, "redeemed": 0}]


def test_without_a_session_the_api_answers_401(tmp_path):
    app, store, clock = console_app(tmp_path)
    client = TestClient(app, base_url="http://testserver")
    for path in (
        "/console/api/sites/shop-a/visitors",
        f"/console/api/sites/shop-a/visitors/{VISITOR}",
        "/console/api/sites/shop-a/replies",
    ):
        answer = client.get(path)
        assert answer.status_code == 401 and "not signed in" in answer.json()["error"]
    answer = client.post(f"/console/api/sites/shop-a/visitors/{VISITOR}/message", json={"text": "hi"})
    assert answer.status_code == 401


def test_another_sites_visitor_is_404_and_another_site_403(tmp_path):
    app, store, clock, client = signed_in_client(tmp_path)
    seed_visitor(app, store, clock, site="shop-b")
    answer = client.get(f"/console/api/sites/shop-a/visitors/{VISITOR}")
    assert answer.status_code == 404 and f"no visitor '{VISITOR}' on site 'shop-a'" in answer.json()["error"]
    assert client.get(f"/console/api/sites/shop-b/visitors/{VISITOR}").status_code == 403
    assert client.get("/console/api/sites/shop-b/visitors").status_code == 403
    assert client.get("/console/api/sites/shop-a/visitors/..%2Fetc").status_code == 404
    assert client.get("/console/api/sites/nowhere/visitors").status_code == 403


def test_the_live_list_and_the_replies(tmp_path):
    app, store, clock, client = signed_in_client(tmp_path)
    seed_visitor(app, store, clock)
    run(store.touch_live("shop-a", {VISITOR: clock.now - 20}))
    found = client.get("/console/api/sites/shop-a/visitors").json()["visitors"]
    assert [(v["visitor"], v["page"], v["name"], v["cart_value"]) for v in found] == [
        (VISITOR, "/products/linen-shirt", "cust-42", 12800)
    ]
    assert client.get("/console/api/sites/shop-a/replies").json() == {"language": "ja", "replies": []}


def test_the_message_post_needs_csrf_and_good_input_and_never_stacks_on_a_conversation(tmp_path):
    app, store, clock, client = signed_in_client(tmp_path)
    seed_visitor(app, store, clock)
    path = f"/console/api/sites/shop-a/visitors/{VISITOR}/message"
    answer = client.post(path, json={"text": "いらっしゃいませ"})
    assert answer.status_code == 403 and "CSRF" in answer.json()["error"]
    token = csrf(client)
    headers = {"X-CSRF-Token": token}
    assert client.post(path, json={"text": "  "}, headers=headers).status_code == 400
    assert client.post(path, content=b"{not json", headers=headers).status_code == 400
    assert client.post(path, json={"text": "x" * 2001}, headers=headers).status_code == 400
    other = "nobodyAAAAAAAAAAAAAAAA"
    assert (
        client.post(
            f"/console/api/sites/shop-a/visitors/{other}/message", json={"text": "hi"}, headers=headers
        ).status_code
        == 404
    )
    answer = client.post(path, json={"text": "いらっしゃいませ"}, headers=headers)
    # This visitor is already talking with the shop: the operator is told to write there instead.
    assert answer.status_code == 409 and "conversation in progress" in answer.json()["error"]
