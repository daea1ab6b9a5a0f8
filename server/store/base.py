"""The store interface: where visitor state lives. Two implementations share one contract.

- :class:`~server.store.memory.MemoryStore`: the embedded default, one process, nothing on disk.
- :class:`~server.store.redis.RedisStore`: production; several processes and hosts share it.

Visitor state is an opaque blob with a version: :meth:`load_visitor` reads both,
:meth:`save_visitor` writes only if the version is unchanged (compare-and-set), so two
requests for the same visitor, in two tabs or two processes, never overwrite each other;
:meth:`swap_visitor` does the same and answers the state that won a conflict, so that the
event path can write against a cached version and learn in the same round trip that it was stale.

Beside visitors, the store keeps coupon pools (who got which code, which were redeemed) and
per-rule daily counters (:meth:`add_counts`), which a console reads back by day, the site's
traffic aggregates per day (:meth:`add_traffic`, for the site overview), and the counters behind
rate limits (:meth:`hit`).

For live chat (docs/chat.md): each visitor's **feed**, an append-only log of what their live
channel delivers, with ids that increase strictly (``<milliseconds>-<sequence>``) and a client id
that makes a retried message a no-op; the visitor's small chat record; the site's index of
conversations for operators, each record written by compare-and-set on its version; and
**wake-ups**, a hint between processes that a feed grew (lost ones cost a poll interval: the
feed is the truth).

For the operator console (docs/console.md): operator accounts, one record per email, and
server-side sessions that expire after an idle time.

For LINE (docs/line.md): **claims**, a name held once for a while (a webhook event's id, so a
redelivered event is stored once; an account-link nonce, taken once).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Protocol

from server.store.webhooks import DeliveryQueue


class StoreUnavailable(Exception):
    """The store cannot be reached; the message says why in one line."""


OTHER = "(other)"  # the name a capped traffic kind counts under once its day's group is full (add_traffic)


class Store(Protocol):
    webhooks: DeliveryQueue  # the webhook deliveries (server/store/webhooks.py)
    line_pushes: DeliveryQueue  # operators' replies to LINE users, a lane per user (server/line/push.py)

    async def load_visitor(self, site: str, visitor_id: str) -> tuple[bytes | None, int]:
        """The visitor's state blob (None if unknown) and its version (0 if unknown)."""

    async def save_visitor(self, site: str, visitor_id: str, blob: bytes, version: int, ttl: int) -> bool:
        """Store `blob` if the version is still `version`; keep it `ttl` seconds. False on conflict."""

    async def swap_visitor(
        self, site: str, visitor_id: str, blob: bytes, version: int, ttl: int
    ) -> tuple[bool, bytes | None, int]:
        """As :meth:`save_visitor`, in one round trip, answering what the store holds afterwards:
        (True, `blob`, its new version) when stored; (False, the current blob or None, its version)
        on conflict, so that a retry needs no read. Versions grow with every write and never repeat
        for a key, even after it expired: a version seen long ago can never match a newer state."""

    async def claim_code(
        self, site: str, pool: str, visitor_id: str, kind: str, code: str, expires_at: int
    ) -> str | None:
        """The visitor's "code|expires_at" in `pool`, assigning one if they have none.

        By the pool's `kind` (server.coupons.pools.POOL_KINDS): "list" takes an unused unique code
        (None when none are left, "unseeded" when the pool's codes are not loaded: never seeded,
        or the store lost them); "generated" records `code` as this visitor's ("taken" if it
        already belongs to someone else); "shared" records the pool's one code, `code`. Atomic: a unique code never goes to two visitors.
        """

    async def assign_code(
        self, site: str, pool: str, visitor_id: str, kind: str, code: str, expires_at: int
    ) -> tuple[str | None, bool]:
        """As claim_code, and whether this call gave the visitor the code (False when they had it,
        or none was given): a newly issued code is a coupon.claimed webhook event."""

    async def seed_codes(self, site: str, pool: str, codes: list[str]) -> int:
        """Make the codes of a codes file available, except those already given out; mark the pool loaded."""

    async def codes_left(self, site: str, pool: str) -> int | None:
        """How many codes of a codes file are not given out yet; None when the pool is not loaded."""

    async def redeem_code(self, site: str, pool: str, code: str, now: int) -> str:
        """ "ok", "redeemed" (already) or "unknown" (never given out in this pool)."""

    async def visitor_code(self, site: str, pool: str, visitor_id: str) -> tuple[str, int] | None:
        """The visitor's "code|expires_at" in `pool` and the second it was redeemed (0: not), or None;
        reads only (the console's visitor panel)."""

    async def code_owner(self, site: str, pool: str, code: str) -> str | None:
        """The visitor a unique or generated `code` of `pool` was given to; None if nobody (or shared)."""

    async def add_counts(self, site: str, counts: dict[tuple[str, str, str], int | float]) -> None:
        """Add to the counters: (day "YYYY-MM-DD", rule id, counter) -> how many, or how much (a
        float: a goal's value). A rule id never holds "|"; a counter may. Kept keys.KEEP_DAYS (400) days."""

    async def read_counts(self, site: str, days: list[str]) -> dict[str, dict[str, dict[str, int | float]]]:
        """Every day asked for -> rule id -> counter -> amount; only counted ones (a day with none: {}).
        An amount is an int when it is a whole number, else a float."""

    async def add_traffic(
        self,
        site: str,
        counts: dict[tuple[str, str, str], int],
        visitors: dict[str, set[str]],
        caps: dict[str, tuple[str, int]],
    ) -> None:
        """Add to the site's traffic aggregates, per day ("YYYY-MM-DD" in the site's timezone):
        `counts` (day, kind, name) -> amount, kept in the day's field "kind|name"; `visitors` day ->
        visitor ids, each counted once per day. A kind in `caps` maps to (group, limit): the kinds
        of one group share at most `limit` distinct names per day, admitted first come (an
        admitted name also gets the field "group|name", 0 if nothing else adds to it); an amount
        for a name beyond is added under OTHER. One round trip; each day written is kept
        keys.KEEP_DAYS days from this write."""

    async def read_traffic(self, site: str, days: list[str]) -> tuple[dict[str, dict[str, int]], dict[str, int], int]:
        """(day -> "kind|name" -> count, day -> unique visitors, unique visitors over all `days`);
        every day asked for is listed ({} and 0 when nothing was added). Unique visitors are exact
        in memory and approximate on Redis (HyperLogLog: about 0.81 % standard error)."""

    async def hit(self, site: str, counter: str, windows: tuple[int, ...]) -> list[tuple[int, int]]:
        """Count one hit of `counter` in each of its fixed windows (lengths in seconds; a window
        starts at its first hit); per window: (hits in it so far, this one included, seconds
        until it starts again). Atomic, and one round trip for all windows."""

    async def add_hits(self, site: str, counts: dict[str, int], window: int) -> dict[str, tuple[int, int]]:
        """Add `counts` (counter -> hits, each at least 1) to the counters' current `window`-second
        windows (a window starts at its first hit); per counter: (hits in its window so far, these
        included, seconds until it starts again). Atomic, and one round trip for all counters.
        Counters kept apart from :meth:`hit`'s: the same name counts separately in each."""

    async def add_feed(
        self, site: str, visitor_id: str, kind: str, data: bytes, ttl: int, client_id: str = ""
    ) -> tuple[str, bool]:
        """Append (kind, data) to the visitor's feed, kept `ttl` seconds; (entry id, added). With
        `client_id`, an id seen before adds nothing and returns (its entry id, False). Atomic."""

    async def read_feed(
        self, site: str, visitor_id: str, after: str = "0", count: int = 200
    ) -> list[tuple[str, str, bytes]]:
        """Up to `count` (entry id, kind, data) after entry `after` (exclusive), oldest first."""

    async def get_chat(self, site: str, visitor_id: str) -> dict[str, str]:
        """The visitor's chat record (current conversation, counter, flags); {} if none."""

    async def set_chat(self, site: str, visitor_id: str, fields: dict[str, str], ttl: int) -> None:
        """Set fields of the visitor's chat record and keep it `ttl` seconds."""

    async def save_conversation(
        self, site: str, conversation_id: str, record: bytes, activity: float, ttl: int, *, version: int
    ) -> bool:
        """Store a conversation's record in the site's index if the stored record's version is
        still `version` (0: no record yet), with `activity` its last active second in the same
        step; the index is kept `ttl` seconds from this write. False on conflict (nothing written).

        A record is a JSON object whose "version" (0 when absent, or when the stored record is
        not JSON) the store compares; the caller writes `version` + 1 in it. Compare-and-set,
        as :meth:`save_visitor`: two writers of one conversation never overwrite each other."""

    async def load_conversations(self, site: str, ids: list[str]) -> list[bytes | None]:
        """The records of `ids`, in order; None for an unknown one."""

    async def recent_conversations(self, site: str, limit: int = 500) -> list[str]:
        """Ids of the site's conversations, newest activity first."""

    async def publish(self, site: str, visitor_id: str, payload: str = "") -> None:
        """Tell every process that the visitor's feed grew ('') or an ephemeral `payload`."""

    def subscribe(self, subscribed: Callable[[], None] | None = None) -> AsyncIterator[tuple[str, str, str]]:
        """(site, visitor id, payload) of every publish, by any process, from now on. Raises
        StoreUnavailable when the subscription is lost (the caller subscribes again). Calls
        `subscribed` once the subscription is in place: what was published before it (while a
        lost one was down) was missed, so the caller reads again what it watches."""

    async def set_presence(self, site: str, email: str, until: float, ttl: int) -> None:
        """Record that the operator is online until second `until` (now or earlier: not online);
        entries stale for `ttl` seconds are dropped, and the site's presence is kept `ttl` seconds."""

    async def read_presence(self, site: str) -> dict[str, float]:
        """Every remembered operator of the site -> the second their presence expires; {} if none."""

    async def add_ops(self, site: str, kind: str, data: bytes) -> str:
        """Append (kind, data) to the site's operators' feed (capped, kept keys.OPS_FEED_TTL); its entry id."""

    async def read_ops(self, site: str, after: str = "0", count: int = 200) -> list[tuple[str, str, bytes]]:
        """Up to `count` (entry id, kind, data) of the operators' feed after `after` (exclusive), oldest first."""

    async def touch_live(self, site: str, seen: dict[str, float]) -> None:
        """Record each visitor's last event second (kept keys.LIVE_TTL from this write)."""

    async def read_live(self, site: str, since: float, limit: int) -> list[tuple[str, float]]:
        """Up to `limit` (visitor id, last event second) seen at or after `since`, newest first;
        older entries are dropped."""

    async def operators(self) -> dict[str, bytes]:
        """Every operator account of the console: email -> record (server.console.accounts)."""

    async def get_operator(self, email: str) -> bytes | None:
        """The account record of `email`; None if there is none."""

    async def put_operator(self, email: str, record: bytes) -> None:
        """Store the account record of `email`; accounts are kept keys.KEEP_DAYS from the last write."""

    async def delete_operator(self, email: str) -> bool:
        """Remove the account of `email`; False if there was none."""

    async def put_session(self, session_id: str, record: bytes, ttl: int) -> None:
        """Store a console session's record, kept `ttl` seconds."""

    async def touch_session(self, session_id: str, ttl: int) -> bytes | None:
        """The session's record, kept `ttl` seconds more from now; None if unknown or expired. One round trip."""

    async def delete_session(self, session_id: str) -> None:
        """End a console session (nothing if it is already gone)."""

    async def claim(self, site: str, name: str, value: bytes, ttl: int) -> bool:
        """Keep `value` under `name` for `ttl` seconds unless the name is held already: True when this
        call claimed it, False when it was held (its value unchanged). Atomic across processes, so
        a name is claimed once: a LINE webhook event by its id, an account-link nonce (docs/line.md)."""

    async def take(self, site: str, name: str) -> bytes | None:
        """The value claimed under `name`, removed in the same step (None if none): a second take
        of the same name gets None. Releases a claim, or uses up a single-use one."""

    # One visitor's or customer's data (docs/privacy.md): export reads it with the methods above.

    async def link_customer(self, site: str, customer: str, visitor_id: str, ttl: int) -> None:
        """Remember that a verified identify proved `visitor_id` to be `customer`; kept `ttl` seconds."""

    async def customer_visitors(self, site: str, customer: str) -> list[str]:
        """The visitors proved to be `customer` (sorted); [] if none."""

    async def visitor_conversations(self, site: str, visitor_id: str) -> list[str]:
        """Ids of the visitor's conversations in the site's index ("<visitor>.<n>"), sorted."""

    async def forget_visitor(
        self, site: str, visitor_id: str, pools: list[str], hits: dict[str, tuple[int, ...]]
    ) -> None:
        """Delete everything kept about the visitor: state, feed, chat record and client ids, their
        conversations (records and activity), their entries in the operators' feed, their place in
        the live visitors, their rate-limit counters `hits` (counter -> windows), and in each of
        `pools` their assignment; a unique or generated code they had stays given out (and
        redeemed, if it was), with no owner, so it is never handed out or redeemed again.
        One call per slot; repeating it deletes nothing more."""

    async def unlink_customer(self, site: str, customer: str, visitor_id: str) -> None:
        """Take one visitor out of the customer's index (the visitor is being forgotten)."""

    async def forget_customer(self, site: str, customer: str) -> None:
        """Drop the index of the customer's visitors (their data is deleted with forget_visitor)."""

    async def ping(self) -> None:
        """Return if the store answers; raise StoreUnavailable otherwise."""

    async def close(self) -> None: ...
