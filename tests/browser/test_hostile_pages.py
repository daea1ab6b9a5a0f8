"""Hostile pages: the widget keeps its look and its place whatever the page does to what it does not own.

Contract (docs/snippet.md, "Hostile pages"): on a page whose CSS aims, with `!important`, at every
element, at the body's children, at the widget's element names, at dialogs and popovers, with any
property (all: revert/unset, position and inset, transforms, filters, containment, visibility and
opacity, display, z-index, fonts and line-height, zoom, writing-mode and direction,
pointer-events, clip-path and masks, blend modes, generated content and backdrops, custom
properties), the engagement card, the chat launcher and the chat panel are where a clean page has
them (bottom-right, 20 px from the window's edges), whole within the window (the screenshot's
size), on top of everything (the page's `elementFromPoint` at their centre is the widget, and
inside it the card itself), visible and opaque, with no text under 12 px, and pixel for pixel as
on the clean page; their buttons take a real click; and the page's own controls still take the
pointer where the widget is not. Under all of that CSS at once, every kind (coupon, chat prompt,
modal, banner) and placement sits where it says, as on a clean page. On a page that broke or replaced its globals before the widget
loaded, or breaks them all once it has, events are stored (nothing of the page's prototype
additions or toJSON in them), the engagement shows as on a clean page, and a chat message gets
to the operator, without a single console error.

Every page is tests/browser/pages/attack.html with stylesheets or scripts from pages/attacks/.
Screenshots of each are saved in tests/artifacts/hostile-*.png.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.engagements import IPHONE_13, watch_console
from tests.browser.hostile import ABOVE_LAUNCHER, MARGIN, Look, differing_pixels, hostile_visitor, inset, png_size
from tests.browser.live_chat import Operator, one_server
from tests.conftest import ROOT

pytestmark = pytest.mark.browser

CSS_ATTACKS = [
    "revert",
    "unset",
    "position",
    "transform",
    "filter",
    "contain",
    "visibility",
    "display",
    "z-index",
    "font",
    "zoom",
    "writing",
    "pointer-events",
    "clip-path",
    "blend",
    "pseudo",
]
# All of them on one page (later rules win where they disagree).
EVERYTHING = ",".join(CSS_ATTACKS)
SCRIPT_ATTACKS = {
    "before the widget": "old-libraries,broken-globals",
    "after the widget": "after",
    # (Not old-libraries with after: the old libraries' own replacements call the apply and call
    # that after.js breaks, so the page has broken its own Array methods.)
    "broken before and after, under hostile CSS": "broken-globals,after," + EVERYTHING,
}
# Pixels inside a part that may differ from the clean page's (anti-aliasing): none expected.
TOLERANCE = 0.002


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """The real app (memory store) with the launcher on, and the fixture shop with its attack pages."""
    with one_server(tmp_path_factory.mktemp("hostile"), launcher=True) as running:
        yield running


@pytest.fixture(scope="module")
def blank(browser):
    """A page of no one's, where screenshots are compared."""
    context = browser.new_context()
    yield context.new_page()
    context.close()


def url(servers, attacks: str, kind: str = "toast") -> str:
    return f"{servers.shop}/shop/attack/{attacks}/{kind}"


def wait_card(page: Page) -> None:
    expect(page.locator("irasshai-widget .layer.in")).to_have_count(1, timeout=10_000)
    expect(page.locator("irasshai-widget .layer")).to_have_css("opacity", "1")


def see(page: Page, blank: Page, reference: dict | None, name: str, artifacts) -> dict:
    """The card and the launcher (then, after the card is closed with a click, the chat panel opened
    with a click on the launcher) as measured, and their pixels compared with `reference`'s."""
    look = Look(page)
    wait_card(page)
    launcher = page.locator("irasshai-chat").get_by_role("button", name="チャットを開く")
    expect(launcher).to_be_visible()
    seen = look.measure()
    window = look.screenshot()
    (artifacts / f"hostile-{name}.png").write_bytes(window)
    seen["screenshot"] = png_size(window)
    x, y, width, height = inset(seen["card"]["rect"], 16)
    seen["pixels"] = {"card": (window, [x, y, width, height])}
    # The widget's own buttons take a real click, whatever the page's pointer-events.
    page.locator("irasshai-widget").get_by_role("button", name="閉じる").click()
    expect(page.locator("irasshai-widget")).to_have_count(0)
    seen["launcher"] = look.measure()["launcher"]
    launcher.click()
    dialog = page.locator("irasshai-chat").get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("textbox")).to_be_focused()
    panel = look.measure()
    seen["panel"] = panel["panel"]
    x, y, width, height = seen["panel"]["rect"]
    window = look.screenshot()
    (artifacts / f"hostile-{name}-chat.png").write_bytes(window)
    # The panel's head and log (the input below has a blinking caret).
    seen["pixels"]["panel"] = (window, [x + 8, y + 8, width - 16, int(height * 0.7)])
    if reference:
        seen["differ"] = {
            part: differing_pixels(blank, png, reference["pixels"][part]) for part, png in seen["pixels"].items()
        }
    return seen


@pytest.fixture(scope="module")
def reference(browser, servers, blank):
    """The widget on attack.html without an attack."""
    artifacts = ROOT / "tests" / "artifacts"
    artifacts.mkdir(exist_ok=True)
    with hostile_visitor(browser) as context:
        page = context.new_page()
        console = watch_console(page)
        page.goto(url(servers, "none"))
        seen = see(page, blank, None, "none", artifacts)
        assert console.problems() == []
    return seen


def problems(seen: dict, reference: dict) -> dict:
    """Everything about the card, the launcher and the panel that is not as it should be."""
    found = {}
    width, height = seen["viewport"]
    for part in ("card", "launcher", "panel"):
        got, clean = seen[part], reference[part]
        x, y, w, h = got["rect"]
        above = ABOVE_LAUNCHER if part == "card" else 0  # the card sits above the launcher
        wrong = {
            "moved or resized (clean page: {})".format(clean["rect"]): got["rect"] != clean["rect"],
            "not whole within the screenshot": x < 0 or y < 0 or x + w > width or y + h > height,
            "not in the bottom-right corner": x + w != width - MARGIN or y + h != height - MARGIN - above,
            "not on top at its centre": not got["onTop"],
            "its centre reaches something else": not got["reached"],
            f"text of {got['smallestText']} px": got["smallestText"] < 12,
            f"visibility {got['visibility']}": got["visibility"] != "visible",
            f"opacity {got['opacity']}": got["opacity"] != 1,
        }
        if part in seen.get("differ", {}):
            share = seen["differ"][part]
            wrong[f"{share:.1%} of its pixels differ from the clean page's"] = share > TOLERANCE
        found.update({f"{part}: {what}": True for what, bad in wrong.items() if bad})
    if tuple(seen["screenshot"]) != tuple(seen["viewport"]):
        found[f"screenshot {seen['screenshot']} is not the window {seen['viewport']}"] = True
    return found


def controls_work(page: Page, seen: dict) -> dict:
    """The page's own controls: none has the widget at its centre, and each the page lets be hit takes a click."""
    found = {}
    for control in seen["controls"]:
        where = Look(page).measure()["controls"][control]  # where it is now (a click may move the others)
        if where["hit"] == "itself":
            page.mouse.click(*where["centre"])
            clicks = page.locator("#clicks").text_content() or ""
            if not re.fullmatch(rf"\d+ {control}", clicks):
                found[f"{control} did not take a click (the page counted {clicks!r})"] = True
    found.update(
        {f"the widget covers the page's {c}": True for c, w in seen["controls"].items() if w["hit"] == "widget"}
    )
    return found


@pytest.mark.parametrize("attacks", [*CSS_ATTACKS, EVERYTHING], ids=[*CSS_ATTACKS, "everything"])
def test_the_widget_looks_and_sits_as_on_a_clean_page_under_hostile_css(
    browser, servers, blank, reference, artifacts, attacks
):
    name = "everything" if attacks == EVERYTHING else attacks
    with hostile_visitor(browser) as context:
        page = context.new_page()
        console = watch_console(page)
        page.goto(url(servers, attacks))
        seen = see(page, blank, reference, name, artifacts)
        assert problems(seen, reference) == {}
        assert controls_work(page, seen) == {}
        assert console.problems() == []


def test_the_reference_page_is_what_the_assertions_expect(reference):
    """The clean page itself: the card, launcher and panel in the corner, on top, readable; the page's controls free."""
    assert problems(reference, reference) == {}
    assert {control: where["hit"] for control, where in reference["controls"].items()} == {
        "home": "itself",
        "buy": "itself",
        "totop": "itself",
    }


# Where each kind and placement sits in a 1280 × 800 window: (left, top, right, bottom), None where it depends on the content.
PLACES = {
    "coupon": (None, None, 1280 - MARGIN, 800 - MARGIN - ABOVE_LAUNCHER),
    "chat": (None, None, 1280 - MARGIN, 800 - MARGIN - ABOVE_LAUNCHER),
    "placed-bottom-left": (MARGIN, None, None, 800 - MARGIN),
    "placed-top": ((1280 - 360) // 2, MARGIN, (1280 + 360) // 2, None),
    "banner": (0, None, 1280, 800),
    "banner-top": (0, 0, 1280, None),
    "modal": "centred",
}


@pytest.mark.parametrize("kind", PLACES)
def test_every_kind_and_placement_sits_where_it_says_under_all_the_hostile_css(
    browser, servers, blank, artifacts, kind
):
    with hostile_visitor(browser) as context:
        page = context.new_page()
        console = watch_console(page)
        seen = {}
        for attacks in ("none", EVERYTHING):  # the same visitor: the same coupon code on both
            page.goto(url(servers, attacks, kind))
            wait_card(page)
            look = Look(page)
            seen[attacks] = (look.measure()["card"], look.screenshot())
        (artifacts / f"hostile-everything-{kind}.png").write_bytes(seen[EVERYTHING][1])
        card, window = seen[EVERYTHING]
        x, y, width, height = card["rect"]
        if PLACES[kind] == "centred":
            assert (abs(x + width / 2 - 640), abs(y + height / 2 - 400)) < (1, 1), card
        else:
            assert (x, y, x + width, y + height) == tuple(
                got if want is None else want
                for got, want in zip((x, y, x + width, y + height), PLACES[kind], strict=True)
            ), card
        assert x >= 0 and y >= 0 and x + width <= 1280 and y + height <= 800 and png_size(window) == (1280, 800)
        assert card["onTop"] and card["reached"] and card["opacity"] == 1 and card["visibility"] == "visible", card
        assert card["smallestText"] >= 12
        # The same pixels as on the clean page (where placement may have put it elsewhere), but
        # for a bottom banner's right end, where the launcher may be over it or under it.
        clips = {}
        for attacks, (part, _) in seen.items():
            left, top, w, h = inset(part["rect"], 16)
            clips[attacks] = [left, top, w - 80 if kind == "banner" else w, h]
        share = differing_pixels(blank, (window, clips[EVERYTHING]), (seen["none"][1], clips["none"]))
        assert share <= TOLERANCE, f"{share:.1%} of its pixels differ from the clean page's"
        assert console.problems() == []


def test_a_hostile_page_on_a_phone_still_gets_its_bottom_sheet(browser, servers, artifacts):
    with hostile_visitor(browser, **IPHONE_13) as context:
        page = context.new_page()
        page.goto(url(servers, EVERYTHING))
        wait_card(page)
        look = Look(page)
        seen = look.measure()
        (artifacts / "hostile-everything-phone.png").write_bytes(look.screenshot())
        x, y, width, height = seen["card"]["rect"]
        assert (x, x + width, y + height) == (0, 390, 844), seen["card"]
        assert seen["card"]["onTop"] and seen["card"]["reached"]
        assert seen["card"]["smallestText"] >= 12


def sent_batches(page: Page) -> list[tuple[int, dict]]:
    """Each events batch the page sends, as (status of the reply, the batch as the server read it)."""
    batches: list[tuple[int, dict]] = []
    page.on(
        "response",
        lambda response: (
            batches.append((response.status, json.loads(response.request.post_data or "null")))
            if response.url.endswith("/events") and response.request.method == "POST"
            else None
        ),
    )
    return batches


def walk(value):
    """Every key and value inside a decoded JSON document."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)
    else:
        yield value


@pytest.mark.parametrize("attacks", SCRIPT_ATTACKS.values(), ids=SCRIPT_ATTACKS.keys())
def test_broken_globals_before_or_after_the_snippet_change_nothing(
    browser, servers, blank, reference, artifacts, attacks
):
    name = "globals-" + attacks.split(",")[-1] if len(attacks) < 40 else "globals-everything"
    with hostile_visitor(browser) as context:
        page = context.new_page()
        console = watch_console(page)
        batches = sent_batches(page)
        page.goto(url(servers, attacks))
        if "after" in attacks:
            expect(page.locator("html")).to_have_attribute("data-broken", "")  # broken before the first batch
        # The page's own "Add to cart" sends an event and an identity through the widget (clicked
        # from a script: under the hostile CSS the button is off the screen).
        Look(page).evaluate("document.getElementById('buy').click()")
        seen = see(page, blank, reference, name, artifacts)
        assert problems(seen, reference) == {}

        operator = Operator(servers.server)
        before = len([c for c in operator.conversations() if operator.visitor_texts(c["id"])])
        dialog = page.locator("irasshai-chat").get_by_role("dialog")
        dialog.get_by_role("textbox").press_sequentially("こんにちは")
        dialog.get_by_role("textbox").press("Enter")
        newest = operator.wait_conversation(before + 1)[0]
        assert operator.visitor_texts(newest["id"]) == ["こんにちは"]
        expect(dialog.locator(".visitor.pending")).to_have_count(0)  # the reply confirmed it
        expect(dialog.locator(".visitor .text")).to_have_text(["こんにちは"])
        assert Look(page).measure()["panel"]["smallestText"] >= 12  # the message's time too

        sent = [event for status, batch in batches for event in batch["events"]]
        assert batches and {status for status, _ in batches} == {200}, "every batch was stored"
        by_type = {event["type"]: event for event in sent}
        assert by_type["track"]["name"] == "add_to_cart"
        assert by_type["track"]["properties"] == {"price": 6900, "added": "2026-01-02T03:04:05.000Z"}
        assert by_type["identify"]["customer"] == "C-1001"
        assert by_type["identify"]["attributes"] == {"name": "山田 花子"}
        assert (
            isinstance(by_type["page_view"]["title"], str) and by_type["page_view"]["title"] == "Hostile page fixture"
        )
        assert not [
            item for item in walk([b for _, b in batches]) if "Object.prototype" in str(item) or item == "polluted"
        ]
        assert {"shown", "dismissed"} <= {event["action"] for event in sent if event["type"] == "feedback"}
        assert console.problems() == []
