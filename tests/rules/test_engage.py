"""From a batch's events to what the widget shows (server/engage.py), with real coupon pools in memory.

The best rule that holds is rendered and claimed. If it cannot be shown (a text that does not
render for this visitor, a coupon pool with no code left) it is skipped with a warning in
the log, its limit is not used, and the next eligible rule shows instead. What is shown
carries the rule's id, the site's language and, for a coupon, the visitor's code, the
discount and the expiry date in the site's timezone. A batch with a page view also says which
client signals to watch on that page.
"""

from __future__ import annotations

import itertools
import logging
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from server.config import load_config
from server.coupons.issuer import StoreCoupons
from server.engage import MAX_TRIES, engage
from server.events import PageView, SetAttributes, Signal, Track
from server.rules.engine import RuleSet
from server.sites import Site
from server.store.memory import MemoryStore
from server.tracking import RequestFacts, apply
from server.visitor import VisitorState
from tests.helpers import SHOP, write_site

pytestmark = pytest.mark.anyio

# 08:00 on Wednesday in Tokyo is still Tuesday in UTC: dates shown must be Tokyo's.
NOW = datetime(2026, 6, 3, 8, 0, tzinfo=ZoneInfo("Asia/Tokyo")).timestamp()
SITE = f"""\
name: 布と日々
origins: [{SHOP}]
timezone: Asia/Tokyo
language: ja
engagement_gap: 0s
coupons:
  spring10: {{code: SPRING10, discount: 10%オフ, expires_after: 7d}}
  forever: {{code: THANKS}}
  solo: {{codes_file: solo.txt, discount: 送料無料}}
"""
_ids = itertools.count()


class Shop:
    """A site's rules and coupon pools, and visitors sending batches to them."""

    def __init__(self, config):
        self.site: Site = config.sites["shop"]
        self.rules: RuleSet = config.rules["shop"]
        self.coupons = StoreCoupons(MemoryStore(clock=lambda: NOW))
        self.states: dict[str, VisitorState] = {}

    async def send(self, visitor_id: str, *events, now: float = NOW, device: str = "desktop", language: str = "ja-jp"):
        state = self.states.setdefault(visitor_id, VisitorState())
        applied = apply(state, list(events), now, RequestFacts(device, language), 1800)
        return await engage(state, applied.new, self.rules, now, visitor_id, self.coupons)

    async def view(self, visitor_id: str, path: str, **options):
        return await self.send(visitor_id, page_view(path), **options)


def page_view(path: str) -> PageView:
    return PageView(id=f"engage-{next(_ids):08d}", ts=int(NOW * 1000), url=SHOP + path)


def set_attributes(**attributes) -> SetAttributes:
    return SetAttributes(id=f"engage-{next(_ids):08d}", ts=int(NOW * 1000), attributes=attributes)


@pytest.fixture
def shop(tmp_path):
    """shop(rules_yaml, site=SITE): a Shop whose pools are seeded, as at start-up."""

    async def shop(text: str, site: str = SITE, codes: str = "SOLO-ONLY-CODE\n") -> Shop:
        write_site(tmp_path, "shop", site, **{"rules.yaml": text, "solo.txt": codes})
        config, problems = load_config(tmp_path)
        assert config is not None, problems.lines()
        made = Shop(config)
        await made.coupons.seed(config.sites)
        return made

    return shop


# What is shown


async def test_the_show_names_the_rule_and_the_site_language(shop):
    made = await shop("rules:\n  - {id: welcome, when: {page: /}, show: {chat: いらっしゃいませ}}\n")
    outcome = await made.view("v1", "/")
    assert outcome.show == {
        "type": "chat",
        "text": "いらっしゃいませ",
        "rule": "welcome",
        "lang": "ja",
        "placement": "bottom-right",
    }
    assert outcome.rule.id == "welcome"


async def test_lang_is_the_site_language_not_the_visitor_language(shop):
    made = await shop(
        "rules:\n  - {id: welcome, show: {chat: Welcome}}\n", site=SITE.replace("language: ja", "language: en")
    )
    assert (await made.view("v1", "/", language="ja-jp")).show["lang"] == "en"


async def test_texts_see_the_visitor_the_page_and_the_site(shop):
    made = await shop("""\
        rules:
          - id: hello
            show: {message: {title: "{{ site.name }}", text: "{{ visitor.name }}さん {{ visitor.sessions }}回目 {{ page.path }} {{ visitor.device }} {{ visitor.language }} {{ visitor.returning }}"}}
        """)
    outcome = await made.send("v1", set_attributes(name="花子"), page_view("/cart"))
    assert outcome.show["title"] == "布と日々"
    assert outcome.show["text"] == "花子さん 1回目 /cart desktop ja-jp False"


@pytest.mark.parametrize(
    "language, hours, text",
    [
        ("ja", '{days: [mon, tue, wed, thu, fri], from: "09:00", to: "18:00"}', "平日 9:00〜18:00"),
        ("en", '{days: [mon, tue, wed, thu, fri], from: "09:00", to: "18:00"}', "Weekdays 9:00–18:00"),
        ("ja", '{days: [sat, sun], from: "10:30", to: "17:00"}', "土日 10:30〜17:00"),
        ("ja", '{from: "22:00", to: "02:00"}', "毎日 22:00〜2:00"),
        ("en", '{days: [mon, wed, fri], from: "08:00", to: "24:00"}', "Mon, Wed, Fri 8:00–24:00"),
    ],
)
async def test_texts_see_the_business_hours_of_site_yaml_in_the_site_language(shop, language, hours, text):
    site = SITE.replace("language: ja", f"language: {language}") + f"business_hours: {hours}\n"
    made = await shop("rules:\n  - {id: closed, show: {chat: '営業時間: {{ site.hours }}'}}\n", site=site)
    assert (await made.view("v1", "/")).show["text"] == f"営業時間: {text}"


async def test_without_business_hours_site_hours_is_empty(shop):
    made = await shop("rules:\n  - {id: closed, show: {chat: '[{{ site.hours }}]'}}\n")
    assert (await made.view("v1", "/")).show["text"] == "[]"


async def test_the_show_says_where_to_place_it_the_rules_placement_or_the_sites(shop):
    made = await shop(
        """\
        rules:
          - {id: left, when: {page: /left}, show: {chat: {text: こんにちは, placement: bottom-left}}}
          - {id: default, when: {page: /default}, show: {message: {title: お知らせ}}}
        """,
        site=SITE + "placement: top\n",
    )
    assert (await made.view("v1", "/left")).show["placement"] == "bottom-left"
    assert (await made.view("v2", "/default")).show["placement"] == "top"


async def test_a_coupon_show_carries_the_code_discount_and_expiry_date_in_the_site_timezone(shop):
    made = await shop(
        "rules:\n  - {id: offer, show: {coupon: {pool: spring10, title: '{{ coupon.code }}で{{ coupon.discount }}', text: '{{ coupon.expires_at }}まで'}}}\n"
    )
    show = (await made.view("v1", "/")).show
    assert show == {
        "type": "coupon",
        "pool": "spring10",
        "title": "SPRING10で10%オフ",
        "text": "2026-06-10まで",
        "rule": "offer",
        "lang": "ja",
        "placement": "bottom-right",
        "code": "SPRING10",
        "discount": "10%オフ",
        "expires_at": "2026-06-10",
    }


async def test_a_coupon_without_expiry_or_discount_shows_neither(shop):
    made = await shop("rules:\n  - {id: offer, show: {coupon: {pool: forever, title: ありがとう}}}\n")
    show = (await made.view("v1", "/")).show
    assert show["code"] == "THANKS" and "expires_at" not in show and "discount" not in show


async def test_a_unique_code_goes_to_one_visitor_who_keeps_it(shop):
    made = await shop("rules:\n  - {id: offer, show: {coupon: {pool: solo, title: 特典}}, limit: {per_session: 5}}\n")
    first = await made.view("v1", "/")
    assert first.show["code"] == "SOLO-ONLY-CODE" and first.show["discount"] == "送料無料"
    again = await made.view("v1", "/")
    assert again.show["code"] == "SOLO-ONLY-CODE"


# Rules that cannot be shown are skipped


async def test_a_text_that_does_not_render_skips_its_rule_and_the_next_one_shows(shop, caplog):
    made = await shop("""\
        rules:
          - {id: personal, priority: 5, show: {chat: "{{ visitor.name }}さん、こんにちは"}}
          - {id: generic, show: {chat: こんにちは}}
        """)
    with caplog.at_level(logging.WARNING, logger="irasshai.rules"):
        outcome = await made.view("v1", "/")
    assert outcome.show["rule"] == "generic" and outcome.show["text"] == "こんにちは"
    assert [r.getMessage() for r in caplog.records if r.name == "irasshai.rules"] == [
        "site shop: rule personal skipped: its text did not render: UndefinedError: 'dict object' has no attribute 'name'"
    ]


async def test_a_skipped_rule_keeps_its_limit_and_shows_once_it_can(shop):
    made = await shop("""\
        rules:
          - {id: personal, priority: 5, show: {chat: "{{ visitor.name }}さん"}, limit: {per_visitor: 1}}
          - {id: generic, show: {chat: こんにちは}, limit: {per_visitor: 1}}
        """)
    assert (await made.view("v1", "/")).show["rule"] == "generic"
    assert [e.rule for e in made.states["v1"].engagements] == ["generic"]
    outcome = await made.send("v1", set_attributes(name="花子"), page_view("/"))
    assert outcome.show["rule"] == "personal" and outcome.show["text"] == "花子さん"


async def test_a_coupon_rule_with_an_exhausted_pool_is_skipped_and_the_next_one_shows(shop, caplog):
    made = await shop("""\
        rules:
          - {id: solo-offer, priority: 5, show: {coupon: {pool: solo, title: 特典}}}
          - {id: fallback, show: {message: {title: 新作のご案内}}}
        """)
    assert (await made.view("first-visitor", "/")).show["code"] == "SOLO-ONLY-CODE"
    with caplog.at_level(logging.WARNING, logger="irasshai.rules"):
        outcome = await made.view("second-visitor", "/")
    assert outcome.show["rule"] == "fallback" and "code" not in outcome.show
    assert (
        "site shop: rule solo-offer skipped: coupon pool 'solo' has no code for this visitor (exhausted, or their code has expired)"
        in caplog.text
    )


async def test_a_coupon_rule_whose_text_fails_does_not_use_up_a_unique_code(shop):
    # The visitor never saw the code, so it must still be there for the next visitor.
    made = await shop("""\
        rules:
          - {id: solo-offer, priority: 5, show: {coupon: {pool: solo, title: "{{ visitor.name }}さんへ"}}}
          - {id: fallback, show: {message: {title: 新作のご案内}}}
        """)
    assert (await made.view("nameless", "/")).show["rule"] == "fallback"
    outcome = await made.send("named", set_attributes(name="花子"), page_view("/"))
    assert outcome.show["rule"] == "solo-offer" and outcome.show["code"] == "SOLO-ONLY-CODE"


async def test_after_several_rules_that_cannot_be_shown_the_batch_shows_nothing(shop, caplog):
    broken = "".join(
        f"  - {{id: broken-{n}, priority: 10, show: {{chat: '{{{{ visitor.missing }}}}'}}}}\n" for n in range(MAX_TRIES)
    )
    made = await shop("rules:\n" + broken + "  - {id: fine, show: {chat: ok}}\n")
    with caplog.at_level(logging.WARNING, logger="irasshai.rules"):
        outcome = await made.view("v1", "/")
    assert outcome.show is None and made.states["v1"].engagements == []
    assert len([record for record in caplog.records if record.name == "irasshai.rules"]) == MAX_TRIES


# Nothing to show, and watching


async def test_nothing_is_shown_or_claimed_when_no_rule_holds(shop):
    made = await shop("rules:\n  - {id: cart, when: {page: /cart}, show: {chat: a}}\n")
    outcome = await made.view("v1", "/")
    assert outcome.show is None and outcome.rule is None and made.states["v1"].engagements == []


async def test_a_batch_with_a_page_view_says_what_to_watch_on_its_last_page(shop):
    made = await shop("""\
        rules:
          - {id: reader, when: {page: /blog/*, time_on_page: 30s}, show: {chat: a}}
          - {id: cart-exit, when: {page: /cart, exit_intent: true}, show: {chat: b}}
        """)
    outcome = await made.send("v1", page_view("/blog/1"), page_view("/cart"))
    assert outcome.show is None and outcome.watch == {"exit_intent": [1.0]}


async def test_a_batch_without_a_page_view_says_nothing_about_watching(shop):
    made = await shop("rules:\n  - {id: reader, when: {time_on_page: 30s}, show: {chat: a}}\n")
    outcome = await made.send("v1", Track(id="engage-track-01", ts=int(NOW * 1000), name="add_to_cart"))
    assert outcome.watch is None


async def test_the_watch_leaves_out_the_rule_just_shown(shop):
    made = await shop("""\
        rules:
          - {id: half, when: {page: /pricing, scroll: 50%}, show: {chat: a}}
          - {id: reader, when: {page: /pricing, time_on_page: 30s}, show: {chat: b}}
        """)
    assert (await made.view("v1", "/pricing")).watch == {"scroll": [50.0], "time_on_page": [30.0]}
    scrolled = Signal(id="engage-signal-01", ts=int(NOW * 1000), signal="scroll", value=60, url=SHOP + "/pricing")
    outcome = await made.send("v1", scrolled, page_view("/pricing"))
    assert outcome.show["rule"] == "half" and outcome.watch == {"time_on_page": [30.0]}


def test_templates_see_the_title_of_the_page_the_visitor_is_on():
    from server.engage import scope
    from server.rules.facts import Facts

    site = Site(key="shop", name="Shop", origins=frozenset(), timezone=ZoneInfo("Asia/Tokyo"))
    state = VisitorState()
    apply(
        state,
        [PageView("page-view-01", 1_700_000_000_000, SHOP + "/p/1", title="麻のシャツ")],
        1_700_000_001,
        RequestFacts(),
        1800,
    )
    assert scope(Facts(state, 1_700_000_001, "/p/1", site, "v"), None)["page"] == {
        "path": "/p/1",
        "title": "麻のシャツ",
    }
    assert scope(Facts(state, 1_700_000_001, "/other", site, "v"), None)["page"]["title"] == ""
