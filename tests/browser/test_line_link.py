"""LINE's account link end to end, in Chromium: a real server process on Redis, a small shop with a
link page, and the local LINE stand-in playing LINE (its reply, its account-link dialog, its event).

Contract: a LINE user who adds the shop as a friend gets the shop's link page with a link token
(LINE's reply API); that page, for a signed-in customer, calls irasshai('lineLink', …) and the
browser ends at LINE's account-link dialog, which sends the accountLink event; the operator then
sees, beside the LINE conversation, the customer id (verified) and what the web visitor did on
the shop (the link page), and a note that the accounts were linked. No console errors on the
shop's page.
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from server.verified_identity import identity_hash
from tests.browser.console import add_operator, sign_in
from tests.browser.engagements import watch_console
from tests.conftest import free_port, live_server, serve_process
from tests.helpers import write_site
from tests.line.helpers import IDENTITY_SECRET, WEBHOOK, eventually, line_settings, stand_in

pytestmark = [pytest.mark.browser, pytest.mark.redis]

LINK_SCRIPT = """
window.irasshai = window.irasshai || function () { (irasshai.q = irasshai.q || []).push(arguments); };
var who = JSON.parse(document.getElementById("customer").textContent);
irasshai("lineLink", new URLSearchParams(location.search).get("linkToken"), who);
"""


def link_shop(server: str) -> Starlette:
    """The shop's link page, its customer C-1001 signed in (the shop's server computes the proof)."""

    async def page(request):
        who = json.dumps({"id": "C-1001", "hash": identity_hash(IDENTITY_SECRET, "C-1001")})
        return HTMLResponse(
            f"""<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>LINE連携</title>
<script async src="{server}/widget.js" data-site="shop"></script>
<script type="application/json" id="customer">{who}</script>
<script src="/link.js" defer></script></head><body><h1>LINE連携</h1></body></html>"""
        )

    async def script(request):
        return Response(LINK_SCRIPT, media_type="text/javascript")

    async def no_icon(request):
        return Response(status_code=204)

    return Starlette(routes=[Route("/line-link", page), Route("/link.js", script), Route("/favicon.ico", no_icon)])


def test_a_new_friend_links_their_line_account_to_the_signed_in_customer(browser, tmp_path, redis_url):
    shop_port = free_port()
    shop = f"http://127.0.0.1:{shop_port}"
    site = f"""\
origins: [{shop}]
timezone: Asia/Tokyo
language: ja
line:
  channel_id: "2001234567"
  link: true
  link_page: {shop}/line-link
"""
    write_site(tmp_path, "shop", site)
    add_operator(redis_url, "shop", "aya@example.com", "correct horse", name="綾", language="ja")
    with stand_in() as (line, api), serve_process(tmp_path, redis_url, **line_settings(api)) as server:
        line.webhook_url = server + WEBHOOK
        with live_server(link_shop(server), port=shop_port):
            user = line.add_user("山田 花子")
            status, _ = line.deliver(line.webhook_url, [line.event(user, "follow"), line.text(user, "連携したいです")])
            assert status == 200
            [invitation] = eventually(lambda: line.replies, "the link page sent to the new friend")
            text = invitation["messages"][0]["text"]
            link_page = text[text.index(shop) :]

            # The user opens it on their phone's browser, signed in to the shop: on to LINE's dialog.
            phone = browser.new_context(locale="ja-JP")
            page = phone.new_page()
            errors = watch_console(page)
            page.goto(link_page)
            page.wait_for_url(api + "/dialog/bot/accountLink*")
            expect(page.locator("body")).to_have_text("linked (the bot answered 200)")
            assert errors.problems() == []
            phone.close()

            # The operator sees who it is.
            context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ja-JP")
            console = context.new_page()
            sign_in(console, server, "aya@example.com", "correct horse")
            console.locator(".inbox-item").first.click()
            expect(console.locator("#messages .message-system .message-text").last).to_have_text(
                "LINEアカウントがショップの会員（C-1001）と連携されました。"
            )
            panel = console.locator("#visitor-panel")
            expect(panel.locator(".panel-name")).to_have_text("山田 花子")
            expect(panel.locator(".badge.verified")).to_be_visible()
            expect(panel.locator(".panel-facts")).to_contain_text("C-1001")
            expect(panel).to_contain_text("LINE連携")  # the page the web visitor viewed
            context.close()
