"""`irasshai('identify', …)` in real headless Chromium, against a server on a real redis-server.

The widget sends the customer id, the attributes and the proof the shop's server computed;
a good hash makes the stored visitor verified. A wrong hash is refused: the browser's console
gets one warning line with the server's reason, and the events around it in the same batch
are stored all the same.
"""

from __future__ import annotations

import json

import pytest

from server.verified_identity import identity_hash
from tests.browser.shop import shop_app
from tests.browser.test_tracking import queued, read_profile, token_of, wait_for
from tests.conftest import free_port, live_server
from tests.helpers import make_app, write_site

pytestmark = pytest.mark.browser

SECRET = "shop-identity-secret-for-browser-tests"


@pytest.fixture
def shop_url(tmp_path, redis_url):
    shop_port, server_port = free_port(), free_port()
    shop_url, server_url = f"http://127.0.0.1:{shop_port}", f"http://127.0.0.1:{server_port}"
    write_site(tmp_path, site_yaml=f"origins: [{shop_url}]\ntimezone: Asia/Tokyo\n")
    server = make_app(tmp_path, "redis", redis_url, identity_secrets=f"shop={SECRET}")
    with live_server(shop_app(server_url), port=shop_port), live_server(server, port=server_port):
        yield shop_url


def identify_between_two_events(page, who: dict) -> None:
    page.evaluate(
        """(who) => {
          irasshai('track', 'before_identify');
          irasshai('identify', who);
          irasshai('track', 'after_identify');
        }""",
        who,
    )


def test_a_good_hash_from_the_shops_server_makes_the_visitor_verified(browser, shop_url, redis_url):
    page = browser.new_page()
    page.goto(shop_url + "/account")
    wait_for(lambda: token_of(page) and not queued(page), what="first batch acknowledged")
    identify_between_two_events(page, {"id": "C-1001", "name": "山田 花子", "hash": identity_hash(SECRET, "C-1001")})
    profile = wait_for(
        lambda: (p := read_profile(redis_url, "shop", token_of(page))) and p.verified and p,
        what="the visitor verified",
    )
    assert profile.customer == "C-1001"
    assert profile.attributes == {"plan": "pro", "name": "山田 花子"}  # id and hash are not attributes
    page.close()


def test_a_wrong_hash_is_one_console_warning_and_the_rest_of_the_batch_is_stored(browser, shop_url, redis_url):
    page = browser.new_page()
    warnings = []
    page.on("console", lambda message: warnings.append(message.text) if message.type == "warning" else None)
    page.goto(shop_url + "/account")
    wait_for(lambda: token_of(page) and not queued(page), what="first batch acknowledged")
    identify_between_two_events(page, {"id": "C-1001", "name": "偽者", "hash": identity_hash(SECRET, "C-9999")})
    profile = wait_for(
        lambda: (p := read_profile(redis_url, "shop", token_of(page))) and "after_identify" in p.event_counts and p,
        what="the events around the refused identify stored",
    )
    assert profile.event_counts == {"early_call": 1, "before_identify": 1, "after_identify": 1}
    assert (profile.customer, profile.verified, "name" in profile.attributes) == ("", False, False)
    wait_for(lambda: not queued(page), what="queue drained")
    refused = [w for w in warnings if "identify refused" in w]
    assert len(refused) == 1, json.dumps(warnings, ensure_ascii=False)
    assert refused[0].startswith("Irasshai: event ")
    assert refused[0].endswith(
        "identify refused: hash does not match id 'C-1001': "
        "expected the hex HMAC-SHA256 of the id with the site's identity secret"
    )
    page.close()
