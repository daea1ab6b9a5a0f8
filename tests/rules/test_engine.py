"""The rule index, decisions, limits and watches (server/rules/engine.py), for one visitor on a fixed clock.

Each event looks only at the rules it can affect: a custom event at rules naming it (or
naming events under any/not), a page view at rules whose top-level page matches and that wait
for no client signal, a client signal at rules mentioning it. Of the rules that hold, the
highest priority shows, ties going to the rule written first. A rule shows once per session
unless its limit says otherwise; `per_visitor` counts across sessions within its window; a
dismissed engagement stays away for the rest of that session; and after any engagement the
site's engagement_gap passes before the next. A rule whose conditions fail never shows.
The widget is asked to watch only the signals of rules that could still fire on that page.
"""

from __future__ import annotations

import itertools
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from server.config import load_config
from server.engage import triggers_of
from server.events import Feedback, PageView, SetAttributes, Signal, Track
from server.rules.engine import RuleSet, Trigger, claim
from server.tracking import RequestFacts, apply
from server.visitor import VisitorState
from tests.helpers import SHOP, write_site

NOW = datetime(2026, 6, 3, 12, 0, tzinfo=ZoneInfo("Asia/Tokyo")).timestamp()  # Wednesday noon in Tokyo
SESSION_TIMEOUT = 30 * 60
DAY = 86400
SITE = f"""\
origins: [{SHOP}]
timezone: Asia/Tokyo
engagement_gap: 0s
"""
_ids = itertools.count()


def event_id() -> str:
    return f"engine-{next(_ids):08d}"


@pytest.fixture
def ruleset(tmp_path):
    """ruleset(rules_yaml, site=SITE, **more_files): the site's compiled RuleSet."""

    def ruleset(text: str, site: str = SITE, **files: str) -> RuleSet:
        write_site(tmp_path, "shop", site, **{"rules.yaml": text}, **files)
        config, problems = load_config(tmp_path)
        assert config is not None, problems.lines()
        return config.rules["shop"]

    return ruleset


class Visitor:
    """One visitor's browser on a fixed clock: its events go through tracking, then the rules.

    Each method sends one batch and returns the id of the rule shown for it (claimed like the
    server claims it), or None.
    """

    def __init__(self, rules: RuleSet, visitor_id: str = "visitor-1", now: float = NOW, device: str = "desktop"):
        self.rules, self.id, self.now, self.device = rules, visitor_id, now, device
        self.state = VisitorState()

    def send(self, *events) -> str | None:
        applied = apply(self.state, list(events), self.now, RequestFacts(self.device, "ja"), SESSION_TIMEOUT)
        best = self.rules.decide(self.state, triggers_of(applied.new), self.now, self.id)
        if best is None:
            return None
        claim(self.state, best[0], self.now)
        return best[0].id

    def ms(self) -> int:
        return int(self.now * 1000)

    def view(self, path: str) -> str | None:
        return self.send(self.page_view(path))

    def page_view(self, path: str) -> PageView:
        return PageView(id=event_id(), ts=self.ms(), url=SHOP + path)

    def track(self, name: str, path: str = "/", **properties) -> str | None:
        return self.send(Track(id=event_id(), ts=self.ms(), name=name, properties=properties, url=SHOP + path))

    def signal(self, name: str, value: float, path: str, **reached: float) -> str | None:
        return self.send(
            Signal(id=event_id(), ts=self.ms(), signal=name, value=value, url=SHOP + path, reached=reached)
        )

    def set(self, **attributes) -> str | None:
        return self.send(SetAttributes(id=event_id(), ts=self.ms(), attributes=attributes))

    def dismiss(self, rule: str) -> None:
        assert self.send(Feedback(id=event_id(), ts=self.ms(), rule=rule, action="dismissed")) is None

    def wait(self, seconds: float) -> None:
        self.now += seconds

    def watch(self, path: str) -> dict[str, list[float]]:
        return self.rules.watch(self.state, path, self.now, self.id)


def ids(rules) -> list[str]:
    return [rule.id for rule in rules]


# The index


INDEXED = """\
rules:
  - {id: home, when: {page: /}, show: {chat: a}}
  - {id: pricing, when: {page: /pricing*}, show: {chat: a}}
  - {id: anywhere, when: {returning: true}, show: {chat: a}}
  - {id: cart-event, when: {event: add_to_cart}, show: {chat: a}}
  - {id: cart-event-on-cart, when: {event: add_to_cart, page: /cart}, show: {chat: a}}
  - {id: signup-event, when: {event: [signup, login]}, show: {chat: a}}
  - {id: nested-event, when: {any: [{event: add_to_cart}, {page: /sale}]}, show: {chat: a}}
  - {id: scroll-pricing, when: {page: /pricing, scroll: 50%}, show: {chat: a}}
  - {id: exit-anywhere, when: {exit_intent: true}, show: {chat: a}}
  - {id: long-visit, when: {time_on_site: 5m}, show: {chat: a}}
"""


def test_a_custom_event_looks_only_at_rules_naming_it_or_naming_events_inside_any_or_not(ruleset):
    rules = ruleset(INDEXED)
    assert ids(rules.candidates_for(Trigger("track", "/cart", "add_to_cart"))) == [
        "cart-event",
        "cart-event-on-cart",
        "nested-event",
    ]
    assert ids(rules.candidates_for(Trigger("track", "/", "add_to_cart"))) == ["cart-event", "nested-event"]
    assert ids(rules.candidates_for(Trigger("track", "/", "login"))) == ["signup-event", "nested-event"]
    assert ids(rules.candidates_for(Trigger("track", "/", "newsletter"))) == ["nested-event"]


def test_a_page_view_looks_only_at_page_rules_whose_page_matches(ruleset):
    rules = ruleset(INDEXED)
    assert ids(rules.candidates_for(Trigger("page_view", "/pricing/team"))) == [
        "pricing",
        "anywhere",
        "nested-event",
        "long-visit",
    ]
    assert ids(rules.candidates_for(Trigger("page_view", "/"))) == ["home", "anywhere", "nested-event", "long-visit"]


def test_a_signal_looks_only_at_rules_mentioning_it_on_that_page(ruleset):
    rules = ruleset(INDEXED)
    assert ids(rules.candidates_for(Trigger("signal", "/pricing", "scroll"))) == ["scroll-pricing"]
    assert ids(rules.candidates_for(Trigger("signal", "/about", "scroll"))) == []
    assert ids(rules.candidates_for(Trigger("signal", "/about", "exit_intent"))) == ["exit-anywhere"]
    assert ids(rules.candidates_for(Trigger("signal", "/about", "time_on_site"))) == ["long-visit"]


def test_a_page_rule_does_not_fire_on_a_custom_event_and_an_event_rule_not_on_a_page_view(ruleset):
    rules = ruleset("""\
        rules:
          - {id: everywhere, show: {chat: a}}
          - {id: signed-up, when: {event: signup}, show: {chat: b}}
        """)
    visitor = Visitor(rules)
    assert visitor.track("signup") == "signed-up"
    other = Visitor(rules, "visitor-2")
    assert other.track("newsletter") is None
    assert other.view("/") == "everywhere"
    assert other.view("/signup") is None  # everywhere: once per session; signed-up: no event


def test_an_event_under_all_is_indexed_like_a_top_level_event(ruleset):
    rules = ruleset("rules:\n  - {id: r, when: {all: [{event: signup}, {returning: true}]}, show: {chat: a}}\n")
    assert ids(rules.candidates_for(Trigger("track", "/", "signup"))) == ["r"]
    assert ids(rules.candidates_for(Trigger("track", "/", "login"))) == []
    assert ids(rules.candidates_for(Trigger("page_view", "/"))) == []
    visitor = Visitor(rules)
    visitor.view("/")
    visitor.wait(SESSION_TIMEOUT + 1)
    assert visitor.view("/") is None
    assert visitor.track("signup") == "r"


def test_an_event_rule_with_a_page_fires_only_on_that_page(ruleset):
    rules = ruleset("rules:\n  - {id: r, when: {event: add_to_cart, page: /cart}, show: {chat: a}}\n")
    visitor = Visitor(rules)
    assert visitor.track("add_to_cart", path="/products/1") is None
    assert visitor.track("add_to_cart", path="/cart") == "r"


def test_the_event_properties_are_those_of_the_event_that_triggered(ruleset):
    rules = ruleset(
        "rules:\n  - {id: big, when: {event: add_to_cart, properties: {price: {gte: 10000}}}, show: {chat: a}}\n"
    )
    visitor = Visitor(rules)
    assert visitor.track("add_to_cart", price=4900) is None
    assert visitor.track("add_to_cart", price=12800) == "big"


# Which rule wins


def test_the_highest_priority_wins(ruleset):
    rules = ruleset("""\
        rules:
          - {id: low, when: {page: /}, show: {chat: a}}
          - {id: high, priority: 10, when: {page: /}, show: {chat: b}}
          - {id: middle, priority: 5, show: {chat: c}}
        """)
    visitor = Visitor(rules)
    assert [visitor.view("/") for _ in range(4)] == ["high", "middle", "low", None]


def test_ties_go_to_the_rule_written_first_across_files(ruleset):
    rules = ruleset(
        "rules:\n  - {id: b-first, show: {chat: a}}\n  - {id: b-second, show: {chat: a}}\n",
        **{"a.yaml": "rules:\n  - {id: a-only, show: {chat: a}}\n"},
    )
    visitor = Visitor(rules)
    assert [visitor.view("/") for _ in range(3)] == ["a-only", "b-first", "b-second"]


def test_one_batch_shows_the_best_rule_of_all_its_events(ruleset):
    rules = ruleset("""\
        rules:
          - {id: on-page, priority: 1, when: {page: /cart}, show: {chat: a}}
          - {id: on-event, priority: 2, when: {event: add_to_cart}, show: {chat: b}}
        """)
    visitor = Visitor(rules)
    page = visitor.page_view("/cart")
    assert (
        visitor.send(page, Track(id=event_id(), ts=visitor.ms(), name="add_to_cart", url=SHOP + "/cart")) == "on-event"
    )


def test_a_batch_is_decided_on_the_state_after_all_its_events(ruleset):
    rules = ruleset(
        "rules:\n  - {id: big-cart, when: {page: /cart, visitor: {cart_value: {gte: 5000}}}, show: {chat: a}}\n"
    )
    visitor = Visitor(rules)
    page = visitor.page_view("/cart")
    assert (
        visitor.send(page, SetAttributes(id=event_id(), ts=visitor.ms(), attributes={"cart_value": 6000})) == "big-cart"
    )


# A rule that must not fire


def test_a_rule_whose_conditions_fail_never_shows(ruleset):
    rules = ruleset("""\
        rules:
          - id: never
            when: {page: /checkout, visitor: {member: true}, device: mobile}
            show: {chat: a}
            limit: {per_visitor: 100}
        """)
    visitor = Visitor(rules, device="desktop")
    visitor.set(member=True)
    shown = []
    for _day in range(3):
        for path in ("/", "/checkout", "/checkout/done", "/cart"):
            shown.append(visitor.view(path))
            shown.append(visitor.track("add_to_cart", path=path))
            shown.append(visitor.signal("scroll", 100, path))
            visitor.wait(60)
        visitor.wait(DAY)
    assert shown == [None] * len(shown)


# Limits


def test_by_default_a_rule_shows_once_per_session(ruleset):
    rules = ruleset("rules:\n  - {id: welcome, when: {page: /}, show: {chat: a}}\n")
    visitor = Visitor(rules)
    assert visitor.view("/") == "welcome"
    visitor.wait(SESSION_TIMEOUT)  # still the same session: not a second more than the timeout
    assert visitor.view("/") is None
    visitor.wait(SESSION_TIMEOUT + 1)
    assert visitor.view("/") == "welcome"  # a new session


def test_per_session_allows_n_per_session(ruleset):
    rules = ruleset("rules:\n  - {id: r, when: {page: /}, show: {chat: a}, limit: {per_session: 2}}\n")
    visitor = Visitor(rules)
    assert [visitor.view("/") for _ in range(3)] == ["r", "r", None]
    visitor.wait(SESSION_TIMEOUT + 1)
    assert [visitor.view("/") for _ in range(3)] == ["r", "r", None]


def test_per_visitor_counts_across_sessions(ruleset):
    rules = ruleset("rules:\n  - {id: r, when: {page: /}, show: {chat: a}, limit: {per_visitor: 2}}\n")
    visitor = Visitor(rules)
    shown = []
    for _ in range(4):
        shown.append(visitor.view("/"))
        visitor.wait(30 * DAY)
    assert shown == ["r", "r", None, None]


def test_per_visitor_alone_allows_more_than_once_per_session(ruleset):
    rules = ruleset("rules:\n  - {id: r, when: {page: /}, show: {chat: a}, limit: {per_visitor: 2}}\n")
    visitor = Visitor(rules)
    assert [visitor.view("/") for _ in range(3)] == ["r", "r", None]


def test_per_visitor_within_a_window_comes_back_once_the_window_has_passed(ruleset):
    rules = ruleset("rules:\n  - {id: r, when: {page: /}, show: {chat: a}, limit: {per_visitor: 1, within: 7d}}\n")
    visitor = Visitor(rules)
    assert visitor.view("/") == "r"
    visitor.wait(DAY)
    assert visitor.view("/") is None  # another session, still within the week
    visitor.wait(6 * DAY - 1)
    assert visitor.view("/") is None  # one second short of 7 days
    visitor.wait(1)
    assert visitor.view("/") == "r"  # exactly 7 days later the first showing is out of the window
    assert visitor.view("/") is None


def test_limits_are_per_rule(ruleset):
    rules = ruleset(
        "rules:\n  - {id: a, when: {page: /}, show: {chat: a}}\n  - {id: b, when: {page: /}, show: {chat: b}}\n"
    )
    visitor = Visitor(rules)
    assert [visitor.view("/") for _ in range(3)] == ["a", "b", None]


def test_limits_are_per_visitor(ruleset):
    rules = ruleset("rules:\n  - {id: r, when: {page: /}, show: {chat: a}, limit: {per_visitor: 1}}\n")
    assert Visitor(rules, "visitor-1").view("/") == "r"
    assert Visitor(rules, "visitor-2").view("/") == "r"


def test_a_dismissed_engagement_stays_away_for_the_session_but_comes_back_in_the_next(ruleset):
    rules = ruleset("rules:\n  - {id: r, when: {page: /}, show: {chat: a}, limit: {per_session: 3}}\n")
    visitor = Visitor(rules)
    assert visitor.view("/") == "r"
    visitor.dismiss("r")
    assert [visitor.view("/") for _ in range(3)] == [None, None, None]
    visitor.wait(SESSION_TIMEOUT + 1)
    assert visitor.view("/") == "r"


def test_dismissing_one_rule_does_not_silence_another(ruleset):
    rules = ruleset(
        "rules:\n  - {id: a, when: {page: /}, show: {chat: a}}\n  - {id: b, when: {page: /}, show: {chat: b}}\n"
    )
    visitor = Visitor(rules)
    assert visitor.view("/") == "a"
    visitor.dismiss("a")
    assert visitor.view("/") == "b"


def test_the_engagement_gap_separates_any_two_engagements(ruleset):
    site = SITE.replace("engagement_gap: 0s", "engagement_gap: 60s")
    rules = ruleset(
        "rules:\n  - {id: a, when: {page: /a}, show: {chat: a}}\n  - {id: b, when: {page: /b}, show: {chat: b}}\n", site
    )
    visitor = Visitor(rules)
    assert visitor.view("/a") == "a"
    visitor.wait(59)
    assert visitor.view("/b") is None
    visitor.wait(1)
    assert visitor.view("/b") == "b"


def test_the_default_engagement_gap_is_a_minute(ruleset):
    rules = ruleset("rules:\n  - {id: r, show: {chat: a}, limit: {per_session: 5}}\n", f"origins: [{SHOP}]\n")
    visitor = Visitor(rules)
    assert visitor.view("/") == "r"
    visitor.wait(59)
    assert visitor.view("/") is None
    visitor.wait(1)
    assert visitor.view("/") == "r"


def test_a_rule_held_back_by_its_limit_lets_the_next_one_show(ruleset):
    rules = ruleset("""\
        rules:
          - {id: first, priority: 9, when: {page: /}, show: {chat: a}, limit: {per_visitor: 1}}
          - {id: second, when: {page: /}, show: {chat: b}}
        """)
    visitor = Visitor(rules)
    assert visitor.view("/") == "first"
    assert visitor.view("/") == "second"


def test_decide_skips_excluded_rules(ruleset):
    rules = ruleset("rules:\n  - {id: a, priority: 2, show: {chat: a}}\n  - {id: b, priority: 1, show: {chat: b}}\n")
    state = VisitorState()
    triggers = [Trigger("page_view", "/")]
    assert rules.decide(state, triggers, NOW, "v")[0].id == "a"
    assert rules.decide(state, triggers, NOW, "v", frozenset({"a"}))[0].id == "b"
    assert rules.decide(state, triggers, NOW, "v", frozenset({"a", "b"})) is None


# Client signals


def test_a_signal_rule_fires_when_the_widget_reports_the_signal(ruleset):
    rules = ruleset(
        "rules:\n  - {id: reader, when: {page: /blog/*, time_on_page: 30s, scroll: 50%}, show: {chat: a}}\n"
    )
    visitor = Visitor(rules)
    assert visitor.view("/blog/1") is None
    assert visitor.signal("scroll", 60, "/blog/1") is None  # not yet 30 seconds
    visitor.wait(30)
    assert visitor.signal("time_on_page", 30, "/blog/1", scroll=60) == "reader"


def test_a_signal_from_another_page_does_not_fire_a_page_rule(ruleset):
    rules = ruleset("rules:\n  - {id: r, when: {page: /pricing, exit_intent: true}, show: {chat: a}}\n")
    visitor = Visitor(rules)
    assert visitor.signal("exit_intent", 1, "/about") is None
    assert visitor.signal("exit_intent", 1, "/pricing") == "r"


def test_time_on_site_fires_on_a_page_view_once_the_session_is_old_enough(ruleset):
    rules = ruleset("rules:\n  - {id: r, when: {time_on_site: 5m}, show: {chat: a}}\n")
    visitor = Visitor(rules)
    assert visitor.view("/") is None
    visitor.wait(299)
    assert visitor.view("/a") is None
    visitor.wait(1)
    assert visitor.view("/b") == "r"


def test_time_on_site_fires_on_the_widget_wake_up_whatever_it_reports(ruleset):
    rules = ruleset("rules:\n  - {id: r, when: {time_on_site: 5m}, show: {chat: a}}\n")
    visitor = Visitor(rules)
    assert visitor.view("/") is None
    assert visitor.signal("time_on_site", 300, "/") is None  # the server's clock says 0 seconds
    visitor.wait(300)
    assert visitor.signal("time_on_site", 0, "/") == "r"


def test_a_rule_waiting_for_no_exit_intent_can_fire(ruleset):
    # `exit_intent: false` is refused with the hint "write not: {exit_intent: true}"; a rule
    # written that way must then be able to fire, on the page view, before any exit intent.
    rules = ruleset("rules:\n  - {id: stay, when: {page: /pricing, not: {exit_intent: true}}, show: {chat: a}}\n")
    assert Visitor(rules).view("/pricing") == "stay"


def test_a_negated_signal_next_to_another_signal(ruleset):
    rules = ruleset("rules:\n  - {id: skimmer, when: {time_on_page: 30s, not: {scroll: 50%}}, show: {chat: a}}\n")
    for visitor_id, scroll, shown in (("visitor-1", 80, None), ("visitor-2", 20, "skimmer")):
        visitor = Visitor(rules, visitor_id)
        assert visitor.view("/") is None
        visitor.wait(30)
        assert visitor.signal("time_on_page", 30, "/", scroll=scroll) == shown


# Watching


WATCHED = """\
rules:
  - {id: pricing-reader, when: {page: /pricing, time_on_page: 30s}, show: {chat: a}}
  - {id: pricing-scroll, when: {page: /pricing*, scroll: 50%}, show: {chat: a}}
  - {id: pricing-deep, when: {page: /pricing*, scroll: 90%}, show: {chat: a}}
  - {id: mobile-exit, when: {device: mobile, exit_intent: true}, show: {chat: a}}
  - {id: plain, when: {page: /pricing}, show: {chat: a}}
"""


def test_watch_asks_for_the_signals_of_rules_that_could_fire_on_the_page(ruleset):
    visitor = Visitor(ruleset(WATCHED), device="desktop")
    visitor.view("/somewhere")
    assert visitor.watch("/pricing") == {"time_on_page": [30.0], "scroll": [50.0, 90.0]}
    assert visitor.watch("/pricing/team") == {"scroll": [50.0, 90.0]}
    assert visitor.watch("/about") == {}


def test_watch_leaves_out_rules_whose_other_conditions_do_not_hold(ruleset):
    rules = ruleset(WATCHED)
    desktop, phone = Visitor(rules, "v1", device="desktop"), Visitor(rules, "v2", device="mobile")
    desktop.view("/")
    phone.view("/")
    assert "exit_intent" not in desktop.watch("/")
    assert phone.watch("/") == {"exit_intent": [1.0]}


def test_watch_leaves_out_rules_whose_limit_is_used_up(ruleset):
    visitor = Visitor(ruleset(WATCHED))
    visitor.view("/")
    assert visitor.signal("scroll", 95, "/pricing") == "pricing-scroll"
    assert visitor.watch("/pricing") == {"time_on_page": [30.0], "scroll": [90.0]}
    assert visitor.signal("scroll", 95, "/pricing") == "pricing-deep"
    assert visitor.watch("/pricing") == {"time_on_page": [30.0]}


def test_watch_leaves_out_a_dismissed_rule_until_the_next_session(ruleset):
    visitor = Visitor(ruleset(WATCHED))
    visitor.view("/")
    visitor.wait(30)
    assert visitor.signal("time_on_page", 30, "/pricing") == "pricing-reader"
    visitor.dismiss("pricing-reader")
    assert "time_on_page" not in visitor.watch("/pricing")
    visitor.wait(SESSION_TIMEOUT + 1)
    visitor.view("/pricing")
    assert visitor.watch("/pricing")["time_on_page"] == [30.0]


def test_watch_of_time_on_site_is_the_time_remaining_in_the_session(ruleset):
    rules = ruleset("""\
        rules:
          - {id: five, when: {time_on_site: 5m}, show: {chat: a}}
          - {id: ten, when: {time_on_site: 10m, page: /cart}, show: {chat: a}}
        """)
    visitor = Visitor(rules)
    visitor.view("/")
    assert visitor.watch("/cart") == {"time_on_site": [300.0, 600.0]}
    visitor.wait(100)
    visitor.view("/cart")
    assert visitor.watch("/cart") == {"time_on_site": [200.0, 500.0]}
    assert visitor.watch("/") == {"time_on_site": [200.0]}


def test_watch_drops_time_on_site_once_it_has_passed(ruleset):
    visitor = Visitor(ruleset("rules:\n  - {id: r, when: {time_on_site: 1m}, show: {chat: a}}\n"))
    visitor.view("/")
    visitor.wait(59)
    assert visitor.watch("/") == {"time_on_site": [1.0]}
    visitor.wait(1)
    assert visitor.watch("/") == {}  # already true: the page view is evaluated with it


def test_watch_includes_signals_nested_under_any(ruleset):
    rules = ruleset("rules:\n  - {id: r, when: {any: [{scroll: 75%}, {idle: 20s}]}, show: {chat: a}}\n")
    visitor = Visitor(rules)
    visitor.view("/")
    assert visitor.watch("/") == {"scroll": [75.0], "idle": [20.0]}
    visitor.wait(20)
    assert visitor.signal("idle", 20, "/") == "r"


def test_watch_follows_the_visitor_as_conditions_start_to_hold(ruleset):
    rules = ruleset(
        "rules:\n  - {id: r, when: {visitor: {cart_value: {gte: 5000}}, exit_intent: true}, show: {chat: a}}\n"
    )
    visitor = Visitor(rules)
    visitor.view("/cart")
    assert visitor.watch("/cart") == {}
    visitor.set(cart_value=8000)
    assert visitor.watch("/cart") == {"exit_intent": [1.0]}


def test_nothing_to_watch_without_signal_rules(ruleset):
    visitor = Visitor(ruleset("rules:\n  - {id: r, when: {page: /}, show: {chat: a}}\n"))
    visitor.view("/")
    assert visitor.watch("/") == {}


def test_a_decision_is_claimed_with_its_page_cut_to_120_bytes_and_whether_it_was_held_out(ruleset):
    rules = ruleset("rules:\n  - {id: r, show: {chat: a}}\n")
    state = VisitorState(sessions=2)
    engagement = claim(state, rules.by_id["r"], NOW, "/" + "商品" * 100, held_out=True)
    assert state.engagements == [engagement]
    assert (engagement.ts, engagement.rule, engagement.session, engagement.held_out) == (int(NOW), "r", 2, True)
    assert engagement.page == "/" + "商品" * 19 + "商"  # 118 bytes: a whole character fits, half of one does not
    assert len(engagement.page.encode()) <= 120
