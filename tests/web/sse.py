"""Reading Server-Sent Events in tests: a streaming httpx request, its lines parsed by hand."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import httpx2 as httpx

from tests.helpers import SHOP, batch, page_view


def visitor_and_ticket(base: str, site: str = "shop") -> tuple[str, str]:
    reply = httpx.post(
        f"{base}/v1/sites/{site}/events",
        content=batch(page_view("/")),
        headers={"origin": SHOP, "content-type": "text/plain;charset=UTF-8"},
    )
    assert reply.status_code == 200, reply.text
    return reply.json()["visitor"], reply.json()["ticket"]


def say(base: str, token: str, text: str, client_id: str) -> dict:
    body = {"visitor": token, "do": {"type": "say", "id": client_id, "text": text}}
    reply = httpx.post(
        f"{base}/v1/sites/shop/chat",
        content=json.dumps(body),
        headers={"origin": SHOP, "content-type": "text/plain;charset=UTF-8"},
    )
    assert reply.status_code == 200, reply.text
    return reply.json()


class Stream:
    """An open SSE response; `next()` is the next event as {event, id, data} (or {comment})."""

    def __init__(self, response: httpx.Response):
        self.response = response
        self._lines = response.iter_lines()

    def next(self, comments: bool = False) -> dict:
        event: dict = {}
        for line in self._lines:
            if not line:
                if event and (comments or "comment" not in event):
                    if "data" in event:
                        event["data"] = json.loads(event["data"])
                    return event
                event = {}
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if not name:
                event["comment"] = value
            elif name == "data":
                event["data"] = event["data"] + "\n" + value if "data" in event else value
            else:
                event[name] = value
        raise AssertionError("the stream ended")

    def until(self, predicate) -> list[dict]:
        """Events up to and including the first for which `predicate` holds."""
        seen = []
        while True:
            seen.append(self.next())
            if predicate(seen[-1]):
                return seen


@contextmanager
def open_stream(base: str, ticket: str, last: str = "", origin: str = SHOP) -> Iterator[Stream]:
    headers = {"origin": origin, "accept": "text/event-stream"}
    if last:
        headers["last-event-id"] = last
    with (
        httpx.Client(timeout=httpx.Timeout(10.0)) as client,
        client.stream("GET", f"{base}/v1/sites/shop/stream", params={"ticket": ticket}, headers=headers) as response,
    ):
        assert response.status_code == 200, response.read()
        yield Stream(response)


def operator_says(base: str, secret: str, conversation: str, text: str) -> dict:
    reply = httpx.post(
        f"{base}/v1/sites/shop/conversations/{conversation}/messages",
        content=json.dumps({"text": text, "author": "Aya"}),
        headers={"authorization": f"Bearer {secret}"},
    )
    assert reply.status_code == 200, reply.text
    return reply.json()["message"]
