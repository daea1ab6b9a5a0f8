"""The after-hours bot (server/chat/bot.py).

`FaqBot.reply` answers a visitor from the site's FAQ in the conversation's language, offers
up to three questions when unsure and popular ones when it did not understand, offers the
hand-off when a person is asked for, and every reply carries the choice ``handoff``
(「スタッフに相談する」 / "Talk to a person"). `handoff_note` says when a person will answer:
the next opening of the site's business hours in the site's timezone, in words built from
those hours (today / tomorrow / a weekday / next week), or "shortly" during hours.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import replace
from datetime import datetime

import pytest

from server.chat.bot import HANDOFF, FaqBot, next_opening
from server.config import load_config
from server.sites import Hours
from tests.conftest import ROOT

TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")


@pytest.fixture(scope="module")
def demo():
    config, problems = load_config(ROOT / "rules")
    assert config is not None, problems.lines()
    return config.sites["demo"], config.faqs["demo"]


def at(text: str, zone=TOKYO) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=zone).timestamp()


def test_answers_in_the_conversations_language_and_offers_a_person(demo):
    bot = FaqBot(*demo)
    [ja] = bot.reply(None, "送料はいくらですか？", "ja", at("2026-03-06 20:00"))
    assert "10,000円" in ja.text and ja.choices == ((HANDOFF, "スタッフに相談する"),)
    [en] = bot.reply(None, "How much does shipping cost?", "en-US", at("2026-03-06 20:00"))
    assert en.text.startswith("Shipping is free") and en.choices == ((HANDOFF, "Talk to a person"),)


def test_unsure_it_offers_the_questions_with_their_labels(demo):
    [reply] = FaqBot(*demo).reply(None, "サイズが合うか心配", "ja", 0)
    assert reply.text == "こちらのご質問でしょうか？"
    assert reply.choices == (
        ("returns", "返品・交換について"),
        ("sizes", "サイズについて"),
        (HANDOFF, "スタッフに相談する"),
    )


def test_not_understood_offers_the_popular_questions(demo):
    [reply] = FaqBot(*demo).reply(None, "what is the meaning of life", "en", 0)
    assert reply.text.startswith("Sorry, I did not understand")
    assert [key for key, _ in reply.choices] == ["shipping", "returns", "sizes", HANDOFF]


def test_a_person_asked_for_is_offered_the_handoff_only(demo):
    for text in ("スタッフと話したい", "Can I talk to a person?", "スタッフに相談する"):
        [reply] = FaqBot(*demo).reply(None, text, "ja", 0)
        assert reply.choices == ((HANDOFF, "スタッフに相談する"),), text
    # An English word for a person counts whole, not inside another word.
    assert FaqBot(*demo).decide("management of my order").kind != HANDOFF


def test_a_choice_label_tapped_is_answered(demo):
    bot = FaqBot(*demo)
    assert [q.id for q in bot.decide("お支払い方法").questions] == ["payment"]
    assert bot.decide("お支払い方法").kind == "answer"


def test_a_site_without_faq_still_offers_the_handoff(demo):
    [reply] = FaqBot(demo[0], None).reply(None, "送料は?", "ja", 0)
    assert reply.choices == ((HANDOFF, "スタッフに相談する"),) and "スタッフ" in reply.text


@pytest.mark.parametrize(
    ("now", "ja", "en"),
    [
        (  # a Friday evening
            "2026-03-06 19:30",
            "担当者は 月曜日 9:00 から順にお返事します（平日 9:00〜18:00）。",
            "A person will reply from Monday 9:00 (Weekdays 9:00–18:00).",
        ),
        (  # a Saturday
            "2026-03-07 12:00",
            "担当者は 月曜日 9:00 から順にお返事します（平日 9:00〜18:00）。",
            "A person will reply from Monday 9:00 (Weekdays 9:00–18:00).",
        ),
        (  # just before opening
            "2026-03-09 08:59",
            "担当者は 本日 9:00 から順にお返事します（平日 9:00〜18:00）。",
            "A person will reply today from 9:00 (Weekdays 9:00–18:00).",
        ),
        (  # past midnight, a Tuesday
            "2026-03-10 00:30",
            "担当者は 本日 9:00 から順にお返事します（平日 9:00〜18:00）。",
            "A person will reply today from 9:00 (Weekdays 9:00–18:00).",
        ),
        (  # a Thursday after closing
            "2026-03-05 18:00",
            "担当者は 明日 9:00 から順にお返事します（平日 9:00〜18:00）。",
            "A person will reply tomorrow from 9:00 (Weekdays 9:00–18:00).",
        ),
        (  # during hours
            "2026-03-04 10:00",
            "担当者がまもなくお返事します（平日 9:00〜18:00）。",
            "A person will reply shortly (Weekdays 9:00–18:00).",
        ),
    ],
)
def test_handoff_note_tells_the_next_opening_in_the_sites_timezone(demo, now, ja, en):
    site, faq = demo
    bot = FaqBot(site, faq)
    assert bot.handoff_note(site, "ja", at(now)) == ja
    assert bot.handoff_note(site, "en", at(now)) == en


def test_handoff_note_words_come_from_the_sites_hours(demo):
    site = replace(demo[0], business_hours=Hours(frozenset({1, 3}), 10 * 60 + 30, 17 * 60))  # Tue, Thu
    bot = FaqBot(site, None)
    assert bot.handoff_note(site, "ja", at("2026-03-05 18:00")) == (
        "担当者は 火曜日 10:30 から順にお返事します（火・木 10:30〜17:00）。"
    )
    # Only on Mondays, and Monday's opening has passed: next week.
    mondays = replace(site, business_hours=Hours(frozenset({0}), 9 * 60, 12 * 60))
    assert bot.handoff_note(mondays, "en", at("2026-03-09 13:00")) == (
        "A person will reply from next Monday 9:00 (Mon 9:00–12:00)."
    )


def test_hours_past_midnight_and_another_timezone(demo):
    london = zoneinfo.ZoneInfo("Europe/London")
    site = replace(demo[0], timezone=london, business_hours=Hours(frozenset({4}), 22 * 60, 2 * 60))  # Fri 22–02
    bot = FaqBot(site, None)
    # Saturday 01:00 in London belongs to Friday's late hours.
    assert bot.handoff_note(site, "en", at("2026-03-07 01:00", london)).startswith("A person will reply shortly")
    # Saturday 03:00 in London (12:00 in Tokyo): next Friday 22:00 London time.
    assert next_opening(site, at("2026-03-07 03:00", london)) == datetime(2026, 3, 13, 22, 0, tzinfo=london)
    assert "from Friday 22:00" in bot.handoff_note(site, "en", at("2026-03-07 03:00", london))


def test_no_business_hours_says_as_soon_as_possible(demo):
    site = replace(demo[0], business_hours=None)
    assert FaqBot(site, None).handoff_note(site, "en", 0) == "A person will reply as soon as they can."
    empty = replace(demo[0], business_hours=Hours(frozenset(), 540, 1080))
    assert FaqBot(empty, None).handoff_note(empty, "ja", 0) == "担当者が確認しだいお返事します。"
