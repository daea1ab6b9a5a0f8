"""Seeing the widget on a hostile page as a visitor would, whatever the page did to its globals.

A hostile page may have broken the very built-ins Playwright's `page.evaluate` and the tests'
own scripts use (`Array.prototype.map`, `JSON.parse`, `Function.prototype.call`), so what is
measured here runs in an isolated world of the page (`Page.createIsolatedWorld`: the same DOM,
a pristine JavaScript realm), and screenshots are taken with `Page.captureScreenshot` (which,
unlike Playwright's, stays right on a page whose root has a vertical writing mode). Shadow
roots are open in tests (tests/browser/engagements.py, OPEN_SHADOW_ROOTS), so the isolated
world can look inside the widget.
"""

from __future__ import annotations

import base64
import struct
from dataclasses import dataclass

from playwright.sync_api import BrowserContext, Page

from tests.browser.engagements import OPEN_SHADOW_ROOTS

VIEWPORT = {"width": 1280, "height": 800}
MARGIN = 20  # widget.css and chat.css: cards, the launcher and the panel keep 20 px from the window's edges
ABOVE_LAUNCHER = 56 + 12  # ui.js: a card in the launcher's corner sits 12 px above it (56 px)

# Where each part of the widget is, whether it is what a visitor sees and reaches at its centre,
# how small its smallest text is, and what the page's own controls have at their centres.
MEASURE = """(() => {
  const parts = { card: ["irasshai-widget", ".box"], launcher: ["irasshai-chat", ".launcher:not([hidden])"],
                  panel: ["irasshai-chat", ".panel:not([hidden])"] };
  const result = { viewport: [innerWidth, innerHeight], controls: {} };
  const ours = (element) => !!element && /^IRASSHAI-/.test(element.tagName);
  for (const [name, [tag, selector]] of Object.entries(parts)) {
    const host = document.querySelector(tag);
    const element = host && host.shadowRoot && host.shadowRoot.querySelector(selector);
    if (!element) continue;
    const r = element.getBoundingClientRect(), x = r.x + r.width / 2, y = r.y + r.height / 2;
    const inner = host.shadowRoot.elementFromPoint(x, y);
    const texts = [element, ...element.querySelectorAll("*")].filter(
      (e) => [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim()));
    let opacity = 1;
    for (let e = element; e && e !== host; e = e.parentNode instanceof ShadowRoot ? e.parentNode.host : e.parentElement) {
      opacity *= parseFloat(getComputedStyle(e).opacity);
    }
    result[name] = {
      rect: [r.x, r.y, r.width, r.height].map(Math.round),
      onTop: document.elementFromPoint(x, y) === host,
      reached: !!inner && (inner === element || element.contains(inner)),
      smallestText: Math.min(...texts.map((e) => parseFloat(getComputedStyle(e).fontSize))),
      visibility: getComputedStyle(element).visibility,
      opacity: opacity,
    };
  }
  for (const id of ["home", "buy", "totop"]) {
    const r = document.getElementById(id).getBoundingClientRect(), x = r.x + r.width / 2, y = r.y + r.height / 2;
    const hit = x >= 0 && y >= 0 && x < innerWidth && y < innerHeight ? document.elementFromPoint(x, y) : null;
    result.controls[id] = { centre: [x, y], hit: !hit ? "nothing" : hit.id === id ? "itself" : ours(hit) ? "widget" : "page" };
  }
  return result;
})()"""


def hostile_visitor(browser, **options) -> BrowserContext:
    """A new visitor on a wide screen who can see into the widget (and nothing else added to the page)."""
    options.setdefault("locale", "ja-JP")
    options.setdefault("viewport", VIEWPORT)
    context = browser.new_context(**options)
    context.add_init_script(OPEN_SHADOW_ROOTS)
    return context


@dataclass
class Look:
    """A page seen through the Chrome DevTools Protocol, in a world of its own."""

    page: Page

    def __post_init__(self):
        self.cdp = self.page.context.new_cdp_session(self.page)
        self.world = 0

    def evaluate(self, expression: str):
        if not self.world:
            frame = self.cdp.send("Page.getFrameTree")["frameTree"]["frame"]["id"]
            world = self.cdp.send("Page.createIsolatedWorld", {"frameId": frame, "worldName": "irasshai-tests"})
            self.world = world["executionContextId"]
        reply = self.cdp.send(
            "Runtime.evaluate", {"expression": expression, "contextId": self.world, "returnByValue": True}
        )
        if "exceptionDetails" in reply:
            raise AssertionError(f"measuring failed: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def measure(self) -> dict:
        return self.evaluate(MEASURE)

    def screenshot(self) -> bytes:
        """The window as a PNG."""
        return base64.b64decode(self.cdp.send("Page.captureScreenshot", {"format": "png"})["data"])


def png_size(png: bytes) -> tuple[int, int]:
    """A PNG's width and height, from its header."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    return struct.unpack(">II", png[16:24])


# Decodes two screenshots in a blank page and counts the pixels of one's clip [x, y, width, height]
# that differ by more than a shade in any channel from the other's clip of the same size.
COMPARE = """async ([a, b]) => {
  const pixels = async ([data, [x, y, width, height]]) => {
    const bitmap = await createImageBitmap(await (await fetch("data:image/png;base64," + data)).blob());
    const canvas = new OffscreenCanvas(width, height), context = canvas.getContext("2d");
    context.drawImage(bitmap, x, y, width, height, 0, 0, width, height);
    return context.getImageData(0, 0, width, height).data;
  };
  const [one, two] = [await pixels(a), await pixels(b)];
  if (one.length !== two.length) return 1;
  let differ = 0;
  for (let i = 0; i < one.length; i += 4) {
    if (Math.abs(one[i] - two[i]) > 8 || Math.abs(one[i + 1] - two[i + 1]) > 8 || Math.abs(one[i + 2] - two[i + 2]) > 8) differ++;
  }
  return differ / (one.length / 4);
}"""


def differing_pixels(blank: Page, one: tuple[bytes, list[int]], two: tuple[bytes, list[int]]) -> float:
    """The share of pixels (0 to 1) that differ between two (screenshot, clip) pairs, compared in
    `blank`, a page of no one's."""
    return blank.evaluate(COMPARE, [[base64.b64encode(png).decode(), clip] for png, clip in (one, two)])


def inset(rect: list[int], by: int) -> list[int]:
    """`rect` made smaller by `by` on every side (inside a card's rounded corners and shadow)."""
    x, y, width, height = rect
    return [x + by, y + by, width - 2 * by, height - 2 * by]
