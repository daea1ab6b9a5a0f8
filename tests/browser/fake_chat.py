"""A stand-in for the chat server (docs/chat.md), for the widget's browser tests only.

It implements the two endpoints the widget uses, minimally and in memory, to the wire format of
the shared design: `POST /v1/sites/{site}/chat` (say, choose, typing, read, open; a client id
seen before is stored once) and `GET /v1/sites/{site}/stream` (Server-Sent Events written by
hand: every entry with its id, resuming after `Last-Event-ID` or `?last=`, the whole
conversation when neither is given). Until the real server sends a `ticket` in its events
reply, `with_chat` adds one. Swap `chat_servers` for the real server once it is in the tree.

Visitors are told apart by their token; a ticket is `fake.<token>`.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from tests.browser.engagements import SITES, Fixtures, fixture_shop, write_fixture_sites
from tests.conftest import free_port, live_server
from tests.helpers import make_app

POLL = 0.05  # seconds between two looks at a visitor's feed: tests wait with expect(), never on this


@dataclass
class FakeChat:
    posts: list[dict] = field(default_factory=list)  # every action POSTed, in the order received
    feeds: dict[str, list[tuple[str, str, dict]]] = field(default_factory=dict)  # token -> (id, kind, data)
    typings: dict[str, list[dict]] = field(default_factory=dict)  # token -> ephemeral typing events
    client_ids: dict[str, dict[str, dict]] = field(default_factory=dict)  # token -> client id -> message
    labels: dict[str, str] = field(default_factory=dict)  # choice id -> label
    open_streams: int = 0
    streams_opened: int = 0
    counter: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    # ---- what a test does as the operator or the bot ----

    def add(self, token: str, kind: str, data: dict) -> dict:
        with self.lock:
            self.counter += 1
            entry = f"{1_733_300_000_000 + self.counter}-0"
            if kind == "message":
                data = {"id": entry, "conversation": token[:12] + ".1", "ts": time.time(), "choices": [], **data}
                for choice in data["choices"]:
                    self.labels[choice["id"]] = choice["label"]
            self.feeds.setdefault(token, []).append((entry, kind, data))
            return data

    def reply(self, token: str, text: str, author: str = "operator", name: str = "佐藤", choices=()) -> dict:
        return self.add(token, "message", {"author": author, "name": name, "text": text, "choices": list(choices)})

    def typing(self, token: str, name: str = "佐藤") -> None:
        with self.lock:
            self.typings.setdefault(token, []).append({"who": "operator", "name": name})

    def said(self, kind: str = "say") -> list[dict]:
        return [action for action in self.posts if action.get("type") == kind]

    # ---- the two endpoints ----

    async def chat(self, request: Request) -> Response:
        headers = {"access-control-allow-origin": request.headers.get("origin", "*")}
        body = json.loads(await request.body())
        token, action = body["visitor"], body["do"]
        with self.lock:
            self.posts.append(action)
        kind = action.get("type")
        if kind in ("typing", "read"):
            return Response(status_code=204, headers=headers)
        conversation = {"id": token[:12] + ".1", "status": "open"}
        if kind == "open":
            return JSONResponse({"conversation": conversation, "ticket": "fake." + token}, headers=headers)
        text = action.get("text") or self.labels.get(action.get("choice", ""), "?")
        known = self.client_ids.setdefault(token, {})
        if action["id"] not in known:
            known[action["id"]] = self.add(token, "message", {"author": "visitor", "name": "", "text": text})
        return JSONResponse({"message": known[action["id"]], "conversation": conversation}, headers=headers)

    async def stream(self, request: Request) -> Response:
        ticket = request.query_params.get("ticket", "")
        if not ticket.startswith("fake."):
            return JSONResponse({"error": "bad ticket"}, 401)
        token = ticket[5:]
        last = request.headers.get("last-event-id") or request.query_params.get("last") or ""

        async def events():
            sent = next((i + 1 for i, entry in enumerate(self.feeds.get(token, [])) if entry[0] == last), 0)
            typed = len(self.typings.get(token, []))
            self.open_streams += 1
            self.streams_opened += 1
            try:
                yield b": hello\n\n"
                while not await request.is_disconnected():
                    feed, typings = self.feeds.get(token, []), self.typings.get(token, [])
                    for entry, kind, data in feed[sent:]:
                        yield f"event: {kind}\nid: {entry}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()
                    sent = len(feed)
                    for data in typings[typed:]:
                        yield f"event: typing\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()
                    typed = len(typings)
                    await asyncio.sleep(POLL)
            finally:
                self.open_streams -= 1

        headers = {"access-control-allow-origin": request.headers.get("origin", "*"), "cache-control": "no-store"}
        return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


def with_chat(app, fake: FakeChat):
    """The Irasshai app with the fake's two endpoints in front, and a ticket in every events reply."""

    async def asgi(scope, receive, send):
        path = scope.get("path", "")
        if scope["type"] == "http" and path.endswith("/chat") and scope["method"] == "POST":
            return await _run(fake.chat, scope, receive, send)
        if scope["type"] == "http" and path.endswith("/stream"):
            return await _run(fake.stream, scope, receive, send)
        if scope["type"] == "http" and path.endswith("/events") and scope["method"] == "POST":
            return await app(scope, receive, _with_ticket(send))
        await app(scope, receive, send)

    return asgi


async def _run(endpoint, scope, receive, send) -> None:
    response = await endpoint(Request(scope, receive))
    await response(scope, receive, send)


def _with_ticket(send):
    start: dict = {}
    chunks: list[bytes] = []

    async def wrapped(message):
        if message["type"] == "http.response.start":
            start.update(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body"):
            return
        body = b"".join(chunks)
        try:
            reply = json.loads(body)
            if "visitor" in reply:
                reply["ticket"] = "fake." + reply["visitor"]
                body = json.dumps(reply).encode()
        except ValueError:
            pass
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return wrapped


@contextmanager
def chat_servers(folder: Path, fake: FakeChat, launcher: bool = False):
    """The Irasshai server (memory store) with the fake chat in front, and the fixture shop.

    The fixture sites `shop` (ja) and `shop-en` (en) of tests/browser/engagements.py; with
    `launcher`, both ask for the chat launcher."""
    shop_port, server_port = free_port(), free_port()
    shop_url, server_url = f"http://127.0.0.1:{shop_port}", f"http://127.0.0.1:{server_port}"
    rules = write_fixture_sites(folder / "rules", shop_url)
    if launcher:
        for key in SITES:
            with (rules / key / "site.yaml").open("a", encoding="utf-8") as site:
                site.write("launcher: true\n")
    server = with_chat(make_app(rules), fake)
    with live_server(server, port=server_port), live_server(fixture_shop(server_url), port=shop_port):
        yield Fixtures(shop_url, server_url)
