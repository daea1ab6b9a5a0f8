"""Client signals are claims (server/signals.py): the server bounds them by its own clock.

A time on page or idle time beyond the time since that page's view reached the server (plus a
few seconds' tolerance) is clamped to it, in the value and in `reached`; so is time on site,
counted from when the session's first event arrived. Scroll depth and exit intent pass as sent.
Over HTTP, the outside probe's coupon drain (a page view plus a claimed `time_on_page` from
ever new visitors) gets no code, while a visitor who really stayed gets theirs.
"""

from __future__ import annotations

import time

import pytest
from starlette.testclient import TestClient

from server.events import PageView, Signal
from server.signals import TOLERANCE, on_site
from server.tracking import RequestFacts, apply
from server.visitor import VisitorState
from tests.helpers import SHOP, SITE_YAML, batch, event_id, make_app, page_view, post, write_site

T = 1_800_000_000.0


def view(path: str, at: float) -> PageView:
    return PageView(id=event_id(), ts=int(at * 1000), url=SHOP + path)


def signal(name: str, value: float, path: str, at: float, **reached: float) -> Signal:
    return Signal(id=event_id(), ts=int(at * 1000), signal=name, value=value, url=SHOP + path, reached=reached)


def applied(state: VisitorState, *events, now: float):
    return apply(state, list(events), now, RequestFacts(), 1800).new


def test_time_on_page_claimed_with_its_page_view_is_clamped_to_the_tolerance():
    new = applied(
        VisitorState(), view("/pricing", T), signal("time_on_page", 60, "/pricing", T, scroll=50, idle=40), now=T
    )
    assert new[1].value == TOLERANCE and new[1].reached == {"scroll": 50, "idle": TOLERANCE}


def test_time_on_page_is_taken_once_the_server_saw_that_much_time_pass():
    state = VisitorState()
    applied(state, view("/pricing", T), now=T)
    sent = signal("time_on_page", 30, "/pricing", T + 30)
    assert applied(state, sent, now=T + 30) == [sent]
    late = signal("idle", 60, "/pricing", T + 31)
    assert applied(state, late, now=T + 31)[0].value == 31 + TOLERANCE


def test_the_page_view_time_the_client_claims_does_not_count_its_arrival_does():
    state = VisitorState()
    applied(state, view("/pricing", T - 3600), now=T)  # backdated an hour
    assert applied(state, signal("time_on_page", 600, "/pricing", T), now=T)[0].value == TOLERANCE


def test_a_page_never_viewed_is_bounded_by_the_page_viewed_last_and_no_page_at_all_by_zero():
    state = VisitorState()
    assert applied(state, signal("time_on_page", 30, "/", T), now=T)[0].value == 0
    applied(state, view("/a", T), now=T)
    assert applied(state, signal("time_on_page", 30, "/b", T + 10), now=T + 10)[0].value == 10 + TOLERANCE


def test_scroll_and_exit_intent_pass_as_sent():
    sent = [signal("scroll", 90, "/", T), signal("exit_intent", 1, "/", T, scroll=90)]
    assert applied(VisitorState(), view("/", T), *sent, now=T)[1:] == sent


def test_time_on_site_counts_from_the_sessions_arrival_not_its_claimed_start():
    state = VisitorState()
    applied(state, view("/", T - 23 * 3600), now=T)  # a page view claiming the session began 23 h ago
    assert on_site(state.session, T) == TOLERANCE
    assert on_site(state.session, T + 100) == 100 + TOLERANCE


COUPON_SITE = (
    SITE_YAML
    + """\
coupons:
  welcome:
    codes_file: codes.txt
"""
)
READER_COUPON = """\
rules:
  - id: reader-coupon
    when: {time_on_page: 30s}
    show: {coupon: {pool: welcome, text: "{{ coupon.code }}"}}
"""


@pytest.fixture(params=["memory", "redis"])
def client(request, tmp_path):
    codes = "".join(f"CODE-{n:04d}\n" for n in range(20))
    write_site(tmp_path, "shop", COUPON_SITE, **{"rules.yaml": READER_COUPON, "codes.txt": codes})
    redis_url = request.getfixturevalue("redis_url") if request.param == "redis" else ""
    with TestClient(make_app(tmp_path, request.param, redis_url)) as client:
        yield client


def claimed_signal(path: str, seconds: float) -> dict:
    return {
        "type": "signal",
        "id": event_id(),
        "ts": int(time.time() * 1000),
        "signal": "time_on_page",
        "value": seconds,
        "url": SHOP + path,
    }


def test_the_probes_coupon_drain_gets_no_code_and_a_real_reader_gets_one(client):
    for _ in range(20):
        reply = post(client, batch(page_view("/"), claimed_signal("/", 60))).json()
        assert "show" not in reply
    token = post(client, batch(page_view("/article"))).json()["visitor"]
    client.app.state.services.ingest.clock = lambda: time.time() + 30  # 30 s later, by the server's clock
    reply = post(client, batch(claimed_signal("/article", 30), visitor=token)).json()
    assert reply["show"]["code"].startswith("CODE-")
