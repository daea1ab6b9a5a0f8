"""Warnings about a failure that repeats on every request, such as an unreachable store.

During an outage each request fails the same way; one line each would be thousands of lines
in seconds and bury everything else. :class:`RateLimitedLog` logs the first occurrence of a
message at once, then at most one line per `every` seconds for it, saying how many like it
were held back since the last line.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

EVERY = 5.0


class RateLimitedLog:
    def __init__(self, logger: logging.Logger, every: float = EVERY, clock: Callable[[], float] = time.monotonic):
        self.logger = logger
        self.every = every
        self.clock = clock
        self._windows: dict[str, tuple[float, int]] = {}  # message template -> (when last logged, held back since)

    def warning(self, message: str, *args: object) -> None:
        """Log `message % args` now, or count it if a line with the same template was logged
        less than `every` seconds ago; the next line logged says how many were counted."""
        now = self.clock()
        logged_at, held_back = self._windows.get(message, (None, 0))
        if logged_at is not None and 0 <= now - logged_at < self.every:
            self._windows[message] = (logged_at, held_back + 1)
            return
        self._windows[message] = (now, 0)
        if held_back:
            self.logger.warning(
                message + " (and %d more like this in the last %.0f s)", *args, held_back, now - logged_at
            )
        else:
            self.logger.warning(message, *args)
