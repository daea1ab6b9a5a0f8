"""Wake-ups, fanned out: one subscription per process, many streams listening.

Each open stream (server/web/stream.py) listens for its visitor; the one subscription of this
process (:meth:`Store.subscribe`) hands every publish for that visitor to each of them. A
wake-up is a hint only, the feed is the truth: a stream reads the feed again when woken, and
every poll interval anyway, so a wake-up lost (the subscription down a while) costs a poll at
most. When the subscription is lost, every listener is woken and it subscribes again; once it
is back, every listener is woken again (a reply posted just before then woke nobody, and its
stream would otherwise have waited for its next poll).

A process holds thousands of listeners, so each is small: a slotted object with the wake-ups
not yet taken and, while its stream waits, one future. Waits time out on one clock per process
(every TICK seconds it wakes the listeners whose time is up) rather than on a timer or a task
per wait: a timeout may come up to TICK late, which heartbeats and polls do not mind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Iterator

from server.store.base import Store, StoreUnavailable

log = logging.getLogger("irasshai.chat")
RESUBSCRIBE_AFTER = 1.0  # seconds between attempts while the store is unreachable
BACKLOG = 64  # wake-ups a slow listener may hold; beyond it more would say nothing new
TICK = 1.0  # seconds between looks of the clock at waits that may have timed out


class Listener:
    """One stream's wake-ups: "" when the feed grew, else the ephemeral payload (typing)."""

    __slots__ = ("woken", "waiter", "deadline", "closed")

    def __init__(self) -> None:
        self.woken: tuple[str, ...] = ()  # a tuple: the empty one costs nothing per listener
        self.waiter: asyncio.Future | None = None
        self.deadline = math.inf
        self.closed = False

    def put(self, payload: str) -> None:
        if len(self.woken) < BACKLOG and not (payload == "" and "" in self.woken):
            self.woken = (*self.woken, payload)
        self.wake()

    def wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def close(self) -> None:
        """The stream is going away: its wait returns now, and every later one at once."""
        self.closed = True
        self.wake()

    async def wait(self, timeout: float) -> tuple[str, ...]:
        """The wake-ups since the last wait; () when `timeout` seconds passed first or it is closed."""
        if not self.woken and not self.closed and timeout > 0:
            loop = asyncio.get_running_loop()
            self.waiter, self.deadline = loop.create_future(), loop.time() + timeout
            try:
                await self.waiter
            finally:
                self.waiter, self.deadline = None, math.inf
        woken, self.woken = self.woken, ()
        return woken


class Wakeups:
    def __init__(self, store: Store):
        self.store = store
        self._listeners: dict[tuple[str, str], set[Listener]] = {}
        self._tasks: list[asyncio.Task] = []
        self._ended = False

    @contextlib.contextmanager
    def listen(self, site: str, visitor_id: str) -> Iterator[Listener]:
        """The visitor's wake-ups, for as long as the block runs."""
        self._ensure_running()
        listener = Listener()
        listener.closed = self._ended
        self._listeners.setdefault((site, visitor_id), set()).add(listener)
        try:
            yield listener
        finally:
            listeners = self._listeners.get((site, visitor_id))
            if listeners is not None:
                listeners.discard(listener)
                if not listeners:
                    del self._listeners[site, visitor_id]

    def end(self) -> None:
        """The process is stopping: every listener is closed, and every later one starts closed."""
        self._ended = True
        for listener in self._everyone():
            listener.close()

    @property
    def ended(self) -> bool:
        """Whether the process is stopping (its streams end with a hint to reconnect elsewhere)."""
        return self._ended

    def listening(self) -> int:
        return sum(len(listeners) for listeners in self._listeners.values())

    def _ensure_running(self) -> None:
        loop = asyncio.get_running_loop()
        if not self._tasks or any(task.done() or task.get_loop() is not loop for task in self._tasks):
            for task in self._tasks:
                task.cancel()
            self._tasks = [loop.create_task(self._run()), loop.create_task(self._clock())]

    def _everyone(self) -> Iterator[Listener]:
        for listeners in self._listeners.values():
            yield from listeners

    async def _run(self) -> None:
        while True:
            try:
                async for site, visitor_id, payload in self.store.subscribe(self._wake_everyone):
                    for listener in self._listeners.get((site, visitor_id), ()):
                        listener.put(payload)
            except StoreUnavailable as error:
                log.warning("chat wake-ups interrupted, streams fall back to polling: %s", error)
            self._wake_everyone()
            await asyncio.sleep(RESUBSCRIBE_AFTER)

    def _wake_everyone(self) -> None:
        """Every stream reads its feed again: when the subscription is lost, and when it is back
        (what was published while it was down woke nobody, but it is in the feeds)."""
        for listener in self._everyone():
            listener.put("")

    async def _clock(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(TICK)
            now = loop.time()
            for listener in self._everyone():
                if listener.deadline <= now:
                    listener.wake()

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, RuntimeError):
                await task
        self._tasks = []
