"""Applying widget events to a visitor's state (server/tracking.py), on a fixed clock.

A session starts on the first event and after 30 minutes without activity; page views are
counted per path with their recent times (capped) and the least recently viewed paths are
forgotten first; each session remembers its landing page, referrer, UTM tags and the
distinct paths viewed; custom events are counted and the recent ones kept; attributes are
set, overwritten and deleted by null. Every part is capped by size as well as count: an event
that would take attributes, properties or event names past a cap is refused (422, naming the
event), long paths, referrers and UTM values are cut on a character boundary, and a session
lists distinct paths up to a total size. An event id is counted once however often
it is retried, until its id is forgotten; events older than a day are dropped; a clock in the
future is clamped to now; late events never rewrite the present. Feedback counts for the
last decision of its rule that was shown, never for a held-out one, each kind once.
"""

from __future__ import annotations

import itertools

import pytest

from server.events import BadBatch, Feedback, PageView, SetAttributes, Track
from server.tracking import (
    DEDUP_WINDOW,
    MAX_EVENT_AGE,
    RequestFacts,
    apply,
    split_url,
)
from server.visitor import (
    MAX_ATTRIBUTE_BYTES,
    MAX_ATTRIBUTES,
    MAX_EVENT_NAMES,
    MAX_PATHS,
    MAX_PROPERTIES_BYTES,
    MAX_RECENT_EVENTS,
    MAX_REFERRER_BYTES,
    MAX_SEEN_IDS,
    MAX_SESSION_PATHS,
    MAX_SESSION_PATHS_BYTES,
    MAX_SESSIONS,
    MAX_TITLE_CHARS,
    MAX_VIEWS_PER_PATH,
    Engagement,
    VisitorState,
    decode,
    encode,
)

T = 1_700_000_000  # "now" at the start of every test, in seconds
TIMEOUT = 30 * 60
SHOP = "https://shop.example"
_ids = itertools.count()


def new_id() -> str:
    return f"event-{next(_ids):06d}"


def view(path: str, at: float = T, referrer: str = "", id: str | None = None, title: str = "") -> PageView:
    return PageView(id=id or new_id(), ts=int(at * 1000), url=SHOP + path, referrer=referrer, title=title)


def track(name: str, at: float = T, **properties) -> Track:
    return Track(id=new_id(), ts=int(at * 1000), name=name, properties=properties)


def set_attributes(at: float = T, **attributes) -> SetAttributes:
    return SetAttributes(id=new_id(), ts=int(at * 1000), attributes=attributes)


NO_FACTS = RequestFacts()


def run(state: VisitorState, *events, now: float = T, facts: RequestFacts = NO_FACTS):
    return apply(state, list(events), now, facts, TIMEOUT)


# Sessions, first and last seen


def test_first_event_starts_the_first_session():
    state = VisitorState()
    run(state, view("/shoes?utm_source=line&utm_campaign=spring", referrer="https://search.example/"))
    assert state.sessions == 1
    assert state.first_seen == state.last_seen == T
    session = state.session
    assert (session.number, session.start, session.last) == (1, T, T)
    assert session.landing == "/shoes"
    assert session.referrer == "https://search.example/"
    assert session.utm == {"source": "line", "campaign": "spring"}
    assert session.paths == ["/shoes"]


def test_activity_within_the_timeout_stays_in_one_session():
    state = VisitorState()
    end = T + 600 + TIMEOUT  # exactly the timeout after the previous event
    run(state, view("/"), view("/a", at=T + 600), view("/b", at=end), now=end)
    assert state.sessions == 1
    assert state.session.last == end
    assert state.session.paths == ["/", "/a", "/b"]
    assert (state.first_seen, state.last_seen) == (T, end)


def test_a_new_session_starts_after_more_than_the_timeout_of_inactivity():
    state = VisitorState()
    run(state, view("/"))
    later = T + TIMEOUT + 1
    run(state, view("/sale?utm_medium=email", at=later, referrer="https://mail.example/"), now=later)
    assert state.sessions == 2
    first, second = state.session_log
    assert (first.start, first.last, first.landing) == (T, T, "/")
    assert (second.number, second.start, second.landing) == (2, later, "/sale")
    assert second.utm == {"medium": "email"} and second.referrer == "https://mail.example/"
    assert second.paths == ["/sale"]
    assert (state.first_seen, state.last_seen) == (T, later)


def test_the_timeout_is_the_one_passed_in():
    state = VisitorState()
    apply(state, [view("/"), view("/a", at=T + 120)], T + 120, RequestFacts(), session_timeout=60)
    assert state.sessions == 2


def test_utm_tags_come_from_the_landing_page_only():
    state = VisitorState()
    run(state, view("/"), view("/a?utm_source=banner", at=T + 10), now=T + 10)
    assert state.session.landing == "/" and state.session.utm == {}


def test_a_session_started_by_a_custom_event_has_no_landing_page():
    state = VisitorState()
    run(state, track("app_open"), view("/a", at=T + 5), now=T + 5)
    assert state.sessions == 1
    assert state.session.landing == "" and state.session.paths == ["/a"]


def test_session_records_are_capped_but_sessions_keep_counting():
    state = VisitorState()
    step = TIMEOUT + 1
    for n in range(MAX_SESSIONS + 5):
        run(state, view(f"/visit-{n}", at=T + n * step), now=T + n * step)
    assert state.sessions == MAX_SESSIONS + 5
    assert len(state.session_log) == MAX_SESSIONS
    assert state.session_log[0].number == 6
    assert state.session.number == MAX_SESSIONS + 5
    assert state.session.landing == f"/visit-{MAX_SESSIONS + 4}"


# Page views


def test_page_views_are_counted_per_path_with_their_times():
    state = VisitorState()
    run(state, view("/a"), view("/a?colour=red", at=T + 5), view("/b", at=T + 9), now=T + 9)
    assert state.page_views["/a"].total == 2
    assert state.page_views["/a"].recent == [T, T + 5]
    assert state.page_views["/b"].total == 1


def test_recent_view_times_are_capped_keeping_the_latest_while_the_total_keeps_counting():
    state = VisitorState()
    count = MAX_VIEWS_PER_PATH + 10
    run(state, *[view("/a", at=T + n) for n in range(count)], now=T + count)
    views = state.page_views["/a"]
    assert views.total == count
    assert views.recent == [T + n for n in range(10, count)]


def test_the_least_recently_viewed_path_is_forgotten_beyond_max_paths():
    state = VisitorState()
    run(state, *[view(f"/p{n}", at=T + n) for n in range(MAX_PATHS)], now=T + MAX_PATHS)
    run(state, view("/p0", at=T + MAX_PATHS + 1), now=T + MAX_PATHS + 1)  # /p1 is now the stalest
    run(state, view("/new", at=T + MAX_PATHS + 2), now=T + MAX_PATHS + 2)
    assert len(state.page_views) == MAX_PATHS
    assert "/p1" not in state.page_views
    assert state.page_views["/p0"].total == 2
    assert "/new" in state.page_views and "/p2" in state.page_views


def test_a_session_remembers_distinct_paths_in_the_order_viewed_up_to_a_cap():
    state = VisitorState()
    run(state, view("/a"), view("/b", at=T + 1), view("/a?x=1", at=T + 2), now=T + 2)
    assert state.session.paths == ["/a", "/b"]
    run(state, *[view(f"/more-{n}", at=T + 3 + n) for n in range(MAX_SESSION_PATHS)], now=T + 100)
    assert len(state.session.paths) == MAX_SESSION_PATHS
    assert state.session.paths[:3] == ["/a", "/b", "/more-0"]


# Custom events and attributes


def test_custom_events_are_counted_and_kept_with_their_properties():
    state = VisitorState()
    run(
        state,
        track("add_to_cart", price=4900),
        track("add_to_cart", at=T + 1, price=1200),
        track("search", at=T + 2, q="靴"),
        now=T + 2,
    )
    assert state.event_counts == {"add_to_cart": 2, "search": 1}
    assert [(e.ts, e.name, e.properties) for e in state.recent_events] == [
        (T, "add_to_cart", {"price": 4900}),
        (T + 1, "add_to_cart", {"price": 1200}),
        (T + 2, "search", {"q": "靴"}),
    ]


def test_recent_custom_events_are_capped_keeping_the_latest():
    state = VisitorState()
    count = MAX_RECENT_EVENTS + 3
    run(state, *[track("tick", at=T + n, n=n) for n in range(count)], now=T + count)
    assert state.event_counts["tick"] == count
    assert len(state.recent_events) == MAX_RECENT_EVENTS
    assert state.recent_events[0].properties == {"n": 3}
    assert state.recent_events[-1].properties == {"n": count - 1}


def test_attributes_are_set_overwritten_and_deleted_by_null():
    state = VisitorState()
    run(state, set_attributes(cart_value=4900, member=True))
    run(state, set_attributes(at=T + 1, cart_value=0, member=None, never_set=None), now=T + 1)
    assert state.attributes == {"cart_value": 0}


def refusal(state: VisitorState, *events, now: float = T) -> BadBatch:
    with pytest.raises(BadBatch) as caught:
        run(state, *events, now=now)
    assert caught.value.status == 422 and "\n" not in str(caught.value)
    return caught.value


def test_a_new_attribute_beyond_the_cap_is_refused_but_existing_ones_still_change():
    state = VisitorState()
    run(state, set_attributes(**{f"a{n}": n for n in range(MAX_ATTRIBUTES)}))
    extra = set_attributes(at=T + 1, extra=1, a0="changed")
    error = refusal(_copy(state), view("/"), extra, now=T + 1)  # the state is half-applied: a copy
    assert (error.event, error.event_id) == (1, extra.id)
    assert f"at most {MAX_ATTRIBUTES} are kept" in str(error)
    run(state, set_attributes(at=T + 1, a0="changed"), now=T + 1)
    assert state.attributes["a0"] == "changed"
    run(state, set_attributes(at=T + 2, a1=None), set_attributes(at=T + 3, extra=1), now=T + 3)
    assert state.attributes["extra"] == 1 and "a1" not in state.attributes and len(state.attributes) == MAX_ATTRIBUTES
    run(state, set_attributes(at=T + 4, a2=None, other=2), now=T + 4)  # deleting one makes room in the same call
    assert state.attributes["other"] == 2


def test_an_attribute_over_its_size_is_refused():
    fits = "x" * (MAX_ATTRIBUTE_BYTES - 3)  # MessagePack: a str of this length has a 3-byte header
    state = VisitorState()
    run(state, set_attributes(name=fits))
    error = refusal(state, set_attributes(at=T + 1, name=fits + "x"), now=T + 1)
    assert f"attribute 'name' is {MAX_ATTRIBUTE_BYTES + 1} bytes" in str(error)
    error = refusal(state, set_attributes(at=T + 1, items=["y" * 100] * 6), now=T + 1)
    assert "attribute 'items'" in str(error)
    assert state.attributes == {"name": fits}


def test_custom_event_properties_over_their_size_are_refused():
    state = VisitorState()
    run(state, track("note", text="x" * (MAX_PROPERTIES_BYTES - 20)))
    error = refusal(state, track("note", at=T + 1, text="x" * MAX_PROPERTIES_BYTES), now=T + 1)
    assert f"at most {MAX_PROPERTIES_BYTES} are kept per custom event" in str(error)
    assert state.event_counts == {"note": 1}


def test_a_new_event_name_beyond_the_cap_is_refused_known_ones_keep_counting():
    state = VisitorState()
    run(state, *[track(f"name{n}") for n in range(MAX_EVENT_NAMES)])
    error = refusal(_copy(state), track("one_more", at=T + 1), now=T + 1)
    assert "'one_more' is not counted" in str(error)
    run(state, track("name0", at=T + 1), now=T + 1)
    assert len(state.event_counts) == MAX_EVENT_NAMES and state.event_counts["name0"] == 2


def _copy(state: VisitorState) -> VisitorState:
    return decode(encode(state))


def test_signals_and_feedback_count_as_activity_but_change_no_profile_data():
    state = VisitorState()
    run(state, view("/"))
    later = T + TIMEOUT  # the feedback keeps the session alive for the next page view
    feedback = Feedback(id=new_id(), ts=later * 1000, rule="welcome", action="dismissed")
    applied = run(state, feedback, now=later)
    assert applied.new == [feedback]
    run(state, view("/a", at=later + 60), now=later + 60)
    assert state.sessions == 1
    assert state.event_counts == {} and state.attributes == {}


def test_device_and_language_are_recorded_from_a_batch_with_new_events():
    state = VisitorState()
    event = view("/")
    run(state, event, facts=RequestFacts(device="mobile", language="ja-jp"))
    assert (state.device, state.language) == ("mobile", "ja-jp")
    run(state, event, facts=RequestFacts(device="desktop", language="en"))  # a retry only
    assert (state.device, state.language) == ("mobile", "ja-jp")
    run(state, view("/a"), facts=RequestFacts())  # nothing reported: keep what we know
    assert (state.device, state.language) == ("mobile", "ja-jp")


# Retries and de-duplication


def test_an_event_sent_twice_is_counted_once():
    state = VisitorState()
    page, cart = view("/a"), track("add_to_cart")
    first = run(state, page, cart)
    retry = run(state, page, cart, view("/b", at=T + 1), now=T + 1)
    assert first.new == [page, cart] and first.duplicates == 0
    assert [e.url for e in retry.new] == [SHOP + "/b"] and retry.duplicates == 2
    assert state.page_views["/a"].total == 1 and state.event_counts == {"add_to_cart": 1}


def test_the_same_id_twice_in_one_batch_is_counted_once():
    state = VisitorState()
    applied = run(state, view("/a", id="same-id-01"), view("/a", id="same-id-01"))
    assert len(applied.new) == 1 and applied.duplicates == 1
    assert state.page_views["/a"].total == 1


def test_event_ids_are_remembered_for_the_dedup_window_then_forgotten():
    state = VisitorState()
    run(state, view("/a", id="retried-01"))
    edge = T + DEDUP_WINDOW
    assert run(state, view("/a", at=edge, id="retried-01"), now=edge).duplicates == 1
    after = edge + 1
    applied = run(state, view("/a", at=after, id="retried-01"), now=after)
    assert applied.duplicates == 0 and len(applied.new) == 1
    assert state.page_views["/a"].total == 2


def test_only_the_latest_event_ids_are_remembered():
    state = VisitorState()
    first = track("tick")
    run(state, first)
    run(state, *[track("tick", at=T + 1) for _ in range(MAX_SEEN_IDS)], now=T + 1)
    assert len(state.seen_ids) == MAX_SEEN_IDS
    assert first.id not in state.seen_ids


# Time: expired, future and late events


def test_events_older_than_the_max_age_are_dropped_and_counted_as_expired():
    state = VisitorState()
    old = view("/old", at=T - MAX_EVENT_AGE - 1)
    oldest_kept = view("/kept", at=T - MAX_EVENT_AGE)
    applied = run(state, old, oldest_kept)
    assert applied.expired == 1 and applied.new == [oldest_kept]
    assert "/old" not in state.page_views and "/kept" in state.page_views
    assert old.id not in state.seen_ids


def test_a_batch_of_only_expired_events_changes_nothing():
    state = VisitorState()
    applied = run(state, view("/old", at=T - MAX_EVENT_AGE - 60), facts=RequestFacts(device="mobile"))
    assert applied.new == [] and applied.expired == 1
    assert state == VisitorState()


def test_timestamps_in_the_future_are_clamped_to_now():
    state = VisitorState()
    run(state, view("/a", at=T + 3600))
    assert state.first_seen == state.last_seen == T
    assert state.page_views["/a"].recent == [T]
    assert state.session.start == T


def test_a_batch_is_applied_in_time_order_whatever_its_order():
    state = VisitorState()
    run(state, view("/b", at=T + 60), view("/a?utm_source=x"), now=T + 60)
    assert state.session.landing == "/a" and state.session.utm == {"source": "x"}
    assert state.session.paths == ["/a", "/b"]


def test_a_late_event_within_the_session_is_counted_without_moving_last_seen():
    state = VisitorState()
    run(state, view("/a"), view("/b", at=T + 300), now=T + 300)
    run(state, view("/a", at=T + 100), now=T + 310)
    assert state.sessions == 1 and state.last_seen == T + 300
    assert state.page_views["/a"].recent == [T, T + 100]


def test_a_late_event_from_an_earlier_session_does_not_join_the_current_one():
    state = VisitorState()
    run(state, view("/a"))
    later = T + 2 * 3600
    run(state, view("/b", at=later), now=later)
    # A tab that was offline delivers a page view from the first session.
    run(state, view("/old", at=T + 60), now=later + 10)
    assert state.sessions == 2
    assert state.last_seen == later
    assert state.page_views["/old"].total == 1
    assert state.session.paths == ["/b"]


def test_a_late_event_from_before_first_seen_moves_first_seen_back():
    state = VisitorState()
    run(state, view("/a"))
    run(state, view("/earlier", at=T - 600), now=T + 10)
    assert state.first_seen == T - 600
    assert state.last_seen == T
    assert state.sessions == 1


# URLs


def test_split_url_gives_the_path_without_query_and_the_utm_tags():
    path, utm = split_url(
        "https://shop.example/sale/shoes?utm_source=line&utm_medium=social"
        "&utm_campaign=spring&utm_term=sneakers&utm_content=banner&utm_other=x&page=2"
    )
    assert path == "/sale/shoes"
    assert utm == {"source": "line", "medium": "social", "campaign": "spring", "term": "sneakers", "content": "banner"}


def test_split_url_defaults_to_the_root_path_and_skips_empty_tags():
    assert split_url("https://shop.example") == ("/", {})
    assert split_url("https://shop.example/?utm_source=&utm_medium=%E3%83%A1%E3%83%BC%E3%83%AB") == (
        "/",
        {"medium": "メール"},
    )
    assert split_url("https://shop.example/a#utm_source=x") == ("/a", {})


def test_split_url_caps_long_paths_and_tag_values():
    path, utm = split_url(f"https://shop.example/{'p' * 1000}?utm_source={'s' * 500}")
    assert len(path) == 512 and len(utm["source"]) == 200


def test_split_url_caps_paths_and_tag_values_by_bytes_on_a_character_boundary():
    path, utm = split_url(f"https://shop.example/{'パ' * 1000}?utm_source={'ス' * 500}")
    assert path == "/" + "パ" * 170 and utm["source"] == "ス" * 66  # 511 and 198 bytes of UTF-8


def test_a_session_keeps_its_referrer_cut_and_lists_paths_up_to_a_total_size():
    state = VisitorState()
    long_path = "/" + "p" * 499
    run(
        state,
        view("/", referrer="https://ref.example/" + "r" * 2000),
        *[view(f"{long_path[:-2]}{n:02d}", at=T + n) for n in range(1, 10)],
        now=T + 10,
    )
    session = state.session_log[-1]
    assert len(session.referrer) == MAX_REFERRER_BYTES
    assert sum(len(p) for p in session.paths) <= MAX_SESSION_PATHS_BYTES and len(session.paths) == 1 + 4
    assert len(state.page_views) == 10  # every path is still counted


def test_a_page_keeps_the_title_of_its_last_view_cut_for_keeping():
    """Titles are what templates ({{ page.title }}) and operators show of a page."""
    state = VisitorState()
    run(state, view("/p/1", at=T, title="麻のシャツ | 布と日々"))
    run(state, view("/p/1", at=T + 5, title="Linen shirt " + "x" * 500))
    run(state, view("/p/1", at=T + 9))  # no title sent: keep the last one known
    assert state.page_views["/p/1"].title == ("Linen shirt " + "x" * 500)[:MAX_TITLE_CHARS]


def test_feedback_counts_for_the_last_shown_decision_of_its_rule_never_a_held_out_one():
    """The widget reports what it showed: a held-out decision (never shown) gets no feedback;
    an earlier shown one of the same rule still may, each kind once."""
    state = VisitorState()
    run(state, view("/"))
    shown = Engagement(T, "welcome", 1)
    state.engagements = [shown, Engagement(T + 100, "welcome", 1, held_out=True)]
    clicked = Feedback(id=new_id(), ts=(T + 120) * 1000, rule="welcome", action="clicked")
    applied = run(state, clicked, now=T + 120)
    assert applied.feedback == [(clicked, shown)]
    again = Feedback(id=new_id(), ts=(T + 121) * 1000, rule="welcome", action="clicked")
    assert run(state, again, now=T + 121).feedback == []
    state.engagements = [Engagement(T, "cart", 1, held_out=True)]
    dismissed = Feedback(id=new_id(), ts=(T + 130) * 1000, rule="cart", action="dismissed")
    assert run(state, dismissed, now=T + 130).feedback == []
    assert not state.engagements[0].dismissed  # nothing to dismiss: the limit stays as it was
