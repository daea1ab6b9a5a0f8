"""Live chat on the demo shop with the demo rules and FAQ, as a new user tries it (issue 9, item 8).

Contract: after hours (the demo's hours are weekdays 9:00–18:00, Asia/Tokyo; the server's clock
and the page's are set to a Friday evening there) the bot's chat prompt 質問する opens the panel;
the bot answers 送料はいくら? from rules/demo/faq.yaml with スタッフに相談する under its answer,
in English for an English-speaking visitor; tapping it hands the conversation to a person
(`waiting`) with one note saying when a person will answer — Monday 9:00. During hours (a
Tuesday morning) the staff prompt 相談する opens a conversation that waits for an operator, is
told so once, and the operator's reply appears without a reload.

The screenshots of docs/chat.md are made here too (tests/artifacts/chat-*.png): the panel on
the demo shop in ja and en, at 1280×800 and on a phone, with a bot answer and its choices and an
operator's reply. The en ones are of the demo site with `language: en` and the launcher.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from tests.browser.engagements import IPHONE_13, SERVER_CLOCK, fast_forward, new_visitor, settled, wait_shown
from tests.browser.live_chat import Operator
from tests.browser.test_scenarios import DESKTOP, SITE, demo

pytestmark = [pytest.mark.browser, pytest.mark.redis]

TOKYO = ZoneInfo("Asia/Tokyo")
FRIDAY_EVENING = datetime(2026, 12, 4, 20, 0, tzinfo=TOKYO)
TUESDAY_MORNING = datetime(2026, 12, 1, 11, 0, tzinfo=TOKYO)


class ClockAt:
    """The server's clock set to `moment` when made, running on from there (and moved on by fast_forward)."""

    def __init__(self, moment: datetime):
        self.shift = moment.timestamp() - SERVER_CLOCK()

    def __call__(self) -> float:
        return SERVER_CLOCK() + self.shift


def visitor_at(browser, moment: datetime, **options):
    context = new_visitor(browser, timezone_id="Asia/Tokyo", **options)
    page = context.new_page()
    page.clock.install(time=moment)
    return context, page


def chat_prompt(page: Page, shop: str, button: str):
    """15 s on a category page brings the support prompt; its button opens the chat panel."""
    page.goto(shop + "/category/tops")
    settled(page, SITE)
    fast_forward(page, "00:16")
    wait_shown(page)
    page.get_by_role("button", name=button).click()
    dialog = page.locator("irasshai-chat").get_by_role("dialog")
    expect(dialog).to_be_visible()
    return dialog


def send(dialog, text: str) -> None:
    box = dialog.get_by_role("textbox")
    box.fill(text)
    box.press("Enter")


@pytest.mark.parametrize(
    "locale, question, answer, handoff, note",
    [
        (
            "ja-JP",
            "送料はいくら?",
            "それ未満のご注文は送料660円です",
            "スタッフに相談する",
            "担当者は 月曜日 9:00 から順にお返事します（平日 9:00〜18:00）。",
        ),
        (
            "en-US",
            "How much is shipping?",
            "below that it is ¥660",
            "Talk to a person",
            "A person will reply from Monday 9:00 (Weekdays 9:00–18:00).",
        ),
    ],
    ids=["ja", "en"],
)
def test_after_hours_the_bot_answers_from_the_faq_and_hands_off_until_the_next_opening(
    browser, tmp_path, redis_url, locale, question, answer, handoff, note
):
    with demo(tmp_path, redis_url, clock=ClockAt(FRIDAY_EVENING)) as running:
        context, page = visitor_at(browser, FRIDAY_EVENING, locale=locale)
        with context:
            dialog = chat_prompt(page, running.shop, "質問する")
            expect(dialog).to_have_accessible_name("いらっしゃいBot")
            log = dialog.get_by_role("log")
            send(dialog, question)
            expect(log.locator(".bot .text").last).to_contain_text(answer)
            choice = log.locator(".bot").last.get_by_role("button", name=handoff)
            expect(choice).to_be_visible()
            [conversation] = Operator(running.server, SITE).conversations()
            assert conversation["status"] == "bot" and conversation["rule"] == "bot-chat-after-hours"

            choice.click()
            expect(log.locator(".visitor .text")).to_have_text([question, handoff])
            expect(log.locator(".choices")).to_have_count(0)  # a tapped choice takes its buttons away
            expect(log.locator(".system .text")).to_have_text([note])  # once: not also from the status event
            assert Operator(running.server, SITE).conversations("waiting")[0]["id"] == conversation["id"]


def test_during_hours_the_conversation_waits_for_an_operator_whose_reply_appears(browser, tmp_path, redis_url):
    with demo(tmp_path, redis_url, clock=ClockAt(TUESDAY_MORNING)) as running:
        context, page = visitor_at(browser, TUESDAY_MORNING)
        with context:
            dialog = chat_prompt(page, running.shop, "相談する")
            expect(dialog).to_have_accessible_name("佐藤（スタッフ）")
            log = dialog.get_by_role("log")
            send(dialog, "このシャツは洗濯機で洗えますか？")
            expect(log.locator(".system .text")).to_have_text(["担当者がまもなくお答えします。"])
            expect(log.locator(".bot")).to_have_count(1)  # only the prompt's words: no bot during hours
            operator = Operator(running.server, SITE)
            [conversation] = operator.conversations("waiting")
            assert conversation["rule"] == "staff-chat-open"
            operator.say(conversation["id"], "はい、ネットに入れて洗濯機で洗えます。", author="佐藤")
            expect(log.locator(".operator .text")).to_have_text(["はい、ネットに入れて洗濯機で洗えます。"])
            assert operator.conversation(conversation["id"])["conversation"]["status"] == "open"


SCREENS = {"desktop": DESKTOP, "phone": IPHONE_13}


@pytest.mark.parametrize("device", SCREENS)
@pytest.mark.parametrize("language", ["ja", "en"])
def test_screenshots_of_the_panel_with_a_bot_answer_and_an_operator_reply(
    browser, tmp_path, redis_url, artifacts, language, device
):
    """docs/images/chat-<language>-<device>.png are copies of these artifacts."""
    english = language == "en"
    site = {"launcher": "true", "language": language}
    with demo(tmp_path, redis_url, clock=ClockAt(FRIDAY_EVENING), **site) as running:
        locale = "en-US" if english else "ja-JP"
        context, page = visitor_at(browser, FRIDAY_EVENING, locale=locale, **SCREENS[device])
        with context:
            if english:
                page.goto(running.shop + "/category/tops")
                page.locator("irasshai-chat").get_by_role("button", name="Open chat").click()
                dialog = page.locator("irasshai-chat").get_by_role("dialog")
            else:
                dialog = chat_prompt(page, running.shop, "質問する")
            log = dialog.get_by_role("log")
            send(dialog, "Hello, I have a question" if english else "サイズと返品")
            expect(log.locator(".bot .choices button").first).to_be_visible()
            choices = log.locator(".bot").last.get_by_role("button")
            assert choices.count() >= 2, "an unsure answer offers questions and a person"
            operator = Operator(running.server, SITE)
            [conversation] = operator.conversations()
            reply = (
                "Hello, this is Sato. Tell me your height and usual size, and I will suggest one."
                if english
                else "佐藤です。ふだんのサイズと身長を教えていただければ、おすすめをご案内します。"
            )
            operator.say(conversation["id"], reply, author="Sato" if english else "佐藤")
            expect(log.locator(".operator .text")).to_have_text([reply])
            page.wait_for_timeout(300)  # the log's scroll and the fonts settle (a picture, not an assertion)
            page.screenshot(path=artifacts / f"chat-{language}-{device}.png")
