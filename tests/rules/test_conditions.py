"""Conditions under `when:` (server/rules/conditions.py), compiled from YAML and tested on a fixed clock.

Each condition looks at the visitor's stored state, the current event and the time, in the
site's timezone whatever the server's clock says. A window (`within: 7d`) holds the last 7
days: what happened exactly 7 days ago is out, a second later is in. Hours may run past midnight (the early part belongs to the
day they started); `until` includes its whole day. Client signals hold from their threshold
on; time on site is measured by the server from the session's start. `sample` puts a stable
share of visitors in, and `not: {sample}` exactly the others.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from server.config import load_config
from server.rules.facts import Facts
from server.visitor import CustomEvent, PathViews, SessionRecord, VisitorState
from tests.helpers import SHOP, write_site

TOKYO = ZoneInfo("Asia/Tokyo")
SITE = f"""\
origins: [{SHOP}]
timezone: Asia/Tokyo
business_hours: {{days: [mon, tue, wed, thu, fri], from: "09:00", to: "18:00"}}
"""
DAY, HOUR, MINUTE = 86400, 3600, 60


def tokyo(*args) -> float:
    return datetime(*args, tzinfo=TOKYO).timestamp()


def utc(*args) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


NOW = tokyo(2026, 6, 3, 12, 0)  # a Wednesday, noon in Tokyo


def session(number=1, start=NOW - 10 * MINUTE, last=NOW, referrer="", utm=None, paths=()) -> SessionRecord:
    return SessionRecord(
        number, int(start), int(last), paths[0] if paths else "", referrer, dict(utm or {}), list(paths)
    )


def visitor(sessions: list[SessionRecord] | None = None, **fields) -> VisitorState:
    log = [session()] if sessions is None else sessions
    return VisitorState(sessions=fields.pop("count", len(log)), session_log=log, **fields)


@pytest.fixture
def holds(tmp_path):
    """holds(when, state, ...): whether the condition `when` (YAML) holds for that visitor now."""

    def holds(
        when: str,
        state: VisitorState | None = None,
        *,
        now: float = NOW,
        path: str = "/",
        event: str | None = None,
        properties: dict | None = None,
        signals: dict | None = None,
        visitor_id: str = "visitor-1",
        site: str = SITE,
    ) -> bool:
        write_site(
            tmp_path, "shop", site, **{"rules.yaml": f"rules:\n  - id: r\n    when: {when}\n    show: {{chat: hi}}\n"}
        )
        config, problems = load_config(tmp_path)
        assert config is not None, problems.lines()
        facts = Facts(
            state or visitor(),
            now,
            path,
            config.sites["shop"],
            visitor_id,
            event=event,
            properties=properties,
            signals=signals,
        )
        return config.rules["shop"].by_id["r"].when.test(facts)

    return holds


# Page and event


def test_page_matches_the_current_path(holds):
    assert holds("{page: /pricing}", path="/pricing")
    assert not holds("{page: /pricing}", path="/pricing/team")
    assert holds("{page: /products/*}", path="/products/tops/shirt")
    assert holds("{page: [/cart, /checkout*]}", path="/checkout/done")
    assert holds(r"{page: 're:/products/\d+'}", path="/products/12")
    assert not holds(r"{page: 're:/products/\d+'}", path="/products/12/reviews")


def test_event_matches_the_current_custom_event(holds):
    assert holds("{event: add_to_cart}", event="add_to_cart")
    assert holds("{event: [signup, add_to_cart]}", event="add_to_cart")
    assert not holds("{event: add_to_cart}", event="signup")
    assert not holds("{event: add_to_cart}")  # a page view is no custom event


# Counting page views, sessions and events


def test_page_views_count_every_view_of_matching_paths(holds):
    state = visitor(
        page_views={
            "/products/1": PathViews(2, [int(NOW) - 60, int(NOW) - 30]),
            "/products/2": PathViews(1, [int(NOW) - 10]),
            "/about": PathViews(5, [int(NOW)] * 5),
        }
    )
    assert holds("{page_views: {page: /products/*, at_least: 3}}", state)
    assert not holds("{page_views: {page: /products/*, at_least: 4}}", state)
    assert holds("{page_views: {at_least: 8}}", state)  # without a page: every page
    assert holds("{page_views: {page: /products/*, at_most: 3}}", state)
    assert not holds("{page_views: {page: /about, at_most: 4}}", state)
    assert holds("{page_views: {page: /cart, at_most: 0}}", state)  # never viewed


def test_page_views_keep_counting_beyond_the_remembered_times(holds):
    state = visitor(page_views={"/pricing": PathViews(120, [int(NOW) - i for i in range(50)])})
    assert holds("{page_views: {page: /pricing, at_least: 100}}", state)


def test_page_views_within_exclude_a_view_exactly_at_the_window_edge(holds):
    edge = int(NOW) - 7 * DAY
    state = visitor(page_views={"/pricing": PathViews(3, [edge, edge + 1, int(NOW)])})
    assert holds("{page_views: {page: /pricing, at_least: 2, within: 7d}}", state)
    assert not holds("{page_views: {page: /pricing, at_least: 3, within: 7d}}", state)
    assert holds("{page_views: {page: /pricing, at_least: 3, within: 7d}}", state, now=NOW - 1)
    assert not holds("{page_views: {page: /pricing, at_least: 2, within: 7d}}", state, now=NOW + 1)


def test_sessions_count_visits(holds):
    first_time = visitor()
    third_visit = visitor([session(1, NOW - 3 * DAY, NOW - 3 * DAY), session(2, NOW - DAY, NOW - DAY), session(3)])
    assert not holds("{sessions: {at_least: 2}}", first_time)
    assert holds("{sessions: {at_least: 3}}", third_visit)
    assert holds("{sessions: {at_least: 60}}", visitor(count=60))  # the count outlives the kept records


def test_sessions_with_a_page_count_visits_that_viewed_it(holds):
    state = visitor(
        [
            session(1, NOW - 2 * DAY, NOW - 2 * DAY, paths=["/", "/pricing"]),
            session(2, NOW - DAY, NOW - DAY, paths=["/"]),
            session(3, paths=["/pricing/team"]),
        ]
    )
    assert holds("{sessions: {page: /pricing*, at_least: 2}}", state)
    assert not holds("{sessions: {page: /pricing, at_least: 2}}", state)


def test_sessions_within_count_visits_active_after_the_window_edge(holds):
    edge = NOW - 7 * DAY
    state = visitor([session(1, edge - HOUR, edge), session(2, edge - HOUR, edge + 1), session(3)])
    assert holds("{sessions: {at_least: 2, within: 7d}}", state)
    assert not holds("{sessions: {at_least: 3, within: 7d}}", state)  # the first ended exactly at the edge
    assert holds("{sessions: {at_least: 3, within: 7d}}", state, now=NOW - 1)


def test_events_count_a_custom_event(holds):
    state = visitor(
        event_counts={"add_to_cart": 3, "signup": 1},
        recent_events=[CustomEvent(int(NOW) - i, "add_to_cart", {}) for i in range(3)],
    )
    assert holds("{events: {name: add_to_cart, at_least: 3}}", state)
    assert not holds("{events: {name: add_to_cart, at_least: 4}}", state)
    assert holds("{events: {name: purchase, at_most: 0}}", state)


def test_event_totals_outlive_the_events_kept_with_their_properties(holds):
    state = visitor(
        event_counts={"add_to_cart": 250}, recent_events=[CustomEvent(int(NOW), "add_to_cart", {}) for _ in range(200)]
    )
    assert holds("{events: {name: add_to_cart, at_least: 250}}", state)


def test_events_where_count_only_events_whose_properties_match(holds):
    state = visitor(
        event_counts={"add_to_cart": 3},
        recent_events=[
            CustomEvent(int(NOW) - 30, "add_to_cart", {"category": "tops", "price": 4900}),
            CustomEvent(int(NOW) - 20, "add_to_cart", {"category": "tops", "price": 12800}),
            CustomEvent(int(NOW) - 10, "add_to_cart", {"category": "shoes", "price": 9800}),
        ],
    )
    assert holds("{events: {name: add_to_cart, where: {category: tops}, at_least: 2}}", state)
    assert not holds("{events: {name: add_to_cart, where: {category: tops, price: {gte: 5000}}, at_least: 2}}", state)
    assert holds("{events: {name: add_to_cart, where: {price: {gte: 5000}}, at_least: 2}}", state)
    assert holds("{events: {name: add_to_cart, where: {category: [tops, shoes]}, at_least: 3}}", state)
    assert not holds("{events: {name: add_to_cart, where: {size: m}, at_least: 1}}", state)  # no such property


def test_events_within_exclude_an_event_exactly_at_the_window_edge(holds):
    edge = int(NOW) - HOUR
    state = visitor(
        event_counts={"add_to_cart": 3},
        recent_events=[
            CustomEvent(edge, "add_to_cart", {}),
            CustomEvent(edge + 1, "add_to_cart", {}),
            CustomEvent(int(NOW), "add_to_cart", {}),
        ],
    )
    assert holds("{events: {name: add_to_cart, within: 1h, at_least: 2}}", state)
    assert not holds("{events: {name: add_to_cart, within: 1h, at_least: 3}}", state)
    assert holds("{events: {name: add_to_cart, within: 1h, at_least: 3}}", state, now=NOW - 1)


# Who the visitor is


@pytest.mark.parametrize(
    "when, expected",
    [
        ("{visitor: {plan: gold}}", True),
        ("{visitor: {plan: [gold, silver]}}", True),
        ("{visitor: {cart_value: {gte: 5000}}}", True),
        ("{visitor: {cart_value: {gte: 5000, lt: 10000}}}", False),
        ("{visitor: {member: true}}", True),
        ("{visitor: {member: 1}}", False),  # true is not 1
        ("{visitor: {points: 1}}", True),
        ("{visitor: {points: true}}", False),
        ("{visitor: {tags: {contains: vip}}}", True),
        ("{visitor: {plan: {in: [bronze, silver]}}}", False),
        ("{visitor: {plan: {ne: bronze}}}", True),
        ("{visitor: {plan: gold, member: true}}", True),  # all must hold
        ("{visitor: {plan: gold, member: false}}", False),
        # Missing attributes: equal to nothing, so only `ne` and `exists: false` hold.
        ("{visitor: {coupon_used: true}}", False),
        ("{visitor: {coupon_used: {ne: true}}}", True),
        ("{visitor: {coupon_used: {exists: false}}}", True),
        ("{visitor: {coupon_used: {exists: true}}}", False),
        ("{visitor: {plan: {exists: true}}}", True),
        ("{visitor: {age: {lt: 30}}}", False),
        ("{visitor: {age: {gte: 0}}}", False),
    ],
)
def test_visitor_attributes(holds, when, expected):
    state = visitor(
        attributes={"plan": "gold", "cart_value": 12800, "member": True, "points": 1, "tags": ["vip", "new"]}
    )
    assert holds(when, state) is expected


@pytest.mark.parametrize(
    "when, proven, unproven, anonymous",
    [
        ("{visitor: {verified: true}}", True, False, False),
        ("{visitor: {verified: false}}", False, True, True),
        ("{visitor: {verified: true, name: 花子}}", True, False, False),  # and the attributes' tests
        ("{visitor: {verified: true, name: 太郎}}", False, False, False),
        ("{not: {visitor: {verified: true}}}", False, True, True),
    ],
)
def test_visitor_verified_follows_whether_the_shops_server_proved_the_identity(
    holds, when, proven, unproven, anonymous
):
    """`verified` is not an attribute: it is what identify's hash or JWT proved (server.tracking)."""
    assert holds(when, visitor(customer="C-1", verified=True, attributes={"name": "花子"})) is proven
    assert holds(when, visitor(customer="C-1", attributes={"name": "花子", "verified": True})) is unproven
    assert holds(when, visitor()) is anonymous


def test_properties_look_at_the_current_custom_event_only(holds):
    earlier = visitor(recent_events=[CustomEvent(int(NOW), "add_to_cart", {"category": "tops"})])
    when = "{event: add_to_cart, properties: {category: tops, price: {gte: 5000}}}"
    assert holds(when, earlier, event="add_to_cart", properties={"category": "tops", "price": 12800})
    assert not holds(when, earlier, event="add_to_cart", properties={"category": "tops", "price": 900})
    assert not holds(when, earlier, event="add_to_cart", properties={"category": "tops"})  # price missing
    assert not holds(when, earlier)  # on a page view: no event and no properties, whatever came before


def test_returning_means_a_second_session_or_later(holds):
    first = visitor()
    again = visitor([session(1, NOW - DAY, NOW - DAY), session(2)])
    assert holds("{returning: false}", first) and not holds("{returning: true}", first)
    assert holds("{returning: true}", again) and not holds("{returning: false}", again)


def test_device(holds):
    assert holds("{device: mobile}", visitor(device="mobile"))
    assert holds("{device: [mobile, tablet]}", visitor(device="tablet"))
    assert not holds("{device: [mobile, tablet]}", visitor(device="desktop"))
    assert not holds("{device: mobile}", visitor(device=""))  # unknown is no device


@pytest.mark.parametrize(
    "when, language, expected",
    [
        ("{language: ja}", "ja", True),
        ("{language: ja}", "ja-jp", True),
        ("{language: ja}", "jav", False),  # a prefix of the tag, not of the text
        ("{language: ja}", "en-us", False),
        ("{language: en-US}", "en-us", True),
        ("{language: en-US}", "en-gb", False),
        ("{language: en-US}", "en", False),
        ("{language: [ja, en]}", "en-gb", True),
        ("{language: ja}", "", False),
    ],
)
def test_language_matches_the_tag_and_its_subtags(holds, when, language, expected):
    assert holds(when, visitor(language=language)) is expected


def test_referrer_is_the_current_session_referrer(holds):
    from_google = visitor([session(referrer="https://www.google.co.jp/search?q=tshirt")])
    assert holds("{referrer: '*google.*'}", from_google)
    assert not holds("{referrer: '*yahoo.*'}", from_google)
    came_back_directly = visitor([session(1, NOW - DAY, NOW - DAY, referrer="https://www.google.com/"), session(2)])
    assert not holds("{referrer: '*google.*'}", came_back_directly)
    assert not holds("{referrer: '*'}", visitor([]))  # no session yet


def test_utm_tags_of_the_current_session(holds):
    state = visitor([session(utm={"source": "line", "campaign": "spring_sale"})])
    assert holds("{utm: {source: line}}", state)
    assert holds("{utm: {source: LINE, campaign: 'spring*'}}", state)  # tags ignore case
    assert not holds("{utm: {source: line, campaign: 'autumn*'}}", state)
    assert not holds("{utm: {medium: '*'}}", state)  # a tag that is not there matches nothing


# Time, in the site's timezone


@pytest.fixture
def server_clock_in(monkeypatch):
    """Run with the server process in another timezone: only the site's may matter."""

    def server_clock_in(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()

    yield server_clock_in
    monkeypatch.undo()
    time.tzset()


MONDAY_MORNING = "{hours: {days: [mon], from: '09:00', to: '18:00'}}"


def test_hours_are_in_the_site_timezone_not_the_server_clock(holds, server_clock_in):
    server_clock_in("UTC")
    # 09:00 on Monday in Tokyo is Sunday 24:00 (Monday 00:00) in UTC.
    assert tokyo(2026, 6, 1, 9, 0) == utc(2026, 6, 1, 0, 0)
    assert holds(MONDAY_MORNING, now=utc(2026, 6, 1, 0, 0))
    assert not holds(MONDAY_MORNING, now=utc(2026, 5, 31, 23, 59))  # 08:59 Monday in Tokyo
    assert holds(MONDAY_MORNING, now=utc(2026, 6, 1, 8, 59))  # 17:59 in Tokyo
    assert not holds(MONDAY_MORNING, now=utc(2026, 6, 1, 9, 0))  # 18:00 in Tokyo: `to` is excluded


def test_the_day_of_week_is_the_site_day(holds, server_clock_in):
    server_clock_in("America/Los_Angeles")
    sunday_in_utc_monday_in_tokyo = utc(2026, 5, 31, 20, 0)  # Monday 05:00 in Tokyo
    assert holds("{hours: {days: [mon], from: '00:00', to: '09:00'}}", now=sunday_in_utc_monday_in_tokyo)
    assert not holds("{hours: {days: [sun], from: '00:00', to: '24:00'}}", now=sunday_in_utc_monday_in_tokyo)


def test_hours_in_another_site_timezone(holds, server_clock_in):
    server_clock_in("Asia/Tokyo")
    london = SITE.replace("Asia/Tokyo", "Europe/London")
    # 09:00 in London in June (BST) is 08:00 UTC, 17:00 in Tokyo.
    assert holds(MONDAY_MORNING, now=utc(2026, 6, 1, 8, 0), site=london)
    assert not holds(MONDAY_MORNING, now=utc(2026, 6, 1, 7, 59), site=london)


@pytest.mark.parametrize(
    "moment, expected",
    [
        ((2026, 6, 5, 22, 0), True),  # Friday 22:00
        ((2026, 6, 5, 23, 59), True),
        ((2026, 6, 6, 0, 0), True),  # Saturday 00:00 still belongs to Friday night
        ((2026, 6, 6, 1, 59), True),
        ((2026, 6, 6, 2, 0), False),
        ((2026, 6, 5, 1, 0), False),  # Friday 01:00 belongs to Thursday night
        ((2026, 6, 5, 21, 59), False),
        ((2026, 6, 6, 22, 30), False),  # Saturday night is not listed
    ],
)
def test_hours_past_midnight_belong_to_the_day_they_start(holds, moment, expected):
    assert holds("{hours: {days: [fri], from: '22:00', to: '02:00'}}", now=tokyo(*moment)) is expected


def test_hours_past_sunday_midnight_continue_into_monday(holds):
    assert holds("{hours: {days: [sun], from: '22:00', to: '02:00'}}", now=tokyo(2026, 6, 8, 1, 0))  # Monday 01:00
    assert not holds(
        "{hours: {days: [sun], from: '22:00', to: '02:00'}}", now=tokyo(2026, 6, 7, 1, 0)
    )  # Sunday 01:00: Saturday night


def test_hours_to_midnight_and_every_day_by_default(holds):
    assert holds("{hours: {from: '18:00', to: '24:00'}}", now=tokyo(2026, 6, 7, 23, 59))
    assert not holds("{hours: {from: '18:00', to: '24:00'}}", now=tokyo(2026, 6, 7, 17, 59))


def test_hours_written_without_quotes_are_taken_as_meant(holds):
    # YAML reads an unquoted 09:00 as the number 540.
    assert holds("{hours: {from: 09:00, to: 18:00}}", now=tokyo(2026, 6, 3, 9, 0))
    assert not holds("{hours: {from: 09:00, to: 18:00}}", now=tokyo(2026, 6, 3, 8, 59))


@pytest.mark.parametrize(
    "moment, expected",
    [
        ((2026, 6, 5, 9, 0), True),  # Friday
        ((2026, 6, 5, 17, 59), True),
        ((2026, 6, 5, 18, 0), False),
        ((2026, 6, 6, 10, 0), False),  # Saturday
    ],
)
def test_hours_business_uses_the_site_business_hours(holds, moment, expected):
    assert holds("{hours: business}", now=tokyo(*moment)) is expected


@pytest.mark.parametrize(
    "moment, expected",
    [
        (tokyo(2026, 11, 30, 23, 59, 59), False),
        (tokyo(2026, 12, 1, 0, 0), True),
        (utc(2026, 11, 30, 15, 0), True),  # Dec 1st 00:00 in Tokyo, still Nov 30th in UTC
        (tokyo(2026, 12, 25, 23, 59, 59), True),  # `until` includes its whole day
        (tokyo(2026, 12, 26, 0, 0), False),
        (utc(2026, 12, 25, 15, 0), False),  # still Dec 25th in UTC, already the 26th in Tokyo
    ],
)
def test_dates_from_and_until_are_whole_days_in_the_site_timezone(holds, moment, expected):
    assert holds("{dates: {from: 2026-12-01, until: 2026-12-25}}", now=moment) is expected


def test_dates_with_times_end_at_that_time(holds):
    when = "{dates: {from: '2026-12-24 18:00', until: '2026-12-25 12:00'}}"
    assert not holds(when, now=tokyo(2026, 12, 24, 17, 59))
    assert holds(when, now=tokyo(2026, 12, 24, 18, 0))
    assert holds(when, now=tokyo(2026, 12, 25, 11, 59))
    assert not holds(when, now=tokyo(2026, 12, 25, 12, 0))


def test_dates_with_only_one_end(holds):
    assert holds("{dates: {from: 2026-12-01}}", now=tokyo(2030, 1, 1))
    assert holds("{dates: {until: 2026-12-25}}", now=tokyo(2020, 1, 1))


def test_a_quoted_until_date_also_includes_its_whole_day(holds):
    # `until: "2026-12-25"` and `until: 2026-12-25` mean the same to a marketer.
    assert holds("{dates: {until: '2026-12-25'}}", now=tokyo(2026, 12, 25, 12, 0))


def test_a_date_time_with_an_offset_is_that_moment(holds):
    # 2026-12-25T00:00:00Z is 09:00 on the 25th in Tokyo: the offset written is not ignored.
    when = "{dates: {until: 2026-12-25T00:00:00Z}}"
    assert holds(when, now=tokyo(2026, 12, 25, 8, 59))
    assert not holds(when, now=tokyo(2026, 12, 25, 9, 0))


def test_dates_at_the_ends_of_the_calendar_mean_forever(holds):
    """Found by fuzzing rule files: `until: 9999-12-31` (a marketer's "forever") made the checker
    and the server die with OverflowError computing the day after it."""
    assert holds("{dates: {from: 0001-01-01, until: 9999-12-31}}", now=tokyo(2026, 12, 25))
    assert holds("{dates: {until: '9999-12-31T23:00:00-05:00'}}", now=tokyo(2026, 12, 25))
    assert not holds("{dates: {from: '0001-01-01T00:00:00+14:00', until: 2000-01-01}}", now=tokyo(2026, 12, 25))


# Client signals and time on site


@pytest.mark.parametrize(
    "when, signals, expected",
    [
        ("{time_on_page: 30s}", {"time_on_page": 30}, True),
        ("{time_on_page: 30s}", {"time_on_page": 29.9}, False),
        ("{time_on_page: 30s}", {}, False),
        ("{time_on_page: 1m}", {"time_on_page": 61}, True),
        ("{scroll: 50%}", {"scroll": 50}, True),
        ("{scroll: 50%}", {"scroll": 49}, False),
        ("{scroll: 75}", {"scroll": 80}, True),
        ("{exit_intent: true}", {"exit_intent": 1}, True),
        ("{exit_intent: true}", {"scroll": 100}, False),
        ("{idle: 20s}", {"idle": 20}, True),
        ("{idle: 20s}", {"idle": 19}, False),
        ("{time_on_page: 30s, scroll: 50%}", {"time_on_page": 40, "scroll": 60}, True),
        ("{time_on_page: 30s, scroll: 50%}", {"time_on_page": 40, "scroll": 10}, False),
    ],
)
def test_client_signals_hold_from_their_threshold(holds, when, signals, expected):
    assert holds(when, signals=signals) is expected


def test_time_on_site_is_measured_from_the_session_start_by_the_server(holds):
    started = visitor([session(start=NOW - 90, last=NOW)])
    assert holds("{time_on_site: 90s}", started)
    assert not holds("{time_on_site: 91s}", started)
    assert not holds("{time_on_site: 91s}", started, signals={"time_on_site": 600})  # the widget only wakes us
    assert not holds("{time_on_site: 1s}", visitor([]))


def test_a_previous_session_does_not_count_as_time_on_site(holds):
    state = visitor([session(1, NOW - DAY, NOW - DAY + HOUR), session(2, start=NOW - 5, last=NOW)])
    assert not holds("{time_on_site: 1m}", state)


# Sample


def test_sample_is_stable_for_a_visitor(holds):
    first = [holds("{sample: 50%}", visitor_id=f"visitor-{n}") for n in range(20)]
    later = [holds("{sample: 50%}", visitor_id=f"visitor-{n}", now=NOW + 30 * DAY, path="/other") for n in range(20)]
    assert first == later and True in first and False in first


def test_sample_and_not_sample_split_visitors_in_two(tmp_path):
    write_site(
        tmp_path,
        "shop",
        SITE,
        **{
            "rules.yaml": """\
        rules:
          - {id: a, when: {sample: 30%}, show: {chat: A}}
          - {id: b, when: {not: {sample: 30%}}, show: {chat: B}}
        """
        },
    )
    config, _ = load_config(tmp_path)
    rules = config.rules["shop"].by_id
    in_a = 0
    for n in range(2000):
        facts = Facts(visitor(), NOW, "/", config.sites["shop"], f"visitor-{n}")
        a, b = rules["a"].when.test(facts), rules["b"].when.test(facts)
        assert a != b  # each visitor is in exactly one half
        in_a += a
    assert 0.25 < in_a / 2000 < 0.35


def test_sample_of_nobody_and_everybody(holds):
    assert not any(holds("{sample: 0%}", visitor_id=f"v{n}") for n in range(50))
    assert all(holds("{sample: 100%}", visitor_id=f"v{n}") for n in range(50))


def test_a_larger_sample_keeps_the_visitors_of_a_smaller_one(holds):
    # Raising a rollout from 10% to 50% only adds visitors; nobody is taken out.
    for n in range(200):
        if holds("{sample: 10%}", visitor_id=f"v{n}"):
            assert holds("{sample: 50%}", visitor_id=f"v{n}")


# Combining conditions


def test_all_any_and_not_nest(holds):
    when = "{any: [{page: /sale}, {all: [{page: /pricing}, {returning: true}]}], not: {device: mobile}}"
    returning_desktop = visitor([session(1, NOW - DAY, NOW - DAY), session(2)], device="desktop")
    first_desktop = visitor(device="desktop")
    assert holds(when, returning_desktop, path="/pricing")
    assert not holds(when, first_desktop, path="/pricing")
    assert holds(when, first_desktop, path="/sale")
    assert not holds(when, visitor(device="mobile"), path="/sale")


def test_not_of_several_conditions_holds_unless_all_of_them_hold(holds):
    when = "{not: {page: /cart, device: mobile}}"
    assert not holds(when, visitor(device="mobile"), path="/cart")
    assert holds(when, visitor(device="desktop"), path="/cart")
    assert holds(when, visitor(device="mobile"), path="/")


def test_conditions_side_by_side_must_all_hold(holds):
    when = "{page: /cart, visitor: {cart_value: {gte: 5000}}, device: desktop}"
    assert holds(when, visitor(device="desktop", attributes={"cart_value": 5000}), path="/cart")
    assert not holds(when, visitor(device="desktop", attributes={"cart_value": 4999}), path="/cart")


def test_no_conditions_always_hold(holds):
    assert holds("{}")
