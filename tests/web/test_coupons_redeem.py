"""POST /v1/coupons/redeem, against both stores (in-memory and a real redis-server).

The shop's backend redeems a code a visitor got from a coupon rule: 200 "redeemed" once,
409 after that; a shared code is verified ("shared"), never used up; a code nobody was
given is 404. Only a caller with the site's secret (IRASSHAI_SITE_SECRETS, sent as a Bearer
token) gets an answer: 401 otherwise, with the same body whether the site exists or not and
whether it has a secret or not (so the answers do not reveal which sites have one); the
server log says when a site has no secret. Bad bodies are 400, big ones 413, every error is
one line, and there are no CORS headers: browsers have no business here.
"""

from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.config import load_config
from server.settings import Settings, SettingsError, load
from server.store.redis import RedisStore
from tests.conftest import free_port
from tests.helpers import SECRET, SHOP, SITE_YAML, batch, make_app, page_view, post, write_site

SHOP_SECRET = "shop-redeem-secret-0123456789"
GHOST_SECRET = "ghost-redeem-secret-0123456789"  # configured for a site that has no rules folder
SITE_SECRETS = f"shop={SHOP_SECRET},ghost={GHOST_SECRET}"

COUPON_SITE = (
    SITE_YAML
    + """\
coupons:
  spring10:
    code: SPRING10
  welcome:
    codes_file: welcome-codes.txt
  vip:
    generate: {prefix: VIP-, length: 8}
"""
)
COUPON_RULES = """\
rules:
  - id: welcome-offer
    when: {page: /welcome}
    show: {coupon: {pool: welcome, text: "{{ coupon.code }}"}}
  - id: vip-offer
    when: {page: /vip}
    show: {coupon: {pool: vip, text: "{{ coupon.code }}"}}
"""


def write_sites(rules_dir):
    write_site(
        rules_dir,
        "shop",
        COUPON_SITE,
        **{"rules.yaml": COUPON_RULES, "welcome-codes.txt": "WELCOME-AAA111\nWELCOME-BBB222\n"},
    )
    write_site(rules_dir, "other")  # a site without a secret


@pytest.fixture(params=["memory", "redis"])
def client(request, tmp_path):
    write_sites(tmp_path)
    redis_url = request.getfixturevalue("redis_url") if request.param == "redis" else ""
    with TestClient(make_app(tmp_path, request.param, redis_url, site_secrets=SITE_SECRETS)) as client:
        yield client


def code_from_rule(client, path: str) -> str:
    """A new visitor views `path`; the coupon rule there gives them a code."""
    reply = post(client, batch(page_view(path))).json()
    return reply["show"]["code"]


def redeem(client, body, secret: str | None = SHOP_SECRET, **headers):
    if secret is not None:
        headers["authorization"] = f"Bearer {secret}"
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post("/v1/coupons/redeem", content=content, headers={"content-type": "application/json", **headers})


def assert_error(response, status: int, *words: str) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert "\n" not in error and all(word in error for word in words), error
    return error


def test_a_code_a_visitor_got_is_redeemed_once(client):
    code = code_from_rule(client, "/welcome")
    assert code in ("WELCOME-AAA111", "WELCOME-BBB222")
    response = redeem(client, {"site": "shop", "code": code})
    assert response.status_code == 200
    assert response.json() == {"status": "redeemed", "code": code, "pool": "welcome"}
    assert_error(redeem(client, {"site": "shop", "code": code}), 409, code, "already redeemed")


def test_a_generated_code_is_redeemed_once(client):
    code = code_from_rule(client, "/vip")
    assert redeem(client, {"site": "shop", "code": code}).json() == {"status": "redeemed", "code": code, "pool": "vip"}
    assert redeem(client, {"site": "shop", "code": code}).status_code == 409


def test_a_shared_code_is_verified_not_used_up(client):
    for _ in range(2):
        response = redeem(client, {"site": "shop", "code": "SPRING10"})
        assert response.status_code == 200
        assert response.json() == {"status": "shared", "code": "SPRING10", "pool": "spring10"}


@pytest.mark.parametrize("code", ["NOPE-123", "WELCOME-AAA111", "spring10"])
def test_a_code_nobody_was_given_is_404(client, code):
    # WELCOME-AAA111 is in the codes file but no visitor got it; codes match exactly.
    assert_error(redeem(client, {"site": "shop", "code": code}), 404, "unknown code", code)


@pytest.mark.parametrize(
    "secret, headers",
    [
        (None, {}),
        ("wrong-secret-0123456789", {}),
        (GHOST_SECRET, {}),  # another site's secret
        (None, {"authorization": SHOP_SECRET}),  # no scheme
        (None, {"authorization": f"Basic {SHOP_SECRET}"}),
    ],
)
def test_a_missing_or_wrong_secret_is_401_and_redeems_nothing(client, secret, headers):
    code = code_from_rule(client, "/welcome")
    response = redeem(client, {"site": "shop", "code": code}, secret, **headers)
    assert_error(response, 401, "Authorization: Bearer")
    assert response.headers["www-authenticate"] == "Bearer"
    assert redeem(client, {"site": "shop", "code": code}).status_code == 200  # still there to redeem


def test_the_401_is_the_same_whether_the_site_exists_or_not(client):
    existing = redeem(client, {"site": "shop", "code": "X-123"}, "wrong-secret-0123456789")
    missing = redeem(client, {"site": "ghost", "code": "X-123"}, "wrong-secret-0123456789")
    assert existing.status_code == missing.status_code == 401
    assert existing.json() == missing.json()


def test_with_the_secret_an_unknown_site_is_404(client):
    assert_error(redeem(client, {"site": "ghost", "code": "X-123"}, GHOST_SECRET), 404, "unknown site 'ghost'")


@pytest.mark.parametrize("site", ["other", "nope"])  # a site without a secret, and no site at all
def test_a_site_without_a_secret_gets_the_same_401_as_a_wrong_secret(client, site, caplog):
    caplog.set_level("INFO")
    wrong = redeem(client, {"site": "shop", "code": "SPRING10"}, "wrong-secret-0123456789")
    for secret in ("wrong-secret-0123456789", None):
        response = redeem(client, {"site": site, "code": "SPRING10"}, secret)
        assert_error(response, 401, "Authorization: Bearer", "IRASSHAI_SITE_SECRETS")
        assert response.json() == wrong.json() and response.headers["www-authenticate"] == "Bearer"
    assert f"site '{site}': it has no secret in IRASSHAI_SITE_SECRETS" in caplog.text  # the operator can tell


def test_with_no_secrets_configured_every_site_is_401(tmp_path):
    write_sites(tmp_path)
    with TestClient(make_app(tmp_path)) as client:
        assert_error(redeem(client, {"site": "shop", "code": "SPRING10"}), 401, "IRASSHAI_SITE_SECRETS")


@pytest.mark.parametrize(
    "body, words",
    [
        (b"{not json", ["not valid JSON"]),
        (b"", ["not valid JSON"]),
        (b"[]", ["Expected `object`"]),
        (b'{"site": "shop"}', ["missing required field `code`"]),
        (b'{"site": "shop", "code": 123}', ["Expected `str`", "$.code"]),
        (b'{"site": "shop", "code": ""}', ["$.code"]),
        (b'{"site": "shop", "code": "SPRING10", "visitor": "x"}', ["unknown field `visitor`"]),
    ],
)
def test_a_bad_body_is_400_with_one_line(client, body, words):
    assert_error(redeem(client, body), 400, *words)


def test_a_body_over_4_kb_is_413(client):
    body = json.dumps({"site": "shop", "code": "SPRING10", "pad": "x" * 4096}).encode()
    assert_error(redeem(client, body), 413, "4096")
    streamed = client.post(
        "/v1/coupons/redeem",
        content=iter([body[:3000], body[3000:]]),
        headers={"authorization": f"Bearer {SHOP_SECRET}"},
    )
    assert streamed.status_code == 413


def test_there_is_no_cors_for_browsers(client):
    response = redeem(client, {"site": "shop", "code": "SPRING10"}, origin=SHOP)
    assert response.status_code == 200 and "access-control-allow-origin" not in response.headers
    preflight = client.options("/v1/coupons/redeem", headers={"origin": SHOP, "access-control-request-method": "POST"})
    assert preflight.status_code == 405 and "access-control-allow-origin" not in preflight.headers


def test_secrets_never_reach_the_log(client, caplog):
    caplog.set_level("DEBUG")
    code = code_from_rule(client, "/welcome")
    redeem(client, {"site": "shop", "code": code})
    redeem(client, {"site": "shop", "code": code}, "wrong-secret-0123456789")
    assert caplog.records and SHOP_SECRET not in caplog.text and "wrong-secret" not in caplog.text


def test_an_unreachable_store_is_503(tmp_path):
    write_sites(tmp_path)
    config, _ = load_config(tmp_path)
    store = RedisStore(f"redis://127.0.0.1:{free_port()}/0")
    app = create_app(Settings(secret_key=SECRET, site_secrets=SITE_SECRETS), config=config, store=store, reload=False)
    with TestClient(app) as client:
        response = redeem(client, {"site": "shop", "code": "WELCOME-AAA111"})
    assert_error(response, 503, "retry later")
    assert response.headers["retry-after"] == "5"


# The secrets come from IRASSHAI_SITE_SECRETS (tests/test_settings.py covers the other settings).


def test_site_secrets_are_read_as_site_equals_secret_pairs():
    settings = load({"IRASSHAI_SITE_SECRETS": f" shop={SHOP_SECRET} , ghost={GHOST_SECRET}=, "})
    assert settings.secrets_by_site() == {"shop": SHOP_SECRET, "ghost": GHOST_SECRET + "="}
    assert load(settings.to_env()) == settings
    assert load({}).secrets_by_site() == {}


@pytest.mark.parametrize(
    "value, expected",
    [
        ("shop-redeem-secret-0123456789", "entry 1 without '='"),
        (f"shop={SHOP_SECRET},Shop-Redeem-Secret-0123456789=shop", "entry 2 that does not start with a site key"),
        (f"shop={SHOP_SECRET},shop={GHOST_SECRET}", "entries 1 and 2 for the same site"),
        ("shop=short-secret", "entry 1 with a secret shorter than 16 characters"),
    ],
)
def test_a_bad_site_secrets_value_is_one_line_that_never_shows_a_secret(value, expected):
    with pytest.raises(SettingsError) as error:
        load({"IRASSHAI_SITE_SECRETS": value})
    message = str(error.value)
    assert message.startswith("setting IRASSHAI_SITE_SECRETS has ") and expected in message
    assert "expected site=secret,site2=secret2" in message and "\n" not in message
    assert "secret-0123456789" not in message and "short-secret" not in message
