"""An XSS corpus through every text path, in Chromium (docs/reliability.md, "Abuse").

Each payload of tests/data/xss_corpus.txt (script tags, event handlers, javascript: URLs,
attribute breakouts, template injection, encoded and Unicode variants) calls
``window.__xss(number)`` or opens a dialog if it ever runs. Every payload goes through:

- a rule's own texts (title and text, as a marketer could write them),
- visitor attributes (``irasshai('set', …)``) rendered by a rule's template,
- custom event properties and page titles (the console's visitor panel),
- chat messages from the visitor (widget → console) and from operators (API and console → widget),
- operators' display names (the author of an API message; the signed-in operator's account name),
- canned replies (the console's reply list),

and is shown in the widget on a shop page and in the operator console; and, in a second test,
through the console's texts that come from outside the server:

- LINE users' display names, from LINE's profile (the inbox list, the conversation, the panel),
- the console's Webhooks page: endpoint URLs from site.yaml, and a receiver's answer to a
  delivery (its body, in the failures list and the recent deliveries).

Contract: nothing runs (no ``__xss`` call, no dialog) on any page, and each payload is visible
as the text it is.
"""

from __future__ import annotations

import base64
import json
import time
from contextlib import ExitStack
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from tests.browser.console import add_operator, sign_in
from tests.browser.engagements import (
    STATS_SECRET,
    UNLIMITED,
    Fixtures,
    fixture_shop,
    new_visitor,
    settled,
    wait_shown,
    write_fixture_sites,
)
from tests.browser.live_chat import Operator
from tests.browser.test_chat_live import open_from_prompt, send
from tests.conftest import free_port, live_server, serve_process
from tests.helpers import write_site
from tests.line.helpers import LINE_SITE, WEBHOOK, line_settings, stand_in

pytestmark = [pytest.mark.browser, pytest.mark.redis]

CORPUS = Path(__file__).parent.parent / "data" / "xss_corpus.txt"
CHUNK = 6  # payloads per rule: a rendered field holds at most 1000 characters
URL_CHUNK = 4  # payloads per webhook URL: a site has at most 20 endpoints
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"x" * 32).decode()
TRAP = """
window.__xssRan = [];
window.__xss = function (n) { window.__xssRan.push(n); };
"""


def corpus() -> list[str]:
    lines = CORPUS.read_text(encoding="utf-8").splitlines()
    payloads = [line for line in lines if line.strip() and not line.startswith("#")]
    return [payload.replace("§", str(number)) for number, payload in enumerate(payloads, 1)]


PAYLOADS = corpus()
CHUNKS = [PAYLOADS[start : start + CHUNK] for start in range(0, len(PAYLOADS), CHUNK)]


def raw(text: str) -> str:
    return "{% raw %}" + text + "{% endraw %}"


def write_rules(rules: Path) -> None:
    """Rules that show the payloads: as the rule's own texts, and as visitor attributes rendered."""
    found = []
    for number, chunk in enumerate(CHUNKS):
        first = number * CHUNK
        found.append(
            {
                "id": f"xss-literal-{number}",
                "when": {"page": f"*/xss-literal-{number}"},
                "limit": UNLIMITED,
                "show": {"message": {"style": "modal", "title": raw(chunk[0]), "text": raw(" ‖ ".join(chunk))}},
            }
        )
        attributes = " ‖ ".join("{{ visitor.x" + str(first + index) + " }}" for index in range(len(chunk)))
        found.append(
            {
                "id": f"xss-attributes-{number}",
                "when": {"page": f"*/xss-attributes-{number}"},
                "limit": UNLIMITED,
                "show": {
                    "message": {"style": "modal", "title": "{{ visitor.x" + str(first) + " }}", "text": attributes}
                },
            }
        )
    (rules / "shop" / "xss.yaml").write_text(yaml.safe_dump({"rules": found}, allow_unicode=True), encoding="utf-8")
    replies = [{"code": f"x{number}", "text": {"ja": payload}} for number, payload in enumerate(PAYLOADS)]
    (rules / "shop" / "replies.yaml").write_text(
        yaml.safe_dump({"replies": replies}, allow_unicode=True), encoding="utf-8"
    )


def trapped(context) -> list:
    """Dialogs any page of `context` opened; the trap for __xss is set before any page script."""
    dialogs: list[str] = []
    context.add_init_script(TRAP)
    context.on(
        "page", lambda page: page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    )
    return dialogs


def ran(page) -> list[int]:
    return page.evaluate("window.__xssRan")


def show(page, url: str) -> str:
    """The text of the engagement `url`'s rule shows (a page view right after one shown may be
    decided nothing: the widget had not reported the last one closed yet); then closed."""
    for _ in range(4):
        page.goto(url)
        try:
            text = wait_shown(page, timeout=3_000).inner_text()
        except AssertionError:
            continue
        page.keyboard.press("Escape")
        return text
    raise AssertionError(f"nothing shown on {url}")


def missing(text: str, payloads: list[str]) -> list[str]:
    return [payload for payload in payloads if payload not in text]


def test_no_payload_runs_in_the_widget_or_the_console_and_each_shows_as_text(browser, tmp_path, redis_url):
    shop_port, server_port = free_port(), free_port()
    shop_url, server_url = f"http://127.0.0.1:{shop_port}", f"http://127.0.0.1:{server_port}"
    rules = write_fixture_sites(tmp_path / "rules", shop_url)
    write_rules(rules)
    settings = {
        "IRASSHAI_SITE_SECRETS": f"shop={STATS_SECRET}",
        "IRASSHAI_EVENTS_PER_VISITOR_PER_MINUTE": "0",  # one visitor sends far more than a person would
        "IRASSHAI_CHAT_MESSAGES_PER_MINUTE": "0",
    }
    operator_name = PAYLOADS[0]
    add_operator(redis_url, "shop", "aya@example.com", "correct horse", name=operator_name, language="ja")
    paths: list[str] = []
    with ExitStack() as stack:
        stack.enter_context(serve_process(rules, redis_url, port=server_port, **settings))
        stack.enter_context(live_server(fixture_shop(server_url), port=shop_port))
        shop = Fixtures(shop_url, server_url)
        visitor_context = stack.enter_context(new_visitor(browser))
        visitor_dialogs = trapped(visitor_context)
        page = visitor_context.new_page()

        # Visitor attributes, custom event properties and page titles, as a page could send them.
        page.goto(shop.url("clean", "home"))
        settled(page, "shop")
        page.evaluate(
            """(payloads) => {
              for (let start = 0; start < payloads.length; start += 30) {  // at most 50 a call
                const attributes = {};
                payloads.slice(start, start + 30).forEach((payload, n) => { attributes["x" + (start + n)] = payload; });
                irasshai("set", attributes);
              }
              payloads.forEach((payload, n) => irasshai("track", "xss_" + (n % 50), {payload: payload}));
            }""",
            PAYLOADS,
        )
        settled(page, "shop")
        paths += ["custom event properties (sent and stored; no view shows them)"]

        # The rules' own texts, and the attributes rendered by a rule's template.
        for kind in ("literal", "attributes"):
            for number, chunk in enumerate(CHUNKS):
                shown = show(page, shop.url("clean", f"xss-{kind}-{number}"))
                assert missing(shown, chunk) == [], f"{kind} {number}"
        paths += ["a rule's own texts (widget)", "visitor attributes rendered by a rule's template (widget)"]
        # (So "{{7*7}}…" in an attribute came out as written, not as 49: attributes are not templates.)

        # Page titles (the console lists the most recently viewed pages by title).
        page.evaluate(
            """(payloads) => payloads.forEach((payload, n) => {
              document.title = payload;
              history.pushState({}, "", "/shop/clean/title-" + n);
            })""",
            PAYLOADS,
        )
        settled(page, "shop")

        # The visitor's chat messages, then operators' messages with their names, through the API.
        dialog = open_from_prompt(page, shop.url("clean", "chat"))
        for payload in PAYLOADS:
            send(dialog, payload)
        log = dialog.get_by_role("log")
        expect(log.locator(".visitor .text")).to_have_count(len(PAYLOADS), timeout=30_000)
        operator = Operator(server_url)
        [conversation] = operator.wait_conversation(1)
        for payload in PAYLOADS:
            operator.say(conversation["id"], payload, author=payload[:64])
        expect(log.locator(".operator .text")).to_have_count(len(PAYLOADS), timeout=30_000)
        widget_text = log.inner_text()
        assert missing(widget_text, PAYLOADS) == []
        assert missing(" ".join(log.locator(".operator .name").all_inner_texts()), [p[:64] for p in PAYLOADS]) == []
        paths += [
            "chat messages, visitor → operator (widget, console)",
            "chat messages, operator API → visitor (widget, console)",
            "operator names as API authors (widget)",
        ]

        # The console: the conversation, the visitor's panel, the canned replies, a reply from it.
        console_context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ja-JP")
        stack.callback(console_context.close)
        console_dialogs = trapped(console_context)
        console = console_context.new_page()
        sign_in(console, server_url, "aya@example.com", "correct horse")
        console.wait_for_url(server_url + "/console/sites/shop")
        console.locator(".inbox-item").first.click()
        messages = console.locator("#messages .message-text")
        expect(messages.last).to_have_text(PAYLOADS[-1], timeout=30_000)  # the operators' last
        assert missing(" ".join(messages.all_inner_texts()), PAYLOADS) == []
        panel = console.locator("#visitor-panel")
        expect(panel.locator("h3").first).to_be_visible()
        sections = panel.locator("section.panel-section")
        assert missing(sections.nth(0).inner_text(), PAYLOADS) == []  # the attributes
        titles = sections.nth(1).inner_text()  # the pages viewed, by title: the most recent ones
        assert len(PAYLOADS) - len(missing(titles, PAYLOADS)) >= 5
        reply = console.locator("#reply-text")
        reply.fill("/x")
        options = console.locator("[role=option] .reply-text")
        expect(options.first).to_be_visible()
        assert all(text in PAYLOADS for text in options.all_inner_texts())
        reply.fill("")
        reply.fill(PAYLOADS[1])
        reply.press("Enter")
        expect(log.locator(".operator .text")).to_have_count(len(PAYLOADS) + 1, timeout=30_000)
        expect(log.locator(".operator .name").last).to_have_text(operator_name)
        paths += [
            "visitor attributes (console's visitor panel)",
            "page titles (console's visitor panel and live visitors)",
            "canned replies (console's reply list)",
            "an operator's account name and a reply typed in the console (widget)",
        ]

        # The visitor panel's other views: the live visitors list with the page's title.
        console.goto(server_url + "/console/sites/shop/visitors")
        expect(console.locator(".page-title").first).to_be_visible()
        page.wait_for_timeout(500)  # let any late handler (onload, onfocus, ontoggle, timers) have its turn
        console.wait_for_timeout(500)
        executions = ran(page) + ran(console) + visitor_dialogs + console_dialogs
        print(
            f"\nXSS corpus: {len(PAYLOADS)} payloads × {len(paths)} text paths "
            f"({'; '.join(paths)}): {len(executions)} executions"
        )
        assert executions == []
        # The trap works: the same kind of payload put into the page's own DOM as HTML does run.
        page.evaluate("document.body.insertAdjacentHTML('beforeend', '<img src=x onerror=__xss(0)>')")
        page.wait_for_function("window.__xssRan.includes(0)")


def webhook_site(receiver: str) -> str:
    """The LINE site, with webhook endpoints: one at `receiver` for every message, and endpoints
    whose URLs hold the payloads (subscribed to an event that never comes, so only listed)."""
    endpoints = {"crm": {"url": receiver, "events": ["message.created"], "allow_private": True}}
    for number, start in enumerate(range(0, len(PAYLOADS), URL_CHUNK)):
        url = "http://127.0.0.1:9/" + " ‖ ".join(PAYLOADS[start : start + URL_CHUNK])
        endpoints[f"x{number}"] = {"url": url, "events": ["coupon.redeemed"], "allow_private": True}
    return LINE_SITE + yaml.safe_dump({"webhooks": endpoints}, allow_unicode=True)


def refusing_receiver(received: list[str]) -> Starlette:
    """A webhook receiver that refuses every delivery with 500 and, as its answer, the text of the
    message it was sent (a payload): what the console keeps as the delivery's last error."""

    async def hook(request: Request) -> PlainTextResponse:
        text = json.loads(await request.body())["data"]["message"]["text"]
        received.append(text)
        return PlainTextResponse(text, 500)

    return Starlette(routes=[Route("/hooks", hook, methods=["POST"])])


def all_shown(text_of, page, where: str, seconds: float = 30.0) -> None:
    """Wait (while `page` runs its scripts) until every payload is in `text_of()`; else fail naming
    the payloads still missing from `where`."""
    deadline = time.monotonic() + seconds
    while absent := missing(text_of(), PAYLOADS):
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(absent)} payloads not shown as text in {where}, e.g. {absent[:3]}")
        page.wait_for_timeout(200)


def test_line_names_and_webhook_texts_do_not_run_in_the_console_and_each_shows_as_text(browser, tmp_path, redis_url):
    add_operator(redis_url, "shop", "aya@example.com", "correct horse", name="綾", language="ja", role="admin")
    received: list[str] = []
    paths: list[str] = []
    with ExitStack() as stack:
        line, api = stack.enter_context(stand_in())
        receiver = stack.enter_context(live_server(refusing_receiver(received)))
        write_site(tmp_path, "shop", webhook_site(receiver + "/hooks"))
        settings = {
            **line_settings(api),
            "IRASSHAI_WEBHOOK_SECRETS": f"shop/crm={WEBHOOK_SECRET}",
            "IRASSHAI_WEBHOOK_BACKOFF": "3600",  # one try each while the test runs
        }
        server = stack.enter_context(serve_process(tmp_path, redis_url, **settings))
        context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ja-JP")
        stack.callback(context.close)
        dialogs = trapped(context)
        console = context.new_page()
        sign_in(console, server, "aya@example.com", "correct horse")
        console.wait_for_url(server + "/console/sites/shop")
        expect(console.locator("#away-toggle")).to_have_text("対応可能")  # the inbox's script runs

        # LINE users named with the payloads write in (each message a payload too); the server
        # reads their names from LINE's profiles in the background and the inbox shows them.
        texts = [line.text(line.add_user(payload), payload) for payload in PAYLOADS]
        for start in range(0, len(texts), 24):  # LINE sends a few events per webhook
            assert line.deliver(server + WEBHOOK, texts[start : start + 24])[0] == 200
        items = console.locator(".inbox-item")
        expect(items).to_have_count(len(PAYLOADS), timeout=30_000)
        names = console.locator(".inbox-item .inbox-item-name")
        all_shown(lambda: " ".join(names.all_inner_texts()), console, "the inbox's names")
        title, panel_name = console.locator("#conversation-title"), console.locator("#visitor-panel .panel-name")
        for conversation in [item.get_attribute("data-id") for item in items.all()]:
            item = console.locator(f'.inbox-item[data-id="{conversation}"]')
            name = (
                item.locator(".inbox-item-name").inner_text().removeprefix(item.locator(".channel-badge").inner_text())
            )
            item.click()
            expect(title).to_have_text(name)
            expect(panel_name).to_have_text(name)
            expect(console.locator("#messages .message-visitor .message-meta").first).to_contain_text(name)
        paths += ["LINE display names (console's inbox list, conversation and visitor panel)"]

        # The Webhooks page: every message was sent to the receiver, which refused it with a
        # payload as its answer; the endpoints' URLs hold the payloads too.
        failures = console.locator("#webhook-failures")

        def failures_listed() -> str:
            console.goto(server + "/console/sites/shop/webhooks")
            return failures.inner_text() if failures.count() else ""

        all_shown(failures_listed, console, "the Webhooks page's failures (receivers' answers)")
        assert sorted(received) == sorted(PAYLOADS)  # each message sent once (no retry within the backoff)
        assert missing(console.locator("#webhook-deliveries").inner_text(), PAYLOADS) == []
        assert missing(console.locator("#webhook-endpoints").inner_text(), PAYLOADS) == []
        paths += ["the console's Webhooks page (endpoint URLs; receivers' answers as delivery errors)"]

        console.wait_for_timeout(500)  # let any late handler (onload, onfocus, ontoggle, timers) have its turn
        executions = ran(console) + dialogs
        print(
            f"\nXSS corpus: {len(PAYLOADS)} payloads × {len(paths)} text paths "
            f"({'; '.join(paths)}): {len(executions)} executions"
        )
        assert executions == []
