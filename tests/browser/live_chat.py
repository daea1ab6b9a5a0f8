"""The real chat server for the panel's browser tests: two `irasshai serve` processes on one Redis.

`chat_servers` starts the fixture shop (tests/browser/engagements.py: sites `shop`, ja, and
`shop-en`, en) and two server processes on the test's redis-server. The shop's pages load the
widget from the first; an `Operator` talks to the operator API (docs/chat.md) of either, so a
test can post a reply through the process the visitor's stream is *not* on, and `cut()` stops
the first process for a while (every stream on it ends) and starts it again on the same port.

`one_server` is the real app in this process on the memory store, for the panel's own tests;
it can count the open streams at the ASGI level, which a test of "one stream per tab" needs and
no HTTP API tells.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

from tests.browser.engagements import SITES, STATS_SECRET, Fixtures, fixture_shop, write_fixture_sites
from tests.conftest import free_port, live_server, serve_process
from tests.helpers import make_app


@dataclass(frozen=True)
class Operator:
    """The operator API of one server process, with the sites' secret."""

    server: str
    site: str = "shop"

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        request = urllib.request.Request(
            f"{self.server}/v1/sites/{self.site}/conversations{path}",
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={"authorization": f"Bearer {STATS_SECRET}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read()
        return json.loads(text) if text else {}

    def conversations(self, status: str = "") -> list[dict]:
        return self.call("GET", f"?status={status}" if status else "")["conversations"]

    def conversation(self, conversation_id: str) -> dict:
        return self.call("GET", f"/{conversation_id}")

    def say(self, conversation_id: str, text: str, author: str = "Aya") -> dict:
        return self.call("POST", f"/{conversation_id}/messages", {"text": text, "author": author})["message"]

    def typing(self, conversation_id: str, author: str = "Aya") -> None:
        self.call("POST", f"/{conversation_id}/typing", {"author": author})

    def visitor_texts(self, conversation_id: str) -> list[str]:
        messages = self.conversation(conversation_id)["messages"]
        return [m["text"] for m in messages if m["author"] == "visitor"]

    def wait_conversation(self, count: int = 1, timeout: float = 10) -> list[dict]:
        """Wait until the site has `count` conversations with a visitor message; newest first."""
        deadline = time.monotonic() + timeout
        while True:
            found = [c for c in self.conversations() if self.visitor_texts(c["id"])]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(found)} conversation(s) with a visitor message, expected {count}")
            time.sleep(0.05)


@dataclass(frozen=True)
class ChatServers(Fixtures):
    other: str  # the second server process: the shop's pages never talk to it
    cut: Callable[[], AbstractContextManager[None]] = nullcontext  # the first process is down within

    def operator(self, site: str = "shop", through_other: bool = True) -> Operator:
        return Operator(self.other if through_other else self.server, site)


def _rules(folder: Path, shop_url: str, launcher: bool) -> Path:
    rules = write_fixture_sites(folder / "rules", shop_url)
    if launcher:
        for key in SITES:
            with (rules / key / "site.yaml").open("a", encoding="utf-8") as site:
                site.write("launcher: true\n")
    return rules


@contextmanager
def chat_servers(folder: Path, redis_url: str, launcher: bool = False) -> Iterator[ChatServers]:
    """Two real server processes on `redis_url` and the fixture shop, each on its own port."""
    shop_port, server_port = free_port(), free_port()
    shop_url, server_url = f"http://127.0.0.1:{shop_port}", f"http://127.0.0.1:{server_port}"
    rules = _rules(folder, shop_url, launcher)
    secrets = {"IRASSHAI_SITE_SECRETS": ",".join(f"{key}={STATS_SECRET}" for key in SITES)}
    first: list[AbstractContextManager[str]] = []

    def start() -> None:
        first.append(serve_process(rules, redis_url, port=server_port, **secrets))
        first[-1].__enter__()

    def stop() -> None:
        if first:
            first.pop().__exit__(None, None, None)

    @contextmanager
    def cut() -> Iterator[None]:
        """The first process stops (its streams end, as when a server restarts) and starts again after."""
        stop()
        try:
            yield
        finally:
            start()

    with ExitStack() as stack:
        stack.callback(stop)
        start()
        other = stack.enter_context(serve_process(rules, redis_url, **secrets))
        stack.enter_context(live_server(fixture_shop(server_url), port=shop_port))
        yield ChatServers(shop_url, server_url, other, cut)


@dataclass
class StreamCount:
    open: int = 0
    opened: int = 0


def counting(app, count: StreamCount):
    """`app` with every GET …/stream counted while its response is open."""

    async def asgi(scope, receive, send):
        if scope["type"] != "http" or not scope["path"].endswith("/stream"):
            return await app(scope, receive, send)
        count.open += 1
        count.opened += 1
        try:
            await app(scope, receive, send)
        finally:
            count.open -= 1

    return asgi


@contextmanager
def one_server(folder: Path, launcher: bool = False, count: StreamCount | None = None) -> Iterator[ChatServers]:
    """The real app (memory store) in this process and the fixture shop; with `count`, its open streams counted."""
    shop_port, server_port = free_port(), free_port()
    shop_url, server_url = f"http://127.0.0.1:{shop_port}", f"http://127.0.0.1:{server_port}"
    secrets = ",".join(f"{key}={STATS_SECRET}" for key in SITES)
    app = make_app(_rules(folder, shop_url, launcher), site_secrets=secrets)
    app = counting(app, count) if count is not None else app
    with live_server(app, port=server_port), live_server(fixture_shop(server_url), port=shop_port):
        yield ChatServers(shop_url, server_url, server_url)
