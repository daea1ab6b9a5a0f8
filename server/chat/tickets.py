"""Stream tickets: short-lived signed passes to a visitor's live channel.

The stream is opened with ``EventSource``, which cannot send headers, so its credential travels
in the URL, where logs and proxies may keep it. It is therefore never the long-lived visitor
token but a ticket: ``site|visitor`` signed with a timestamp (itsdangerous), good for `ttl`
seconds. Each events reply carries one; a per-process cache hands the same ticket to a visitor
for a minute, so a busy visitor does not cost a signature per batch.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

from itsdangerous import BadSignature, TimestampSigner

RESIGN_AFTER = 60  # seconds a ticket is handed out again before a fresh one is signed
CACHE_SIZE = 100_000


class _Signer(TimestampSigner):
    def __init__(self, secret_key: str, clock: Callable[[], float]):
        super().__init__(secret_key, salt="irasshai.stream-ticket", key_derivation="hmac", digest_method=hashlib.sha256)
        self._clock = clock

    def get_timestamp(self) -> int:
        return int(self._clock())


class Tickets:
    def __init__(self, secret_key: str, ttl: int = 900, clock: Callable[[], float] = time.time):
        self.ttl = ttl
        self._clock = clock
        self._signer = _Signer(secret_key, clock)
        self._issued: dict[tuple[str, str], tuple[float, str]] = {}  # (site, visitor) -> (signed at, ticket)

    def issue(self, site: str, visitor_id: str) -> str:
        now = self._clock()
        cached = self._issued.get((site, visitor_id))
        if cached is not None and now - cached[0] < RESIGN_AFTER:
            return cached[1]
        if len(self._issued) >= CACHE_SIZE:
            self._issued.clear()
        ticket = self._signer.sign(f"{site}|{visitor_id}").decode()
        self._issued[site, visitor_id] = (now, ticket)
        return ticket

    def verify(self, site: str, ticket: str) -> str | None:
        """The visitor id of a ticket signed for `site` less than `ttl` seconds ago, else None."""
        try:
            signed = self._signer.unsign(ticket, max_age=self.ttl).decode()
        except (BadSignature, UnicodeDecodeError):
            return None
        ticket_site, _, visitor_id = signed.partition("|")
        return visitor_id if ticket_site == site and visitor_id else None
