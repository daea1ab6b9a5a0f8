"""How engagements look and behave on a shop's page, one fixture page per feature.

Contract: every engagement type (chat, coupon, modal, banner, toast) shows and looks like itself
under the shop's worst CSS and under a strict Content-Security-Policy; it never shifts, restyles
or breaks the host page, nor minds the page's globals; on a phone it is a bottom sheet with
44 px targets (a banner too, so it never covers the shop's header); it is usable with the keyboard alone, with the roles and names a screen reader
needs, in the site's language; it respects reduced motion; it sits where its placement says unless
that covers a control of the page on a wide screen, then where it covers none (a phone keeps the
sheet); its links are the http(s) URLs the rule gave; rule text and visitor data stay text; and
only one is on screen at a time.

Fixture sites `shop` (ja) and `shop-en` (en) show each type on a path ending in its name
(`/shop/clean/coupon`), with no gap between engagements (see tests/browser/engagements.py).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from server.config import load_config
from tests.browser.engagements import (
    IPHONE_13,
    KINDS,
    box,
    content_security_policy,
    counted,
    fast_forward,
    fixture_servers,
    flush,
    new_visitor,
    settled,
    wait_counted,
    wait_shown,
    watch_console,
)
from tests.helpers import write_site

pytestmark = pytest.mark.browser

# Everything about an element of the engagement that the page's CSS could change.
MEASURE = """(box) => {
  const properties = ["display", "visibility", "opacity", "color", "background-color", "border-top-width",
    "font-size", "font-weight", "font-style", "font-family", "line-height", "text-align", "text-transform",
    "letter-spacing", "word-spacing", "word-break", "white-space", "text-decoration-line", "cursor"];
  const parts = {};
  [box, ...box.querySelectorAll("*")].forEach((element, index) => {
    const rect = element.getBoundingClientRect(), style = getComputedStyle(element);
    const part = { x: Math.round(rect.x), y: Math.round(rect.y),
                   width: Math.round(rect.width), height: Math.round(rect.height) };
    for (const name of properties) part[name] = style.getPropertyValue(name);
    parts[index + " " + element.tagName.toLowerCase() + "." + element.className] = part;
  });
  return parts;
}"""

# Where the host page's own elements are, and how big the document is.
PAGE_GEOMETRY = """() => {
  const geometry = { scroll: [document.documentElement.scrollWidth, document.documentElement.scrollHeight,
                              window.scrollX, window.scrollY] };
  for (const id of ["header", "home", "title", "intro", "search", "footer"]) {
    const rect = document.getElementById(id).getBoundingClientRect();
    geometry[id] = [rect.x, rect.y, rect.width, rect.height];
  }
  return geometry;
}"""


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory, redis_server):
    """One server and fixture shop for the module (each test is a new visitor); Redis emptied around it."""
    flush(redis_server)
    with fixture_servers(tmp_path_factory.mktemp("engagement-ui"), redis_server) as running:
        yield running
    flush(redis_server)


def violations(page) -> list[str]:
    return page.evaluate("window.__seen.violations")


def differences(clean: dict, other: dict) -> dict:
    if list(other) != list(clean):
        return {"elements": (list(clean), list(other))}
    changed = {
        part: {name: (clean[part][name], value) for name, value in values.items() if clean[part][name] != value}
        for part, values in other.items()
    }
    return {part: change for part, change in changed.items() if change}


def summary(changed: dict) -> str:
    """One line per engagement type and property: `chat: text-align 'start' → 'center' on 5 of its elements`."""
    lines = []
    for kind, parts in changed.items():
        counts: dict[tuple, int] = {}
        for names in parts.values():
            for name, change in names.items():
                key = ("moved or resized",) if name in ("x", "y", "width", "height") else (name, *change)
                counts[key] = counts.get(key, 0) + 1
        lines += [
            f"  {kind}: {key[0]} {key[1]!r} → {key[2]!r} on {count} of its elements"
            if len(key) == 3
            else f"  {kind}: {count} of its elements {key[0]}"
            for key, count in counts.items()
        ]
    return "\n".join(lines)


def test_hostile_page_css_changes_nothing_about_the_engagement(browser, fixtures, artifacts):
    changed = {}
    with new_visitor(browser) as context:
        page = context.new_page()
        for kind in KINDS:
            page.goto(fixtures.url("clean", kind))
            clean = wait_shown(page).evaluate(MEASURE)
            page.goto(fixtures.url("hostile", kind))
            hostile = wait_shown(page).evaluate(MEASURE)
            page.screenshot(path=artifacts / f"ui-hostile-css-{kind}.png")
            changed[kind] = differences(clean, hostile)
    assert not any(changed.values()), "the page's CSS changed the engagement:\n" + summary(changed)


def test_strict_content_security_policy_is_enough_and_never_violated(browser, fixtures, artifacts):
    with new_visitor(browser) as context:
        page = context.new_page()
        console = watch_console(page)
        for kind in KINDS:
            response = page.goto(fixtures.url("csp", kind))
            assert response.headers["content-security-policy"] == content_security_policy(fixtures.server)
            expect(wait_shown(page)).to_be_visible()
            assert violations(page) == [], kind
        page.screenshot(path=artifacts / "ui-csp-toast.png")
        assert console.problems() == []
        # The policy is in force, and a violation would have been seen: an inline style is refused.
        page.evaluate("""() => {
          const style = document.createElement("style");
          style.textContent = "h1 { color: red }";
          document.head.appendChild(style);
        }""")
        expect(page.locator("#title")).not_to_have_css("color", "rgb(255, 0, 0)")
        assert set(violations(page)) == {"style-src-elem inline"}


def test_clean_page_no_console_problems_and_no_layout_shift(browser, fixtures):
    problems = {}
    with new_visitor(browser) as context:
        page = context.new_page()
        console = watch_console(page)
        page.goto(fixtures.url("clean", "nothing"))  # no rule matches: the page as its shop made it
        settled(page, "shop")
        before = page.evaluate(PAGE_GEOMETRY)
        for kind in KINDS:
            page.goto(fixtures.url("clean", kind))
            wait_shown(page)
            settled(page, "shop")  # `shown` acknowledged
            shift = page.evaluate("window.__seen")
            found = {
                "geometry": differences({"page": before}, {"page": page.evaluate(PAGE_GEOMETRY)}),
                "layout shift": (shift["layoutShift"], shift["shifts"]) if shift["layoutShift"] else None,
            }
            problems[kind] = {name: value for name, value in found.items() if value}
    assert {kind: found for kind, found in problems.items() if found} == {}
    assert console.problems() == []


def test_overridden_page_globals_do_not_matter(browser, fixtures):
    shown = counted(fixtures.server, "shop", "coupon", "shown")
    with new_visitor(browser) as context:
        page = context.new_page()
        console = watch_console(page)
        replies: list[tuple[int, str]] = []
        page.on(
            "response",
            lambda response: (
                replies.append((response.status, response.request.post_data or ""))
                if response.url.endswith("/events")
                else None
            ),
        )
        page.clock.install()
        page.goto(fixtures.url("globals", "coupon"))
        code = wait_shown(page).get_by_role("status", name="クーポンコード")
        expect(code).to_have_text(re.compile(r"^WELCOME-\d{4}$"))
        assert page.evaluate("typeof window.define.amd === 'object' && [].foo() === 'foo'")
        wait_counted(fixtures.server, "shop", "coupon", "shown", at_least=shown + 1)

        page.goto(fixtures.url("globals", "linger"))  # client signals: 5 s on the page
        settled(page, "shop")
        fast_forward(page, "00:06")
        wait_shown(page)
        expect(page.get_by_role("status", name="ごゆっくりどうぞ")).to_be_visible()
        settled(page, "shop")
        assert replies and {status for status, _ in replies} == {200}, "the server accepted every batch"
        assert not any('"foo"' in body or '"bar"' in body for _, body in replies), "no prototype additions sent"
        assert console.problems() == []


def test_on_a_phone_engagements_even_banners_are_bottom_sheets_with_44px_targets(browser, fixtures, artifacts):
    problems = {}
    with new_visitor(browser, **IPHONE_13) as context:
        page = context.new_page()
        for kind in KINDS:
            page.goto(fixtures.url("clean", kind))
            sheet = wait_shown(page).bounding_box()
            page.screenshot(path=artifacts / f"ui-phone-{kind}.png", scale="css")
            found = []
            if (round(sheet["x"]), round(sheet["width"])) != (0, 390):
                found.append(f"not the screen's width: x={sheet['x']}, width={sheet['width']}")
            # At the bottom, banners too: nothing covers the shop's header on a phone.
            edge = 844 - sheet["y"] - sheet["height"]
            if round(edge) != 0:
                found.append(f"bottom edge {edge:.0f} px from the screen's")
            targets = box(page).locator("button, a")
            for index in range(targets.count()):
                target = targets.nth(index)
                size = target.bounding_box()
                if size["width"] < 44 or size["height"] < 44:
                    found.append(f"'{target.inner_text()}' is {size['width']:.0f}×{size['height']:.0f} px, under 44×44")
            problems[kind] = found
    assert {kind: found for kind, found in problems.items() if found} == {}


@pytest.mark.parametrize(
    "path, where",
    [
        ("placed-bottom-right", (1280 - 20 - 360, 800 - 20)),
        ("placed-bottom-left", (20, 800 - 20)),
        ("placed-top", ((1280 - 360) / 2, None)),
        ("placed-bottom", ((1280 - 360) / 2, 800 - 20)),
        ("banner-top", (0, None)),
        ("banner-bottom", (0, 800)),
    ],
)
def test_a_wide_screen_places_the_engagement_where_the_rule_says(browser, fixtures, path, where):
    """(x of the left edge, y of the bottom edge, or None: the top edge is 20 px down, 0 for a banner).

    On a page without controls, so that nothing makes the widget move it.
    """
    with new_visitor(browser, viewport={"width": 1280, "height": 800}) as context:
        page = context.new_page()
        page.goto(fixtures.url("plain", path))
        card = wait_shown(page).bounding_box()
        left, bottom = where
        assert round(card["x"]) == round(left)
        if bottom is None:
            assert round(card["y"]) == (0 if path.startswith("banner") else 20)
        else:
            assert round(card["y"] + card["height"]) == bottom


# The page's controls (as the widget counts them) that the engagement's box overlaps, by text.
COVERED_CONTROLS = """() => {
  const card = document.querySelector("irasshai-widget").shadowRoot.querySelector(".box").getBoundingClientRect();
  return [...document.querySelectorAll("a,button,input,select,textarea,[role=button],[onclick]")].filter((element) => {
    const r = element.getBoundingClientRect();
    return r.width && r.height && r.left < card.right && card.left < r.right
      && r.top < card.bottom && card.top < r.bottom;
  }).map((element) => element.textContent.trim() || element.id);
}"""


@pytest.mark.parametrize(
    "fixture, where",
    [
        # Buttons in both bottom corners: the next place in line, the bottom's middle, is free.
        ("corners", ((1280 - 360) / 2, 800 - 20)),
        # Buttons along the whole bottom, links across the top: the rule's corner, lifted 12 px
        # clear of the button under it (pinned 24 px up, 48 px tall).
        ("crowded", (1280 - 20 - 360, 800 - 24 - 48 - 12)),
    ],
)
def test_a_wide_screen_moves_the_engagement_off_the_pages_controls(browser, fixtures, artifacts, fixture, where):
    """The rule says bottom-right, where the page has a button: the card goes where it covers no control."""
    with new_visitor(browser, viewport={"width": 1280, "height": 800}) as context:
        page = context.new_page()
        page.goto(fixtures.url(fixture, "placed-bottom-right"))
        card = wait_shown(page).bounding_box()
        page.screenshot(path=artifacts / f"ui-placement-{fixture}.png")
        assert page.evaluate(COVERED_CONTROLS) == []
        assert (round(card["x"]), round(card["y"] + card["height"])) == (round(where[0]), where[1])


def test_when_every_place_covers_a_control_the_rules_placement_stays(browser, fixtures):
    with new_visitor(browser, viewport={"width": 1280, "height": 800}) as context:
        page = context.new_page()
        page.goto(fixtures.url("plain", "nothing"))
        settled(page, "shop")
        page.evaluate("""() => {  // a wall of buttons over the whole window
          const wall = document.createElement("div");
          wall.style.cssText = "position:fixed;inset:0;display:grid;grid-template-columns:repeat(8,1fr)";
          for (let i = 0; i < 64; i++) wall.appendChild(document.createElement("button")).textContent = i;
          document.body.appendChild(wall);
        }""")
        page.evaluate("irasshai('track', 'show_toast')")
        card = wait_shown(page).bounding_box()
        assert (round(card["x"]), round(card["y"] + card["height"])) == (1280 - 20 - 360, 800 - 20)


def test_on_a_phone_the_sheet_stays_at_the_bottom_even_over_controls(browser, fixtures):
    with new_visitor(browser, **IPHONE_13) as context:
        page = context.new_page()
        page.goto(fixtures.url("crowded", "placed-bottom-right"))
        sheet = wait_shown(page).bounding_box()
        assert (round(sheet["x"]), round(sheet["width"]), round(sheet["y"] + sheet["height"])) == (0, 390, 844)


def show_while_typing(page, fixtures, kind: str) -> None:
    """The visitor is typing in the page's search field when the engagement appears."""
    page.goto(fixtures.url("clean", "nothing"))
    settled(page, "shop")
    page.locator("#search").fill("cotton")
    page.evaluate("(kind) => irasshai('track', 'show_' + kind)", kind)
    wait_shown(page)


@pytest.mark.parametrize("kind", ["chat", "coupon", "banner", "toast"])
def test_keyboard_tab_into_a_popup_and_escape_closes_it(browser, fixtures, kind):
    dismissed = counted(fixtures.server, "shop", f"{kind}-on-event", "dismissed")
    with new_visitor(browser) as context:
        page = context.new_page()
        show_while_typing(page, fixtures, kind)
        search = page.locator("#search")
        expect(search).to_be_focused()  # a popup never takes the focus from the page
        page.keyboard.press("Escape")  # Esc outside the popup is the page's, not the popup's
        expect(box(page)).to_be_visible()

        page.keyboard.press("Tab")
        expect(box(page).get_by_role("button", name="閉じる")).to_be_focused()
        page.keyboard.press("Escape")
        expect(page.locator("irasshai-widget")).to_have_count(0)
        expect(search).to_be_focused()
        expect(search).to_have_value("cotton")
        wait_counted(fixtures.server, "shop", f"{kind}-on-event", "dismissed", at_least=dismissed + 1)


def test_keyboard_modal_takes_focus_keeps_it_inside_and_gives_it_back(browser, fixtures):
    dismissed = counted(fixtures.server, "shop", "modal-on-event", "dismissed")
    with new_visitor(browser) as context:
        page = context.new_page()
        show_while_typing(page, fixtures, "modal")
        dialog = page.get_by_role("dialog", name="週末セール")
        expect(dialog).to_have_attribute("aria-modal", "true")
        primary, close = dialog.get_by_role("link", name="セール会場へ"), dialog.get_by_role("button", name="閉じる")
        expect(primary).to_be_focused()
        for key, focused in [
            ("Tab", close),
            ("Tab", primary),
            ("Tab", close),
            ("Shift+Tab", primary),
            ("Shift+Tab", close),
            ("Shift+Tab", primary),
        ]:
            page.keyboard.press(key)
            expect(focused).to_be_focused()
        page.keyboard.press("Escape")
        expect(page.locator("irasshai-widget")).to_have_count(0)
        expect(page.locator("#search")).to_be_focused()
        wait_counted(fixtures.server, "shop", "modal-on-event", "dismissed", at_least=dismissed + 1)


WORDS = {
    "ja": {"close": "閉じる", "copy": "コピー", "code": "クーポンコード", "until": "有効期限: ", "chat": "相談する"},
    "en": {"close": "Close", "copy": "Copy", "code": "Coupon code", "until": "Valid until ", "chat": "Chat with us"},
}
NAMES = {
    "ja": {
        "chat": "佐藤（スタッフ）",
        "coupon": "はじめてのお客様へ",
        "modal": "週末セール",
        "banner": "LINEで友だち追加",
        "toast": "このトップスに合わせるなら",
    },
    "en": {
        "chat": "Sato (staff)",
        "coupon": "Welcome to our shop",
        "modal": "Weekend sale",
        "banner": "Follow us on LINE",
        "toast": "Goes well with this top",
    },
}
ROLES = {"chat": "dialog", "coupon": "dialog", "modal": "dialog", "banner": "region", "toast": "status"}


@pytest.mark.parametrize("language, site", [("ja", "shop"), ("en", "shop-en")])
def test_roles_names_and_words_in_the_site_language(browser, fixtures, artifacts, language, site):
    words, names = WORDS[language], NAMES[language]
    with new_visitor(browser, locale="ja-JP" if language == "ja" else "en-US") as context:
        page = context.new_page()
        for kind in KINDS:
            page.goto(fixtures.url("clean", kind, site))
            expect(wait_shown(page)).to_have_attribute("lang", language)
            engagement = page.get_by_role(ROLES[kind], name=names[kind])
            expect(engagement).to_be_visible()
            expect(engagement.get_by_role("button", name=words["close"])).to_be_visible()
            if kind == "modal":
                expect(engagement).to_have_attribute("aria-modal", "true")
            elif kind in ("chat", "coupon"):
                expect(engagement).not_to_have_attribute("aria-modal", "true")
            if kind == "chat":
                expect(engagement.get_by_role("button", name=words["chat"])).to_be_visible()
                expect(page.locator("irasshai-widget .avatar")).to_have_text(names["chat"][0])
            if kind == "coupon":
                expect(engagement.get_by_role("status", name=words["code"])).to_have_text(
                    re.compile(r"^WELCOME-\d{4}$")
                )
                expect(engagement.get_by_role("button", name=words["copy"])).to_be_visible()
                expect(engagement).to_contain_text(words["until"])
            page.screenshot(path=artifacts / f"ui-{language}-{kind}.png")


@pytest.mark.parametrize("motion, duration", [("reduce", "0s"), ("no-preference", "0.25s, 0.25s")])
def test_reduced_motion_means_no_transition(browser, fixtures, motion, duration):
    with new_visitor(browser, reduced_motion=motion) as context:
        page = context.new_page()
        page.goto(fixtures.url("clean", "toast"))
        wait_shown(page)
        expect(page.locator("irasshai-widget .layer")).to_have_css("transition-duration", duration)


def test_links_are_the_http_urls_of_the_rule(browser, fixtures):
    expected = {
        "banner": ("友だち追加", "https://line.me/R/ti/p/@fixture"),
        "modal": ("セール会場へ", "https://shop.example/sale"),
        "toast": ("ボトムスを見る", fixtures.shop + "/category/bottoms"),
    }  # a site path, on the shop
    with new_visitor(browser) as context:
        page = context.new_page()
        for kind, (label, href) in expected.items():
            page.goto(fixtures.url("clean", kind))
            expect(wait_shown(page).get_by_role("link", name=label)).to_have_attribute("href", href)
        # Without a URL the button is a button, not a link back to the page.
        page.goto(fixtures.url("clean", "chat"))
        expect(wait_shown(page).get_by_role("button", name="相談する")).to_be_visible()
        expect(box(page).locator("a")).to_have_count(0)


def test_chat_button_without_url_hands_over_to_the_shops_chat(browser, fixtures):
    clicked = counted(fixtures.server, "shop", "chat", "clicked")
    with new_visitor(browser) as context:
        page = context.new_page()
        page.goto(fixtures.url("clean", "chat"))
        wait_shown(page)
        page.evaluate("window.chats = []; addEventListener('irasshai:chat', (e) => chats.push(e.detail.rule))")
        page.get_by_role("dialog", name="佐藤（スタッフ）").get_by_role("button", name="相談する").click()
        expect(page.locator("irasshai-widget")).to_have_count(0)
        assert page.evaluate("chats") == ["chat"]
        assert page.url == fixtures.url("clean", "chat")
        wait_counted(fixtures.server, "shop", "chat", "clicked", at_least=clicked + 1)


def test_a_click_on_the_modals_backdrop_dismisses_it(browser, fixtures):
    dismissed = counted(fixtures.server, "shop", "modal", "dismissed")
    with new_visitor(browser) as context:
        page = context.new_page()
        page.goto(fixtures.url("clean", "modal"))
        wait_shown(page)
        page.mouse.click(10, 700)  # outside the dialog, on the dimmed page
        expect(page.locator("irasshai-widget")).to_have_count(0)
        wait_counted(fixtures.server, "shop", "modal", "dismissed", at_least=dismissed + 1)


def test_rules_cannot_link_to_javascript(tmp_path):
    write_site(
        tmp_path,
        **{
            "bad.yaml": """\
        rules:
          - id: sneaky
            show:
              message:
                title: Click me
                button: {label: Go, url: "javascript:alert(1)"}
        """
        },
    )
    config, problems = load_config(tmp_path)
    assert config is None
    assert any(
        "bad.yaml:6:" in line and "'javascript:alert(1)' is not an allowed link" in line for line in problems.lines()
    ), problems.lines()


def test_rule_text_and_visitor_data_stay_text(browser, fixtures, artifacts):
    with new_visitor(browser) as context:
        page = context.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(fixtures.url("xss", "xss"))
        toast = page.get_by_role("status", name="<img src=x onerror=alert(1)>")
        expect(toast).to_be_visible()
        expect(toast).to_contain_text("<b>x</b>さん、<script>alert(2)</script>")
        expect(page.locator("irasshai-widget").locator("img, b, script")).to_have_count(0)
        page.screenshot(path=artifacts / "ui-text-only.png")
        settled(page, "shop")
        assert dialogs == []


def test_only_one_engagement_on_screen_at_a_time(browser, fixtures):
    with new_visitor(browser) as context:
        page = context.new_page()
        page.goto(fixtures.url("clean", "toast"))
        wait_shown(page)
        with page.expect_response(lambda response: '"again"' in (response.request.post_data or "")) as reply:
            page.evaluate("irasshai('track', 'again')")
        assert reply.value.json()["show"]["rule"] == "again"  # the server decided on a second one
        settled(page, "shop")
        expect(page.locator("irasshai-widget")).to_have_count(1)
        expect(page.get_by_role("status", name="このトップスに合わせるなら")).to_be_visible()
        expect(page.get_by_text("二つ目のお知らせ")).to_have_count(0)
