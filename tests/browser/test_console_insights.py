"""The marketer's pages in real Chromium, under the console's CSP.

Contract (issue 11, "The marketer's pages"): an admin signs in, finds the site's rules (enabled
and disabled), opens a rule's results and sees its funnel per day as a table and as a chart
drawn by uPlot (vendored, served by this server), the uplift block, the breakdowns; downloads a
table as CSV (UTF-8 with a byte order mark); sees "not enough data" and the sample-ratio
warning when the report says so; reads the site overview's charts and tables in English; and
runs the preview on the demo's rules, where a pricing-page sequence shows the pricing coupon at
the step it should. Data from the report is shown as text, never as HTML. No console errors on
any page (no CSP violation, no failed script). Screenshots at 1280×800 go to tests/artifacts/
(docs/images/ has the ones docs/insights.md and docs/console.md show).

The results' numbers are canned reports (tests/console/insights_helpers.py) served at the
insights API's URLs through the console's real report plumbing: server/insights computes them
and is tested on its own.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from server.app import create_app
from server.config import load_config
from server.settings import Settings
from server.store.memory import MemoryStore
from tests.browser.console import sign_in
from tests.browser.engagements import watch_console
from tests.conftest import ROOT, SECRET, live_server
from tests.console.helpers import Clock, add_operator
from tests.console.insights_helpers import ADMIN, OPERATOR, insights_app, overview_report, rule_report, serve_canned

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1280, "height": 800}
RANGE = "?from=2027-01-01&to=2027-01-14"
ACCENT = (180, 67, 47)  # the first series' colour (#b4432f)


def painted(canvas, colour: tuple[int, int, int]) -> int:
    """How many pixels of the chart's `canvas` (a locator) are (nearly) `colour`: proof the series was drawn."""
    return canvas.evaluate(
        """(canvas, [r, g, b]) => {
            const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
            let count = 0;
            for (let i = 0; i < data.length; i += 4) {
                if (Math.abs(data[i] - r) < 24 && Math.abs(data[i + 1] - g) < 24 && Math.abs(data[i + 2] - b) < 24 && data[i + 3] > 100) count++;
            }
            return count;
        }""",
        list(colour),
    )


def scroll_to(page, selector: str) -> None:
    """Bring the section's top to the top of the console's main area (for a screenshot)."""
    page.locator(selector).evaluate(
        """element => {
            const main = document.getElementById("console-main");
            main.scrollTop += element.getBoundingClientRect().top - main.getBoundingClientRect().top - 16;
        }"""
    )


def test_a_marketer_reads_a_rules_results_and_downloads_a_table(browser, tmp_path, artifacts):
    app, _, _ = insights_app(tmp_path)
    serve_canned(app, rule_report=rule_report())
    with live_server(app) as url:
        context = browser.new_context(viewport=LAPTOP, locale="ja-JP", accept_downloads=True)
        page = context.new_page()
        console = watch_console(page)
        sign_in(page, url, *ADMIN)
        page.wait_for_url(url + "/console/sites/shop")
        page.get_by_role("link", name="ルール").click()
        page.wait_for_url(url + "/console/sites/shop/rules")
        rows = page.locator("#rules-table tbody tr")
        expect(rows).to_have_count(3)
        expect(page.locator('tr[data-rule="paused-banner"]')).to_contain_text("無効")
        expect(page.locator('tr[data-rule="pricing-return"]')).to_contain_text("pricing.yaml:2")
        page.screenshot(path=artifacts / "console-rules.png")

        page.get_by_role("link", name="pricing-return").click()
        page.wait_for_url(url + "/console/sites/shop/rules/pricing-return")
        page.goto(url + "/console/sites/shop/rules/pricing-return" + RANGE)
        funnel = page.locator('section[data-table="funnel"]')
        expect(funnel.locator(".table-wrap tbody tr")).to_have_count(14)
        expect(funnel.locator(".table-wrap tbody tr").first).to_contain_text("2027-01-01")
        expect(funnel.locator(".table-wrap thead")).to_contain_text("対象 (判定)")
        # The chart: uPlot's canvas with the first series painted, its legend naming the series.
        expect(funnel.locator(".uplot canvas")).to_be_visible()
        expect(funnel.locator(".u-legend")).to_contain_text("コンバージョン")
        assert painted(funnel.locator(".uplot canvas"), ACCENT) > 200
        expect(page.locator('section[data-table="by_hour"] .uplot canvas')).to_have_count(1)
        # Totals and the uplift block.
        expect(page.locator("#totals")).to_be_visible()
        expect(page.locator('#totals-list [data-counter="decided"] dd')).to_have_text("2,310")
        expect(page.locator("#uplift")).to_be_visible()
        expect(page.locator("#uplift-results")).to_contain_text("+2.2ポイント")
        expect(page.locator("#uplift-results")).to_contain_text("95% 信頼区間 -0.5ポイント 〜 +4.9ポイント")
        expect(page.locator("#uplift-body")).to_contain_text("ゴール: purchase")
        expect(page.locator("#not-enough-data")).to_have_count(0)
        expect(page.locator("#sample-ratio-warning")).to_have_count(0)
        # A page path from the report is text: the <img> is shown as characters, never made.
        by_page = page.locator('section[data-table="by_page"]')
        expect(by_page).to_contain_text("<img src=x onerror=alert(1)>")
        expect(by_page.locator("img")).to_have_count(0)
        page.screenshot(path=artifacts / "console-rule-results.png")
        scroll_to(page, 'section[data-table="funnel"]')
        page.screenshot(path=artifacts / "console-rule-funnel.png")
        scroll_to(page, 'section[data-table="by_device"]')
        page.screenshot(path=artifacts / "console-rule-breakdowns.png")

        with page.expect_download() as download_info:
            funnel.get_by_role("link", name="CSV をダウンロード").click()
        download = download_info.value
        assert download.suggested_filename == "shop-rule-funnel-2027-01-01-2027-01-14.csv"
        data = Path(download.path()).read_bytes()
        assert data.startswith(b"\xef\xbb\xbf")
        lines = data.decode("utf-8-sig").split("\r\n")
        assert (
            lines[0]
            == "day,decided,held_out,shown,clicked,dismissed,copied,converted,converted_held_out,value,value_held_out"
        )
        assert lines[1] == "2027-01-01,100,10,85,21,28,17,6,0,31200,0"
        assert len(lines) == 16  # the columns, 14 days, and the last line's end
        assert console.messages == []
        context.close()


def test_not_enough_data_and_the_sample_ratio_warning(browser, tmp_path, artifacts):
    app, _, _ = insights_app(tmp_path)
    serve_canned(app, rule_report=rule_report(enough=False, mismatch=True))
    with live_server(app) as url:
        context = browser.new_context(viewport=LAPTOP, locale="ja-JP")
        page = context.new_page()
        console = watch_console(page)
        sign_in(page, url, *ADMIN)
        page.wait_for_url(url + "/console/sites/shop")
        page.goto(url + "/console/sites/shop/rules/pricing-return" + RANGE)
        expect(page.locator("#not-enough-data")).to_be_visible()
        expect(page.locator("#not-enough-data")).to_contain_text("データ不足")
        expect(page.locator("#sample-ratio-warning")).to_contain_text(
            "コントロール群の割合が 14.1% で、設定の 10% と合いません"
        )
        expect(page.locator("#uplift-results")).to_have_count(0)
        page.locator("#uplift").screenshot(path=artifacts / "console-uplift-warning.png")
        assert console.messages == []
        context.close()


def test_the_site_overview_in_english(browser, tmp_path, artifacts):
    app, _, _ = insights_app(tmp_path, language="en")
    serve_canned(app, overview=overview_report())
    with live_server(app) as url:
        context = browser.new_context(viewport=LAPTOP, locale="ja-JP")
        page = context.new_page()
        console = watch_console(page)
        sign_in(page, url, *ADMIN)
        page.wait_for_url(url + "/console/sites/shop")
        page.get_by_role("link", name="Site overview").click()
        page.wait_for_url(url + "/console/sites/shop/overview")
        page.goto(url + "/console/sites/shop/overview" + RANGE)
        expect(page.locator('#totals-list [data-counter="conversions_per_engagement_shown"] dd')).to_have_text("15.6%")
        daily = page.locator('section[data-table="daily"]').first
        expect(daily.locator(".u-legend")).to_contain_text("Page views")
        assert painted(daily.locator(".uplot canvas"), ACCENT) > 200
        # The second chart of the daily table: engagements shown and conversions, no table again.
        engagements = page.locator('section[data-table="daily"]').nth(1)
        expect(engagements.locator(".u-legend")).to_contain_text("Engagements shown")
        expect(engagements.locator(".table-wrap")).to_have_count(0)
        expect(page.locator('section[data-table="pages"] .table-wrap tbody tr').nth(1)).to_contain_text("/pricing")
        expect(page.locator('section[data-table="pages"] .table-wrap tbody tr').nth(1)).to_contain_text("0:49")
        expect(page.locator('section[data-table="weekdays"] .table-wrap tbody tr').first).to_contain_text("Mon")
        expect(page.locator('section[data-table="hours"] .table-wrap tbody tr').nth(14)).to_contain_text("14:00")
        for name in ("hours", "weekdays", "devices"):
            expect(page.locator(f'section[data-table="{name}"] .uplot canvas')).to_have_count(1)
        expect(page.locator('section[data-table="utm_sources"]')).to_contain_text("newsletter")
        expect(page.locator('section[data-table="referrers"] a.csv')).to_have_attribute(
            "href", "/console/api/sites/shop/insights/overview?from=2027-01-01&to=2027-01-14&format=csv&table=referrers"
        )
        page.screenshot(path=artifacts / "console-overview.png")
        scroll_to(page, 'section[data-table="pages"]')
        page.screenshot(path=artifacts / "console-overview-pages.png")
        assert console.messages == []
        context.close()


def test_the_preview_shows_the_pricing_coupon_at_the_second_pricing_view(browser, tmp_path, artifacts):
    shutil.copytree(ROOT / "rules" / "demo", tmp_path / "demo")
    config, problems = load_config(tmp_path)
    assert config is not None, problems.lines()
    store = MemoryStore(clock=Clock())
    app = create_app(Settings(secret_key=SECRET, rules_dir=str(tmp_path)), config=config, store=store, reload=False)
    add_operator(store, "demo", *ADMIN, name="Ken", role="admin", language="ja")
    steps = "- page_view: /pricing\n- at: +1h\n  page_view: /category/tops\n- at: +1h\n  page_view: /pricing\n- signal: {exit_intent: true}\n"
    with live_server(app) as url:
        context = browser.new_context(viewport=LAPTOP, locale="ja-JP")
        page = context.new_page()
        console = watch_console(page)
        sign_in(page, url, *ADMIN)
        page.wait_for_url(url + "/console/sites/demo")
        page.get_by_role("link", name="プレビュー").click()
        page.wait_for_url(url + "/console/sites/demo/preview")
        page.get_by_label("ステップ").fill(steps)
        page.get_by_role("button", name="プレビューする").click()
        rows = page.locator("#preview-result tbody tr")
        expect(rows).to_have_count(4)
        expect(rows.nth(0)).to_contain_text("なし")
        expect(rows.nth(1)).to_contain_text("なし")
        expect(rows.nth(2).locator(".step-shown")).to_contain_text("pricing-return-coupon")
        expect(rows.nth(2)).to_contain_text("2026-03-02 12:00:00")
        expect(rows.nth(3)).to_contain_text("exit_intent")
        page.screenshot(path=artifacts / "console-preview.png")

        page.get_by_label("ステップ").fill("- page_view: pricing\n")
        page.get_by_role("button", name="プレビューする").click()
        expect(page.locator("#preview-errors")).to_contain_text(
            "preview:1:3: step 1: page_view takes a path such as /pricing or a full URL, not 'pricing'"
        )
        assert console.messages == []
        context.close()


def test_an_operator_gets_the_403_page_and_no_links(browser, tmp_path):
    app, _, _ = insights_app(tmp_path)
    with live_server(app) as url:
        context = browser.new_context(viewport=LAPTOP, locale="ja-JP")
        page = context.new_page()
        console = watch_console(page)
        sign_in(page, url, *OPERATOR)
        page.wait_for_url(url + "/console/sites/shop")
        expect(page.get_by_role("link", name="ルール")).to_have_count(0)
        response = page.goto(url + "/console/sites/shop/overview")
        assert response.status == 403
        expect(page.locator("#forbidden")).to_contain_text("このページは管理者専用です")
        assert [message for message in console.messages if "403" not in message] == []
        context.close()


# Every word of a header cell, a badge or a note on one line: a Range over each word (as
# Intl.Segmenter finds words in the page's language: 表示|あたり|の|コンバージョン) has its
# rects on one line when the word is not cut. Japanese breaks between any two characters
# unless told otherwise, which cut コピー into コピ|ー and 有効 into 有|効.
BROKEN_WORDS = r"""selector => {
    const words = new Intl.Segmenter(document.documentElement.lang, { granularity: "word" });
    const broken = [];
    for (const element of document.querySelectorAll(selector)) {
        if (!element.getClientRects().length) continue;  // not shown (a folded table)
        const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            for (const word of words.segment(node.data)) {
                if (!word.isWordLike) continue;
                const range = document.createRange();
                range.setStart(node, word.index);
                range.setEnd(node, word.index + word.segment.length);
                const lines = new Set([...range.getClientRects()].map((rect) => Math.round(rect.top)));
                if (lines.size > 1) broken.push(word.segment);
            }
        }
    }
    return broken;
}"""
LABELS = "thead th, .badge, .default, .total dt"
OVERFLOWING = """selector => [...document.querySelectorAll(selector)]
    .filter((element) => element.scrollWidth > element.clientWidth).map((element) => element.textContent)"""
COUNTED = {"decided": 1230, "held_out": 2, "shown": 1200, "converted": 70, "converted_held_out": 1, "value": 693000}


@pytest.mark.parametrize("viewport", [LAPTOP, {"width": 1024, "height": 768}], ids=["1280x800", "1024x768"])
def test_japanese_labels_never_break_inside_a_word(browser, tmp_path, viewport):
    """Read at 1280×800 and at 1024×768 in Japanese: no column header, badge or total's label is
    cut inside a word; a missing number ("—") sits with the numbers of its column; a rule
    without a control group is not told it needs more data."""
    app, store, _ = insights_app(tmp_path)
    counts = {("2027-01-15", "pricing-return", name): amount for name, amount in COUNTED.items()}
    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # Playwright holds this thread's event loop
        pool.submit(asyncio.run, store.add_counts("shop", counts)).result()
    report = rule_report(enough=False)
    report["uplift"]["holdout"] = 0.0  # no control group at all: no holdout, nobody held out
    report["uplift"]["control"] = {"decisions": 0, "converted": 0, "rate": None, "value_mean": None}
    serve_canned(app, rule_report=report, overview=overview_report())
    with live_server(app) as url:
        context = browser.new_context(viewport=viewport, locale="ja-JP")
        page = context.new_page()
        console = watch_console(page)
        sign_in(page, url, *ADMIN)
        page.wait_for_url(url + "/console/sites/shop")
        page.goto(url + "/console/sites/shop/rules")
        expect(page.locator('tr[data-rule="pricing-return"] .control')).to_have_text("コントロール群 2 件中 1")
        # Headers, and the cells that hold short labels and numbers (not the rules' descriptions,
        # which are sentences and may wrap anywhere a sentence does).
        assert page.evaluate(BROKEN_WORDS, "#rules-table thead th, #rules-table td") == []

        page.goto(url + "/console/sites/shop/rules/pricing-return" + RANGE)
        expect(page.locator('section[data-table="funnel"] .table-wrap tbody tr')).to_have_count(14)
        assert page.evaluate(BROKEN_WORDS, LABELS) == []
        uplift = page.locator("#uplift-body")
        expect(uplift).to_contain_text("コントロール群がありません")
        expect(page.locator("#not-enough-data")).to_have_count(0)

        page.goto(url + "/console/sites/shop/overview" + RANGE)
        pages = page.locator('section[data-table="pages"] .table-wrap')
        expect(pages.locator("tbody tr")).to_have_count(5)
        assert page.evaluate(BROKEN_WORDS, LABELS) == []
        # …nor does a long label run out of its box.
        assert page.evaluate(OVERFLOWING, "#totals-list .total") == []
        missing = pages.locator("tbody tr").nth(4).locator("td").nth(1)
        expect(missing).to_have_text("—")
        expect(missing).to_have_css("text-align", "right")

        page.goto(url + "/console/sites/shop/preview")
        page.get_by_label("ステップ").fill("- page_view: /pricing\n- page_view: /pricing\n")
        page.get_by_role("button", name="プレビューする").click()
        expect(page.locator("#preview-result tbody tr")).to_have_count(2)
        assert page.evaluate(BROKEN_WORDS, LABELS) == []
        assert console.messages == []
        context.close()
