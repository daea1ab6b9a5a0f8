"""The after-hours bot through the widget's chat endpoint, with the site's real faq.yaml.

Outside business hours a conversation starts with the bot, which answers a FAQ question in the
visitor's language; choosing 「スタッフに相談する」 puts the conversation in the waiting queue
with a note of when a person will answer, taken from the site's hours (a Friday evening in
Tokyo: Monday 9:00). The operator API sees it waiting. Clock fixed; nothing timed.
"""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from starlette.testclient import TestClient

from tests.helpers import SHOP, batch, make_app, page_view, post, write_site

SECRET = "operator-secret-0123456789"
FRIDAY_EVENING = datetime(2026, 12, 4, 20, 30, tzinfo=ZoneInfo("Asia/Tokyo")).timestamp()
SITE_YAML = f"""\
origins: [{SHOP}]
timezone: Asia/Tokyo
language: ja
business_hours: {{days: [mon, tue, wed, thu, fri], from: "09:00", to: "18:00"}}
"""
FAQ = """\
faq:
  - id: shipping
    label: {ja: 送料について, en: Shipping costs}
    ask:
      ja: ["送料はいくら?", 送料, "配送料はかかりますか?"]
      en: [how much is shipping, shipping cost, delivery fee]
    answer:
      ja: 10,000円以上で送料無料です。
      en: Shipping is free from ¥10,000.
  - id: returns
    label: {ja: 返品について, en: Returns}
    ask:
      ja: ["返品できますか?", 返品, "交換できますか?"]
      en: [can I return it, returns, exchange]
    answer:
      ja: 30日以内なら返品無料です。
      en: Returns are free within 30 days.
"""


@pytest.fixture
def client(tmp_path):
    write_site(tmp_path, site_yaml=SITE_YAML, **{"faq.yaml": FAQ})
    app = make_app(tmp_path, site_secrets=f"shop={SECRET}", clock=lambda: FRIDAY_EVENING)
    with TestClient(app) as client:
        yield client


def chat(client, token, action, language="ja"):
    return client.post(
        "/v1/sites/shop/chat",
        content=json.dumps({"visitor": token, "do": action}),
        headers={"origin": SHOP, "content-type": "text/plain", "accept-language": language},
    )


def visitor(client) -> str:
    return post(client, batch(page_view("/", ts=FRIDAY_EVENING))).json()["visitor"]


def messages(client, conversation):
    reply = client.get(f"/v1/sites/shop/conversations/{conversation}", headers={"authorization": f"Bearer {SECRET}"})
    return reply.json()


@pytest.mark.parametrize(
    ("language", "question", "answer"),
    [
        ("ja", "送料はいくらですか？", "10,000円以上で送料無料です。"),
        ("en", "How much is shipping?", "Shipping is free from ¥10,000."),
    ],
)
def test_after_hours_the_bot_answers_a_faq_question_in_the_visitors_language(client, language, question, answer):
    token = visitor(client)
    opened = chat(client, token, {"type": "open", "rule": "after-hours"}, language).json()["conversation"]
    assert opened["status"] == "bot" and opened["language"] == language  # the browser's language
    reply = chat(client, token, {"type": "say", "id": "client-0001", "text": question}, language)
    assert reply.status_code == 200, reply.text
    bot = [m for m in messages(client, opened["id"])["messages"] if m["author"] == "bot"]
    assert bot[-1]["text"] == answer
    assert any(choice["id"] == "handoff" for choice in bot[-1]["choices"])


def test_a_hand_off_on_friday_evening_waits_for_monday_nine_in_words_from_the_sites_hours(client):
    token = visitor(client)
    said = chat(client, token, {"type": "say", "id": "client-0001", "text": "送料"}).json()
    conversation = said["conversation"]["id"]
    assert said["conversation"]["status"] == "bot"
    handed = chat(client, token, {"type": "choose", "id": "client-0002", "choice": "handoff"})
    assert handed.status_code == 200, handed.text
    found = messages(client, conversation)
    assert found["conversation"]["status"] == "waiting"
    notes = [m["text"] for m in found["messages"] if m["author"] == "system"]
    assert notes and "月曜日 9:00" in notes[-1] and "平日 9:00〜18:00" in notes[-1]
    listed = client.get(
        "/v1/sites/shop/conversations?status=waiting", headers={"authorization": f"Bearer {SECRET}"}
    ).json()
    assert [c["id"] for c in listed["conversations"]] == [conversation]
