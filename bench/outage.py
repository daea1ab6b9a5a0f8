"""Redis faults under load, measured: shared by tests/faults and ``python -m bench.faults``.

:class:`RedisProcess` is a redis-server the caller may kill, shut down, pause and start again on
the same port with the same data folder (append-only file, fsync on every write: what
docs/deployment.md asks of production for "nothing acknowledged is lost").

:class:`Load` drives a running server the way many widgets would: each visitor posts small batches
of ``track`` events without pause, keeps what is refused and sends it again with its next batch
(as the widget does), and every reply is recorded with its status, time and headers. Chat
visitors say something and an operator answers, again and again. A poller asks ``/readyz``.
:func:`check_stored` then reads each visitor's state from Redis: every acknowledged event must be
there, once.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx2 as httpx

SHOP = "https://shop.example"  # the origin the rules folder allows (tests.helpers.SITE_YAML)
EVENT = "load"  # the track event's name: the visitor's event_counts[EVENT] is what was stored
RETRY_PAUSE = 0.05  # seconds a load visitor waits after a refusal (the widget waits longer)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _resp(*args: object) -> bytes:
    parts = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


class RedisProcess:
    """A redis-server on 127.0.0.1:`port` with its data in `folder`, which survives restarts."""

    def __init__(self, folder: Path, port: int | None = None, binary: str | None = None):
        self.folder, self.port = Path(folder), port or free_port()
        self.binary = binary or shutil.which("redis-server") or "redis-server"
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder)]
            + ["--appendonly", "yes", "--appendfsync", "always", "--save", ""]
            + ["--enable-debug-command", "local", "--logfile", str(self.folder / "redis.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not self.command("PING").startswith(b"+PONG"):
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.process.kill()
                raise RuntimeError(f"redis-server did not start on port {self.port}; see {self.folder}/redis.log")
            time.sleep(0.02)

    def kill(self) -> None:
        """Gone at once, as in a crash (SIGKILL)."""
        self._stop(signal.SIGKILL)

    def shutdown(self) -> None:
        """A clean stop (SIGTERM: Redis closes its clients and flushes its files)."""
        self._stop(signal.SIGTERM)

    def _stop(self, how: signal.Signals) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(how)
            self.process.wait(20)
        self.process = None

    def command(self, *args: object, timeout: float = 0.5) -> bytes:
        """One command, its reply's first bytes (b"" when Redis does not answer)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as sock:
                sock.sendall(_resp(*args))
                return sock.recv(4096)
        except OSError:
            return b""

    def stall(self, seconds: float) -> threading.Thread:
        """``DEBUG SLEEP``: Redis answers nobody for `seconds`; returns the thread waiting for it."""
        thread = threading.Thread(
            target=self.command, args=("DEBUG", "SLEEP", seconds), kwargs={"timeout": seconds + 10}
        )
        thread.start()
        return thread

    def pause(self, seconds: float, mode: str = "ALL") -> None:
        """``CLIENT PAUSE``: commands (every one, or those that write) wait `seconds`."""
        reply = self.command("CLIENT", "PAUSE", int(seconds * 1000), mode)
        if not reply.startswith(b"+OK"):
            raise RuntimeError(f"CLIENT PAUSE failed: {reply!r}")

    def __enter__(self) -> RedisProcess:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.kill()


@dataclass
class Answer:
    kind: str  # events, chat (a visitor's message), reply (an operator's), readyz
    started: float  # monotonic
    seconds: float
    status: int  # 0: no answer (the client gave up or the connection failed)
    retry_after: str | None = None
    cors: bool = False


@dataclass
class Visitor:
    token: str
    sent: int = 0
    acked: set[str] = field(default_factory=set)
    pending: list[dict] = field(default_factory=list)


class Load:
    """Visitors posting events (and, with `secret`, chats) to `base` until :meth:`stop`."""

    def __init__(self, base: str, site: str = "shop", visitors: int = 4, chats: int = 0, secret: str = ""):
        self.base, self.site, self.visitors_wanted, self.chats, self.secret = base, site, visitors, chats, secret
        self.answers: list[Answer] = []
        self.visitors: list[Visitor] = []
        self._running, self._draining = True, False
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(60.0), limits=httpx.Limits(max_connections=100))
        self._counter = 0

    def _event(self) -> dict:
        self._counter += 1
        return {
            "type": "track",
            "id": f"load-{self._counter:07d}-{os.getpid()}",
            "ts": int(time.time() * 1000),
            "name": EVENT,
        }

    async def _post(self, kind: str, path: str, body: dict, headers: dict | None = None) -> httpx.Response | None:
        import json

        started = time.monotonic()
        try:
            response = await self._client.post(
                f"{self.base}/v1/sites/{self.site}/{path}",
                content=json.dumps(body),
                headers={"origin": SHOP, "content-type": "text/plain;charset=UTF-8", **(headers or {})},
            )
        except httpx.HTTPError:
            self.answers.append(Answer(kind, started, time.monotonic() - started, 0))
            return None
        self.answers.append(
            Answer(
                kind,
                started,
                time.monotonic() - started,
                response.status_code,
                response.headers.get("retry-after"),
                response.headers.get("access-control-allow-origin") == SHOP,
            )
        )
        return response

    async def start(self) -> None:
        """Each visitor's first batch, before any fault (so that each has its token)."""
        for _ in range(self.visitors_wanted):
            event = self._event()
            reply = await self._post("events", "events", {"visitor": None, "context": {}, "events": [event]})
            assert reply is not None and reply.status_code == 200, reply and reply.text
            visitor = Visitor(reply.json()["visitor"], sent=1, acked=set(reply.json()["acked"]))
            self.visitors.append(visitor)
        self._tasks = [asyncio.create_task(self._send(visitor)) for visitor in self.visitors]
        self.conversations: list[tuple[str, str]] = []
        for number in range(self.chats):
            token = self.visitors[number % len(self.visitors)].token
            said = await self._post("chat", "chat", _say(token, f"chat-{number:04d}-start", "hello"))
            assert said is not None and said.status_code == 200, said and said.text
            self.conversations.append((token, said.json()["conversation"]["id"]))
        self._tasks += [
            asyncio.create_task(self._chat(*pair, number)) for number, pair in enumerate(self.conversations)
        ]
        self._tasks += [asyncio.create_task(self._answer(conversation)) for _, conversation in self.conversations]
        self._tasks.append(asyncio.create_task(self._readyz()))

    async def _send(self, visitor: Visitor, draining: bool = False) -> None:
        while self._running or (draining and visitor.pending):
            if not draining or not visitor.pending:
                visitor.pending.append(self._event())
                visitor.sent += 1
            events = visitor.pending[:20]
            reply = await self._post("events", "events", {"visitor": visitor.token, "context": {}, "events": events})
            if reply is not None and reply.status_code == 200:
                acked = set(reply.json()["acked"])
                visitor.acked |= acked
                visitor.pending = [event for event in visitor.pending if event["id"] not in acked]
            else:
                await asyncio.sleep(RETRY_PAUSE)
            if draining and not self._draining:
                return

    async def _chat(self, token: str, conversation: str, number: int) -> None:
        said = 0
        while self._running:
            said += 1
            await self._post("chat", "chat", _say(token, f"chat-{number:04d}-{said:06d}", f"message {said}"))
            await asyncio.sleep(RETRY_PAUSE)

    async def _answer(self, conversation: str) -> None:
        answered = 0
        while self._running:
            answered += 1
            await self._post(
                "reply",
                f"conversations/{conversation}/messages",
                {"text": f"answer {answered}", "author": "Aya"},
                {"authorization": f"Bearer {self.secret}"},
            )
            await asyncio.sleep(RETRY_PAUSE)

    async def _readyz(self) -> None:
        while self._running:
            started = time.monotonic()
            try:
                status = (await self._client.get(self.base + "/readyz")).status_code
            except httpx.HTTPError:
                status = 0
            self.answers.append(Answer("readyz", started, time.monotonic() - started, status))
            await asyncio.sleep(0.05)

    async def stop(self, drain_within: float = 30.0) -> None:
        """Stop sending new events; send what was refused until it is acknowledged (or time is up)."""
        self._running = False
        await asyncio.gather(*self._tasks)
        self._draining = True
        try:
            async with asyncio.timeout(drain_within):
                await asyncio.gather(*(self._send(visitor, draining=True) for visitor in self.visitors))
        except TimeoutError:
            pass
        self._draining = False
        await self._client.aclose()


def _say(token: str, client_id: str, text: str) -> dict:
    return {"visitor": token, "do": {"type": "say", "id": client_id, "text": text}}


@dataclass
class Stored:
    acked: int  # events acknowledged to the load (2xx, their id in "acked")
    found: int  # of those, in the visitor's stored state
    counted: int  # the stored count of the load's events (more than found: one stored twice)
    never_acked: int  # sent and still refused when the load stopped

    @property
    def lost(self) -> int:
        return self.acked - self.found


def check_stored(load: Load, redis_url: str, secret_key: str, site: str = "shop") -> Stored:
    """What Redis holds of every visitor of `load`."""
    import redis

    from server.identity import VisitorIds
    from server.store import keys
    from server.visitor import decode

    ids, client = VisitorIds(secret_key), redis.Redis.from_url(redis_url)
    acked = found = counted = never = 0
    try:
        for visitor in load.visitors:
            visitor_id = ids.verify(site, visitor.token)
            blob = client.hget(keys.visitor(site, visitor_id), "s")
            state = decode(blob) if blob is not None else None
            seen = state.seen_ids if state is not None else {}
            acked += len(visitor.acked)
            found += sum(1 for event_id in visitor.acked if event_id in seen)
            counted += state.event_counts.get(EVENT, 0) if state is not None else 0
            never += len(visitor.pending)
    finally:
        client.close()
    return Stored(acked, found, counted, never)


@dataclass
class Figures:
    """One fault's outcome, as docs/reliability.md reports it."""

    fault: str
    outage: float  # seconds from the fault to Redis answering again
    during: dict[str, dict[int, int]]  # kind -> status -> answers to requests started during the outage
    errors_500: int  # 500s (or any 5xx but 503) over the whole run
    unexpected: dict[int, int]  # status -> answers other than 200, 204 and 503 (0: none came), over the run
    bad_503s: int  # 503s without Retry-After, or (for the widget's endpoints) without CORS headers
    slowest: float  # seconds, the longest request
    recovered: float | None  # seconds from Redis back to the first events 2xx started after it
    ready_again: float | None  # seconds from Redis back to the first /readyz 200 started after it
    readyz_during: dict[int, int]
    stored: Stored


def figures(fault: str, load: Load, fault_at: float, back_at: float, stored: Stored) -> Figures:
    during: dict[str, dict[int, int]] = {}
    for answer in load.answers:
        if fault_at <= answer.started < back_at and answer.kind != "readyz":
            counts = during.setdefault(answer.kind, {})
            counts[answer.status] = counts.get(answer.status, 0) + 1
    readyz = [answer for answer in load.answers if answer.kind == "readyz"]
    readyz_during: dict[int, int] = {}
    for answer in readyz:
        if fault_at <= answer.started < back_at:
            readyz_during[answer.status] = readyz_during.get(answer.status, 0) + 1

    def first_ok(kind: str) -> float | None:
        times = [
            a.started + a.seconds for a in load.answers if a.kind == kind and a.started >= back_at and a.status == 200
        ]
        return min(times) - back_at if times else None

    return Figures(
        fault=fault,
        outage=back_at - fault_at,
        during=during,
        errors_500=sum(1 for a in load.answers if a.status >= 500 and a.status != 503),
        unexpected=dict(Counter(a.status for a in load.answers if a.status not in (200, 204, 503))),
        bad_503s=sum(
            1
            for a in load.answers
            if a.status == 503 and a.kind != "readyz" and (not a.retry_after or (a.kind != "reply" and not a.cors))
        ),
        slowest=max(a.seconds for a in load.answers),
        recovered=first_ok("events"),
        ready_again=first_ok("readyz"),
        readyz_during=readyz_during,
        stored=stored,
    )


async def run_fault(
    fault: str, redis: RedisProcess, base: str, secret_key: str, outage: float, *, visitors=4, chats=0, secret=""
) -> Figures:
    """Load on `base` for a moment, then `fault` for about `outage` seconds, then load until the server
    has recovered; the figures. Faults: kill, shutdown (Redis stopped and started again on its
    port), sleep (DEBUG SLEEP), pause (CLIENT PAUSE ALL), pause-write (CLIENT PAUSE WRITE)."""
    load = Load(base, visitors=visitors, chats=chats, secret=secret)
    await load.start()
    await asyncio.sleep(0.5)
    fault_at = time.monotonic()
    if fault in ("kill", "shutdown"):
        await asyncio.to_thread(redis.kill if fault == "kill" else redis.shutdown)
        await asyncio.sleep(max(0.0, outage - (time.monotonic() - fault_at)))
        await asyncio.to_thread(redis.start)
    elif fault == "sleep":
        waiting = redis.stall(outage)
        await asyncio.to_thread(waiting.join)
    elif fault in ("pause", "pause-write"):
        await asyncio.to_thread(redis.pause, outage, "ALL" if fault == "pause" else "WRITE")
        await asyncio.sleep(outage)
    else:
        raise ValueError(f"unknown fault {fault!r}")
    back_at = time.monotonic()
    deadline = back_at + 30
    while time.monotonic() < deadline and not _recovered(load, back_at):
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    await load.stop()
    return figures(fault, load, fault_at, back_at, check_stored(load, redis.url, secret_key))


def _recovered(load: Load, back_at: float) -> bool:
    kinds = {a.kind for a in load.answers if a.started >= back_at and a.status == 200}
    return {"events", "readyz"} <= kinds and (not load.chats or "chat" in kinds)
