"""A background flush: counts kept in a process's memory, written to the store every `interval`
seconds, at once when :meth:`Flusher.wake` is called (a buffer filled, an address nears its
limit), and a last time at :meth:`Flusher.close`. The site overview's traffic counts
(server/insights/traffic.py) and the events per address (server/address_limits.py) are flushed so.
"""

from __future__ import annotations

import asyncio
import contextlib


class Flusher:
    """Calls :meth:`flush` (the subclass's) every `interval` seconds, or when woken, until :meth:`close`."""

    def __init__(self, interval: float):
        self.interval = interval
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._closing = False

    async def flush(self) -> None:
        raise NotImplementedError

    def wake(self) -> None:
        """Flush now rather than at the next tick."""
        self._wake.set()

    def start(self) -> None:
        self._wake, self._closing = asyncio.Event(), False  # this event loop's (an app may be started again)
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
            self._wake.clear()
            await self.flush()

    async def close(self) -> None:
        """Stop flushing on a timer, after writing what is buffered."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None
        await self.flush()
