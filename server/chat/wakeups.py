"""Wake-ups, fanned out: one subscription per process, many streams listening.

Each open stream (server/web/stream.py) listens for its visitor; the one subscription of this
process (:meth:`Store.subscribe`) hands every publish for that visitor to each of them. A
wake-up is a hint only, the feed is the truth: a stream reads the feed again when woken, and
every poll interval anyway, so a wake-up lost (the subscription down a while) costs a poll at
most. When the subscription is lost, every listener is woken and it subscribes again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator

from server.store.base import Store, StoreUnavailable

log = logging.getLogger("irasshai.chat")
RESUBSCRIBE_AFTER = 1.0  # seconds between attempts while the store is unreachable
BACKLOG = 64  # wake-ups a slow listener may hold; beyond it more would say nothing new


class Wakeups:
    def __init__(self, store: Store):
        self.store = store
        self._listeners: dict[tuple[str, str], set[asyncio.Queue]] = {}
        self._task: asyncio.Task | None = None

    @contextlib.contextmanager
    def listen(self, site: str, visitor_id: str) -> Iterator[asyncio.Queue]:
        """A queue of the visitor's wake-ups ("" when the feed grew, else the ephemeral payload)."""
        self._ensure_running()
        inbox: asyncio.Queue = asyncio.Queue(BACKLOG)
        self._listeners.setdefault((site, visitor_id), set()).add(inbox)
        try:
            yield inbox
        finally:
            listeners = self._listeners.get((site, visitor_id))
            if listeners is not None:
                listeners.discard(inbox)
                if not listeners:
                    del self._listeners[site, visitor_id]

    def listening(self) -> int:
        return sum(len(listeners) for listeners in self._listeners.values())

    def _ensure_running(self) -> None:
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._task.get_loop() is not loop:
            self._task = loop.create_task(self._run())

    async def _run(self) -> None:
        while True:
            try:
                async for site, visitor_id, payload in self.store.subscribe():
                    for inbox in self._listeners.get((site, visitor_id), ()):
                        with contextlib.suppress(asyncio.QueueFull):
                            inbox.put_nowait(payload)
            except StoreUnavailable as error:
                log.warning("chat wake-ups interrupted, streams fall back to polling: %s", error)
            for listeners in self._listeners.values():  # what was published meanwhile is in the feeds
                for inbox in listeners:
                    with contextlib.suppress(asyncio.QueueFull):
                        inbox.put_nowait("")
            await asyncio.sleep(RESUBSCRIBE_AFTER)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, RuntimeError):
                await self._task
