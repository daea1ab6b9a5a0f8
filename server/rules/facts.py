"""What a rule's conditions may look at while one event is evaluated: the visitor's stored
state (after the current batch was applied), the current event, and the time, with what is
worth computing once per evaluation (the local time, the sampling bucket, shared counts)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from server.sites import Site
from server.visitor import VisitorState


class Facts:
    """Everything conditions can see while one event is evaluated."""

    __slots__ = (
        "state",
        "now",
        "path",
        "event",
        "properties",
        "signals",
        "visitor_id",
        "site",
        "_local",
        "_bucket",
        "counts",
    )

    def __init__(
        self,
        state: VisitorState,
        now: float,
        path: str,
        site: Site,
        visitor_id: str,
        event: str | None = None,
        properties: dict | None = None,
        signals: dict | None = None,
        counts: dict[tuple, int] | None = None,
    ):
        self.state = state
        self.now = now
        self.path = path
        self.site = site
        self.visitor_id = visitor_id
        self.event = event  # the custom event's name, when the current event is one
        self.properties = properties or {}
        self.signals = signals or {}  # client signals reached on this page: name -> value
        self._local = None
        self._bucket = -1
        # Counts of page views, sessions and events, by what is counted: many rules count the
        # same thing (e.g. views of /products/* in 7 days), and it is counted once per decision
        # (the caller passes one dict for all the events of a batch: same state, same now).
        self.counts: dict[tuple, int] = {} if counts is None else counts

    @property
    def bucket(self) -> int:
        """The visitor's place in 0..9999 (see Sample), computed once per evaluation."""
        if self._bucket < 0:
            self._bucket = bucket(self.visitor_id)
        return self._bucket

    @property
    def local(self) -> datetime:
        """Now, in the site's timezone."""
        if self._local is None:
            self._local = datetime.fromtimestamp(self.now, self.site.timezone)
        return self._local


def bucket(visitor_id: str) -> int:
    """The visitor's place in 0..9999, fixed for life."""
    return int.from_bytes(hashlib.blake2b(visitor_id.encode(), digest_size=4).digest(), "big") % 10000
