"""Reading the demo shop's pages in tests: scripts, attributes, test ids and the Irasshai calls."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any

from starlette.testclient import TestClient


class Page(HTMLParser):
    """What the tests look at in a page: scripts, attributes, test ids and the Irasshai calls."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.head_scripts: list[dict[str, str | None]] = []
        self.inline_scripts = 0
        self.inline_styles: list[str] = []
        self.handlers: list[str] = []
        self.test_ids: list[str] = []
        self.calls: list[list[Any]] = []
        self._in_head = False
        self._in_script = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.inline_styles += [tag for name, _ in attrs if name == "style"]
        self.handlers += [name for name, _ in attrs if name.startswith("on")]
        if "data-testid" in attributes:
            self.test_ids.append(attributes["data-testid"] or "")
        if tag == "head":
            self._in_head = True
        elif tag == "body":
            self.calls = json.loads(attributes["data-irasshai-calls"] or "")
        elif tag == "script":
            self._in_script = True
            self.scripts.append(attributes)
            if self._in_head:
                self.head_scripts.append(attributes)

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self._in_head = False
        elif tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts += 1


def tracks(page: Page) -> list[list[Any]]:
    return [call for call in page.calls if call[0] == "track"]


def add(client: TestClient, slug: str, size: str = "M", quantity: int = 1) -> Page:
    response = client.post("/cart/add", data={"slug": slug, "size": size, "quantity": str(quantity)})
    assert response.status_code == 200
    assert response.url.path == "/cart"
    return Page(response.text)
