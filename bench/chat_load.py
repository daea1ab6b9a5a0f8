"""The live chat's load generator: many SSE clients and a paced operator, on raw asyncio sockets.

Run by bench/chat.py in a process of its own (on the load core), never inside a server:

    python -m bench.chat_load hold --port P --secret KEY --streams 10000
        opens that many streams (tickets signed here with the server's secret, through
        server/chat/tickets.py), prints one JSON line when they are all open, holds them until
        a line arrives on stdin, then prints how many were still open and exits.
    python -m bench.chat_load latency --post-port A --stream-port B --secret KEY --site-secret S
        --visitors 1000 --rate 1000 --seconds 10
        opens a conversation per visitor (POST /chat, then the operator API sets it open),
        connects each visitor's stream to server B, then posts operator messages to server A at
        a paced rate, spread over the conversations; prints a JSON line when it starts posting,
        one when every message arrived (or 5 s passed), then one of results.

Why raw sockets: an httpx client costs about as much CPU per request as the server does, and
would be the bottleneck; an asyncio Protocol per connection (uvloop) reads the SSE bytes with
one regex search per chunk, a few µs. Each operator message's text carries its sequence number;
its send time (when the POST is written) and its arrival in the client (the chunk that holds
it) are read from the same monotonic clock, in this one process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import resource
import sys
import time

import uvloop

from server.chat.tickets import Tickets
from server.identity import VisitorIds

SITE = "demo"
ORIGIN = "https://shop.bench.example"
MARK = re.compile(rb'"text":"bench m(\d+)z"')
clock = time.monotonic


def raise_file_limit() -> int:
    """The soft limit on open files raised to the hard limit, for this process only."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


class Stream(asyncio.Protocol):
    """One EventSource-like client: GET the stream, then note when each marked message arrives."""

    def __init__(self, request: bytes, arrived: dict[int, float] | None):
        self.request = request
        self.arrived = arrived
        self.ready: asyncio.Future = asyncio.get_running_loop().create_future()
        self.head = b""
        self.tail = b""
        self.open = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = clock()
        if not self.open:
            self.head += data
            if b"\r\n\r\n" not in self.head:
                return
            head, _, data = self.head.partition(b"\r\n\r\n")
            self.open = head.startswith(b"HTTP/1.1 200")
            if not self.ready.done():
                self.ready.set_result(self.open or head.split(b"\r\n", 1)[0].decode(errors="replace"))
            self.head = b""
        if self.arrived is None:
            return
        buffer = self.tail + data
        end = 0
        for found in MARK.finditer(buffer):
            self.arrived.setdefault(int(found.group(1)), now)
            end = found.end()
        self.tail = buffer[end:][-64:]

    def connection_lost(self, exc) -> None:
        self.open = False
        if not self.ready.done():
            self.ready.set_result(f"closed: {exc}")


class Http(asyncio.Protocol):
    """A keep-alive HTTP/1.1 connection, one request at a time; the server answers with content-length."""

    def __init__(self):
        self.buffer = b""
        self.waiting: asyncio.Future | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        head, found, body = self.buffer.partition(b"\r\n\r\n")
        if not found:
            return
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if len(body) >= length and self.waiting is not None and not self.waiting.done():
            self.buffer = body[length:]
            self.waiting.set_result((int(head.split(b" ", 2)[1]), body[:length]))

    def connection_lost(self, exc) -> None:
        if self.waiting is not None and not self.waiting.done():
            self.waiting.set_exception(ConnectionError(f"connection lost: {exc}"))

    async def request(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        self.waiting = asyncio.get_running_loop().create_future()
        lines = [f"{method} {path} HTTP/1.1", "host: 127.0.0.1", f"content-length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        self.transport.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        return await self.waiting


async def _http(port: int) -> Http:
    _, protocol = await asyncio.get_running_loop().create_connection(Http, "127.0.0.1", port)
    return protocol


def _stream_request(port: int, ticket: str) -> bytes:
    return (
        f"GET /v1/sites/{SITE}/stream?ticket={ticket} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\n"
        f"accept: text/event-stream\r\norigin: {ORIGIN}\r\n\r\n"
    ).encode()


async def open_streams(port: int, tickets: list[str], arrived: dict | None, parallel: int = 200) -> list[Stream]:
    """Connect a stream per ticket, `parallel` handshakes at a time; each is open or says why not."""
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(parallel)
    streams: list[Stream] = []

    async def one(ticket: str) -> None:
        async with gate:
            request = _stream_request(port, ticket)
            try:
                _, stream = await loop.create_connection(lambda: Stream(request, arrived), "127.0.0.1", port)
            except OSError as error:
                if None not in streams:  # the first says why; the count is in the result
                    print(f"chat_load: connect failed: {error}", file=sys.stderr)
                streams.append(None)  # type: ignore[arg-type]
                return
            streams.append(stream)
            await stream.ready

    await asyncio.gather(*(one(ticket) for ticket in tickets))
    return streams


def _failures(streams: list[Stream]) -> dict[str, int]:
    why: dict[str, int] = {}
    for stream in streams:
        reason = "connect failed" if stream is None else (None if stream.open else str(stream.ready.result()))
        if reason is not None:
            why[reason[:80]] = why.get(reason[:80], 0) + 1
    return why


async def hold(args) -> None:
    tickets = Tickets(args.secret)
    signed = [tickets.issue(SITE, f"bench-held-{number:06d}") for number in range(args.streams)]
    started = clock()
    streams = await open_streams(args.port, signed, None)
    opened = sum(1 for s in streams if s is not None and s.open)
    print(json.dumps({"open": opened, "failed": _failures(streams), "seconds": clock() - started}), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    still = sum(1 for s in streams if s is not None and s.open)
    for stream in streams:
        if stream is not None and stream.transport is not None:
            stream.transport.close()
    print(json.dumps({"still_open": still}), flush=True)


async def _setup(args, ids: VisitorIds) -> tuple[list[str], list[str]]:
    """(conversation ids, stream tickets): one open conversation per visitor, through the product's API."""
    gate = asyncio.Semaphore(32)
    conversations: list[str] = []
    tickets: list[str] = []
    pool = [await _http(args.post_port) for _ in range(32)]
    operator = {"authorization": f"Bearer {args.site_secret}", "content-type": "application/json"}

    async def one(number: int) -> None:
        async with gate:
            client = pool.pop()
            try:
                _, token = ids.issue(SITE, seed=f"bench-chat-{number:06d}")
                body = json.dumps({"visitor": token, "do": {"type": "open"}}).encode()
                status, reply = await client.request(
                    "POST", f"/v1/sites/{SITE}/chat", body, {"origin": ORIGIN, "content-type": "text/plain"}
                )
                if status != 200:
                    raise RuntimeError(f"chat open answered {status}: {reply[:200]!r}")
                found = json.loads(reply)
                conversation = found["conversation"]["id"]
                status, reply = await client.request(
                    "POST",
                    f"/v1/sites/{SITE}/conversations/{conversation}/status",
                    b'{"status":"open"}',
                    operator,
                )
                if status != 200:
                    raise RuntimeError(f"status answered {status}: {reply[:200]!r}")
                conversations.append(conversation)
                tickets.append(found["ticket"])
            finally:
                pool.append(client)

    await asyncio.gather(*(one(number) for number in range(args.visitors)))
    for client in pool:
        client.transport.close()
    return conversations, tickets


async def latency(args) -> None:
    ids = VisitorIds(args.secret)
    conversations, tickets = await _setup(args, ids)
    arrived: dict[int, float] = {}
    streams = await open_streams(args.stream_port, tickets, arrived)
    failed = _failures(streams)
    if failed:
        print(json.dumps({"error": f"streams not open: {failed}"}), flush=True)
        return
    await asyncio.sleep(0.5)  # every stream past its history, waiting
    arrived.clear()
    total = int(args.rate * args.seconds)
    sent: dict[int, float] = {}
    errors: dict[str, int] = {}
    queue: asyncio.Queue = asyncio.Queue()
    headers = {"authorization": f"Bearer {args.site_secret}", "content-type": "application/json"}

    async def worker() -> None:
        client = await _http(args.post_port)
        while True:
            number = await queue.get()
            if number is None:
                break
            path = f"/v1/sites/{SITE}/conversations/{conversations[number % len(conversations)]}/messages"
            body = b'{"text":"bench m%dz","author":"bench"}' % number
            sent[number] = clock()
            try:
                status, reply = await client.request("POST", path, body, headers)
            except ConnectionError as error:
                status, reply = 0, str(error).encode()
                client = await _http(args.post_port)
            if status != 200:
                errors[f"{status} {reply[:80]!r}"] = errors.get(f"{status} {reply[:80]!r}", 0) + 1
        client.transport.close()

    workers = [asyncio.create_task(worker()) for _ in range(args.connections)]
    print(json.dumps({"posting": total}), flush=True)  # the driver reads the servers' CPU time from here
    started = clock()
    lag = 0.0  # how far the sender fell behind its schedule, at worst
    for number in range(total):
        due = started + number / args.rate
        now = clock()
        if due > now:
            await asyncio.sleep(due - now)
        else:
            lag = max(lag, now - due)
        queue.put_nowait(number)
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    posted = clock() - started
    deadline = clock() + 5.0
    while len(arrived) < total and clock() < deadline:
        await asyncio.sleep(0.05)
    print(json.dumps({"posted": total}), flush=True)
    last_arrival = max(arrived.values(), default=started)
    delays = sorted((arrived[n] - sent[n]) * 1000 for n in arrived if n in sent)
    still = sum(1 for s in streams if s.open)
    for stream in streams:
        stream.transport.close()

    def pct(p: float) -> float:
        return delays[min(len(delays) - 1, int(p * len(delays)))] if delays else float("nan")

    print(
        json.dumps(
            {
                "messages": total,
                "delivered": len(delays),
                "errors": errors,
                "post_seconds": posted,
                "sent_rate": total / posted,
                "delivered_rate": len(delays) / max(last_arrival - started, 1e-9),
                "sender_lag_ms": lag * 1000,
                "p50_ms": pct(0.50),
                "p90_ms": pct(0.90),
                "p99_ms": pct(0.99),
                "max_ms": delays[-1] if delays else float("nan"),
                "streams": len(streams),
                "streams_open_at_end": still,
            }
        ),
        flush=True,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.chat_load")
    sub = parser.add_subparsers(dest="mode", required=True)
    held = sub.add_parser("hold")
    held.add_argument("--port", type=int, required=True)
    held.add_argument("--secret", required=True)
    held.add_argument("--streams", type=int, required=True)
    timed = sub.add_parser("latency")
    timed.add_argument("--post-port", type=int, required=True)
    timed.add_argument("--stream-port", type=int, required=True)
    timed.add_argument("--secret", required=True)
    timed.add_argument("--site-secret", required=True)
    timed.add_argument("--visitors", type=int, default=1000)
    timed.add_argument("--rate", type=float, default=1000)
    timed.add_argument("--seconds", type=float, default=10)
    timed.add_argument("--connections", type=int, default=64)
    args = parser.parse_args(argv)
    raise_file_limit()
    uvloop.run(hold(args) if args.mode == "hold" else latency(args))


if __name__ == "__main__":
    main()
