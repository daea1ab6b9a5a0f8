"""Generated batches, posted to POST /v1/sites/{site}/events of the real app (docs/snippet.md).

Contract, whatever the body: never a 5xx; a refusal (4xx) is one line of JSON naming what is
wrong, and the event at fault when one event is the cause; a refused batch leaves the known
visitor's stored state byte for byte as it was, and a batch for another visitor never touches
it. Batches are valid ones with any text in their texts, valid ones with one field mutated
(wrong type, missing, extra, huge or deeply nested), the same with their bytes mutated (invalid
UTF-8, cut, broken escapes), and anything at all. On the in-memory store and, fewer, on Redis.
"""

from __future__ import annotations

from contextlib import contextmanager

from hypothesis import given, note
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from server.identity import VisitorIds
from tests.fuzz.checks import check_answer
from tests.fuzz.wire import (
    ByteMutation,
    Mutated,
    any_json,
    byte_mutations,
    deep,
    encode,
    mutated_batches,
    scaled,
    valid_batches,
)
from tests.helpers import SECRET, make_app, page_view, post, write_site

SITE = """\
    name: ファズ
    origins: [https://shop.example]
    timezone: Asia/Tokyo
    language: ja
    engagement_gap: 0s
    coupons:
      ship: {generate: {prefix: S-, length: 6}, discount: 送料無料}
    goals:
      purchase: {event: purchase, value: value, within: 7d}
"""
# Rules that read every part of what a batch stores: titles, attributes, properties, UTM, referrers.
RULES = """\
    rules:
      - id: echo-title
        when: {page: "*"}
        show:
          message:
            title: "{{ page.title | default('-') }}"
            text: "{{ visitor.name | default('') }} {{ visitor.cart_value | default(0) }} {{ page.path }}"
      - id: from-line
        priority: 5
        when: {utm: {source: line}, referrer: "*google*"}
        show: {chat: "{{ visitor.language }} {{ visitor.device }}"}
      - id: cart-coupon
        priority: 9
        when:
          event: add_to_cart
          properties: {price: {gt: 100}}
          visitor: {cart_value: {gte: 1}}
        show: {coupon: {pool: ship, text: "{{ coupon.code }} {{ visitor.cart_value | yen }}"}}
        holdout: 10%
      - id: signals
        priority: 7
        when: {scroll: 50%, time_on_page: 10s}
        show: {message: {text: "{{ visitor.tags | default([]) | join(',') }}"}}
"""


@contextmanager
def fuzz_client(tmp_path, store: str = "memory", redis_url: str = ""):
    """The app on a site whose rules read everything, and a known visitor: (client, token, its id)."""
    write_site(tmp_path, site_yaml=SITE, **{"echo.yaml": RULES})
    # No new-visitor limit: generated batches without a token would otherwise get 429s after 60.
    app = make_app(tmp_path, store, redis_url, new_visitors_per_minute=0, new_visitors_per_hour=0)
    with TestClient(app) as client:
        reply = post(client, encode({"events": [page_view("/")]}))
        assert reply.status_code == 200, reply.text
        token = reply.json()["visitor"]
        yield client, token, VisitorIds(SECRET).verify("shop", token)


def stored_blob(client, visitor_id: str) -> bytes | None:
    return client.portal.call(client.app.state.services.store.load_visitor, "shop", visitor_id)[0]


def send(client, target: str, token: str, visitor_id: str, body: bytes) -> None:
    """Post `body` and check the answer and what it did to the known visitor's state."""
    note(f"body: {body[:2000]!r}")
    before = stored_blob(client, visitor_id)
    response = post(client, body)
    answer = check_answer(response, target, f"body {body[:300]!r}")
    after = stored_blob(client, visitor_id)
    if answer is not None:
        assert after == before, f"refused ({response.status_code} {answer}) but the visitor's state changed"
        if "event" in answer:  # the widget drops this one event and sends the others again
            assert type(answer["event"]) is int and 0 <= answer["event"] < 200, answer
            assert answer["error"].startswith(f"event {answer['event']}"), answer
        return
    reply = response.json()
    assert isinstance(reply["visitor"], str) and isinstance(reply["acked"], list), reply
    # (Not the token's text: itsdangerous reads a signature with stray characters in it, such
    # as a U+FFFD put in place of half a surrogate pair, as the signature without them.)
    if VisitorIds(SECRET).verify("shop", reply["visitor"]) != visitor_id:
        assert after == before, "a batch stored for another visitor changed the known visitor's state"


def _run(client, target: str, token, visitor_id, examples: int) -> None:
    @hypothesis_settings(max_examples=examples)
    @given(
        st.one_of(
            valid_batches().map(lambda b: Mutated(b, "valid")),
            mutated_batches(),
            mutated_batches(),
            st.one_of(any_json, deep).map(lambda b: Mutated(b, "anything")),
        ),
        st.booleans(),
    )
    def batches(mutated: Mutated, ascii_only: bool) -> None:
        note(mutated.what)
        body = encode(mutated.document, token, ascii_only)
        send(client, target, token, visitor_id, body)

    @hypothesis_settings(max_examples=max(5, examples // 3))
    @given(byte_mutations(), st.booleans())
    def bytes_mutated(mutation: ByteMutation, ascii_only: bool) -> None:
        send(client, target, token, visitor_id, mutation.body(token, ascii_only))

    batches()
    bytes_mutated()


def test_generated_batches_never_get_a_5xx_and_a_refusal_changes_nothing(tmp_path):
    with fuzz_client(tmp_path) as (client, token, visitor_id):
        _run(client, "POST /events (memory)", token, visitor_id, scaled(4))


def test_generated_batches_on_redis(tmp_path, redis_url):
    with fuzz_client(tmp_path, "redis", redis_url) as (client, token, visitor_id):
        _run(client, "POST /events (Redis)", token, visitor_id, scaled(1))
