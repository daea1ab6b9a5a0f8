"""The event path without HTTP: a decoded batch in, the visitor's updated state stored, a reply out.

Per batch: the visitor's state, the events applied in-process (goal events converting earlier
decisions, then the rules deciding), one compare-and-set write, and, only when the batch
decided a rule, converted or carried new feedback, one update of the rules' daily counters
(:mod:`server.insights.counters`). Events are acknowledged only after the write succeeded.

The state comes from a per-process cache of the states last written or read
(:mod:`server.store.visitor_cache`, on Redis) when it holds the visitor, so that a returning
visitor's batch costs one round trip: the write, on the cached version. A new visitor's needs
none either (nothing to read), unless the new-visitor rate limit counts it. Otherwise it is
read first. A conflicting write (the same visitor in another tab or process, or a stale cache
entry) is answered with the state that won, and the batch is applied again on it, so nothing is
lost or double counted, and a stale entry costs one more round trip.
A batch that would take the visitor's state past a cap is refused (BadBatch), nothing of it
stored.

A contended visitor converges rather than being refused: one visitor's batches in one process
take turns (so they never conflict with each other), and a conflict with another process is
retried after a random, growing pause (full jitter), for up to CONTENTION_DEADLINE seconds.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping

import msgspec

from server import metrics
from server.chat.tickets import Tickets
from server.console.visitors import LiveVisitors
from server.coupons.issuer import StoreCoupons
from server.engage import engage
from server.events import BadBatch, Batch, Event, Identify, bad_event
from server.identity import VisitorIds
from server.insights.conversions import convert
from server.insights.counters import Counts, counts_of
from server.insights.traffic import Traffic
from server.ratelimits import RateLimits
from server.ratelog import RateLimitedLog
from server.rules.engine import RuleSet
from server.sites import Site
from server.store.base import Store, StoreUnavailable
from server.store.visitor_cache import VisitorCache
from server.tracking import RequestFacts, apply
from server.verified_identity import WrongProof, proven
from server.visitor import MAX_STATE_BYTES, VisitorState, decode, encode
from server.webhooks.emit import Webhooks
from server.webhooks.visits import NewCodes, visit_events

CUSTOMER_SLACK = 86400  # the customer index outlives a visitor's state by this (seconds)
log = logging.getLogger("irasshai.ingest")

CONTENTION_DEADLINE = 10.0  # seconds a batch retries a visitor that other processes keep changing
BACKOFF_FIRST, BACKOFF_MAX = 0.002, 0.2  # seconds: the pause after the first conflict, and its cap


class Reply(msgspec.Struct, omit_defaults=True):
    visitor: str  # the signed visitor token the widget must keep
    acked: list[str]  # ids of events now stored (including ones stored by an earlier try)
    duplicates: int = 0
    expired: int = 0
    show: dict | None = None  # the engagement to show now, texts rendered
    watch: dict[str, list[float]] | None = None  # client signals to watch on this page: thresholds
    ticket: str | None = None  # the newest pass to the visitor's live chat channel (server/chat/tickets.py)
    launcher: dict | None = None  # the site's chat launcher, when site.yaml asks for one: its language and name
    listen: bool = False  # keep the live channel open for operators' proactive prompts (server/chat/proactive.py)


class Ingest:
    def __init__(
        self,
        store: Store,
        ids: VisitorIds,
        session_timeout: int,
        clock: Callable[[], float] = time.time,
        limits: RateLimits | None = None,
        tickets: Tickets | None = None,
        identity_secrets: Mapping[str, str] | None = None,
        live: LiveVisitors | None = None,
        listening: Callable[[str], Awaitable[bool]] | None = None,
        holdouts: bool = True,
        traffic: Traffic | None = None,
        webhooks: Webhooks | None = None,
        cache: VisitorCache | None = None,
    ):
        self.store = store
        self.identity_secrets = (
            identity_secrets or {}
        )  # site -> secret that proves identify (IRASSHAI_IDENTITY_SECRETS)
        self.ids = ids
        self.session_timeout = session_timeout
        self.clock = clock
        self.coupons = StoreCoupons(store)
        self.store_failures = RateLimitedLog(log, clock=clock)  # one line per outage, not per batch
        self.identity_warnings = RateLimitedLog(log, clock=clock)  # a page that keeps sending bad proof: a few lines
        self.limits = limits or RateLimits(store)  # none by default: the server passes its settings'
        self.tickets = tickets
        self.live = live  # the console's live visitors, written at most every 30 s per visitor
        self.listening = listening  # whether an operator of the site is online (cached per process)
        self.holdouts = holdouts  # False: no control groups, every decision shown (rule tests, preview)
        self.traffic = traffic  # the site overview's counts: buffered here, written by a background task
        self.webhooks = webhooks  # events out to the shop's systems: feedback, new coupon codes
        self.cache = cache  # the states this process saw last, so that a batch needs no read (Redis only)
        self._turns: dict[tuple[str, str], list] = {}  # (site, visitor) -> [lock, batches holding or awaiting it]

    async def handle(self, site: Site, rules: RuleSet, batch: Batch, events: list[Event], facts: RequestFacts) -> Reply:
        self.limits.events_from(site, facts.address, len(events))  # in memory: no round trip (server/address_limits.py)
        identified = self._proven_identities(site, events)
        visitor_id = self.ids.verify(site.key, batch.visitor)
        token = batch.visitor
        issued = visitor_id is None
        if issued:
            visitor_id, token = self.ids.issue(site.key, seed=batch.seed)
        key = (site.key, visitor_id)
        turn = self._turns.get(key)
        if turn is None:
            turn = self._turns[key] = [asyncio.Lock(), 0]
        turn[1] += 1
        try:
            async with turn[0]:
                return await self._handle(site, rules, events, facts, visitor_id, token, issued, identified)
        finally:
            turn[1] -= 1
            if not turn[1]:
                del self._turns[key]

    async def _handle(
        self,
        site: Site,
        rules: RuleSet,
        events: list[Event],
        facts: RequestFacts,
        visitor_id: str,
        token: str,
        issued: bool,
        identified: frozenset[str],
    ) -> Reply:
        deadline = time.monotonic() + CONTENTION_DEADLINE
        attempts = 0
        coupons = NewCodes(self.limits.coupons(self.coupons, facts.address))
        current = self._known(site, visitor_id, issued, facts.address)  # None: read it first
        guessed = current is not None  # not read for this batch: the write will tell if it was stale
        while True:
            now = self.clock()
            if current is None:
                current = await self.store.load_visitor(site.key, visitor_id)
                if self.cache is not None:
                    self.cache.put(site.key, visitor_id, *current)
            blob, version = current
            if issued and blob is None and not attempts:
                await self.limits.new_visitor(site, facts.address)  # not a retried first batch: really new
            state = self._decode(blob, site, visitor_id)
            applied = apply(state, events, now, facts, self.session_timeout, identified)
            if not applied.new:
                outcome = None
                break
            self.limits.visitor_events(site, state, len(applied.new), now)  # counted in the state it writes
            # Converted and decided on the state about to be written, so what they mark and the limit
            # a decision claims are written with it, and a retried batch (no new events) counts nothing.
            conversions = convert(state, applied.new, rules, now)
            outcome = await engage(state, applied.new, rules, now, visitor_id, coupons, self.holdouts)
            blob = encode(state)
            if len(blob) > MAX_STATE_BYTES:  # a last guard: the caps of each part keep far below it
                raise BadBatch(f"the visitor's state would be {len(blob)} bytes; the limit is {MAX_STATE_BYTES}", 413)
            try:
                stored, *held = await self.store.swap_visitor(site.key, visitor_id, blob, version, site.retention)
            except BaseException:  # unreachable, cancelled: written or not, nobody knows
                if self.cache is not None:
                    self.cache.drop(site.key, visitor_id)
                raise
            current = (held[0], held[1])  # what the store holds now: this batch's state, or the one that won
            if self.cache is not None:
                self.cache.put(site.key, visitor_id, *current)
            if stored:
                break
            attempts += 1
            if time.monotonic() >= deadline:
                raise StoreUnavailable(
                    f"visitor state kept changing for {CONTENTION_DEADLINE:g} s ({attempts} attempts); retry later"
                )
            if guessed:  # a stale cache entry, not contention: retry at once on what the store answered
                guessed = False
                continue
            await asyncio.sleep(random.uniform(0, min(BACKOFF_MAX, BACKOFF_FIRST * 2**attempts)))
        if state.verified and state.customer and (state.customer in identified or applied.sessions):
            # The customer's index (docs/privacy.md), refreshed at each proof and each new session, so
            # it outlives the visitor's state (kept `retention` from their last event) by a day.
            await self.store.link_customer(site.key, state.customer, visitor_id, site.retention + CUSTOMER_SLACK)
        if self.traffic is not None and applied.new:  # stored: count it (no I/O here)
            self.traffic.observe(site, visitor_id, state, applied, now)
        reply = Reply(
            visitor=token, acked=[e.id for e in events], duplicates=applied.duplicates, expired=applied.expired
        )
        if self.tickets is not None:
            reply.ticket = self.tickets.issue(site.key, visitor_id)
        if self.live is not None and self.live.due(site.key, visitor_id, now):
            try:
                await self.live.seen(site.key, visitor_id)
            except StoreUnavailable as error:  # a live list a little stale beats a refused batch
                self.store_failures.warning("site %s: live visitors not updated: %s", site.key, error)
        if site.launcher:
            reply.launcher = {"lang": site.language, "name": site.name}
        if self.listening is not None:
            try:
                reply.listen = await self.listening(site.key)
            except StoreUnavailable as error:  # no prompts for a while beats a refused batch
                self.store_failures.warning("site %s: presence not read: %s", site.key, error)
        if outcome is not None:
            if outcome.rule is not None:
                metrics.decided(site.key, outcome.rule.id, outcome.show is not None)
            reply.show, reply.watch = outcome.show, outcome.watch
            counts = counts_of(site, state.device, outcome.decision, applied.feedback, conversions, now)
            await self._count(site, counts)
        if self.webhooks is not None and outcome is not None and (applied.feedback or coupons.issued or conversions):
            shown = outcome.rule if outcome.show is not None else None
            pools = {shown.action.pool: shown.id} if shown is not None and shown.action.pool else {}
            found = visit_events(site, visitor_id, state, applied.feedback, coupons.issued, conversions, pools, now)
            await self.webhooks.emit_many(site.key, found)  # one store write, and only for a subscribed endpoint
        return reply

    def _proven_identities(self, site: Site, events: list[Event]) -> frozenset[str]:
        """The ids of the identify events whose proof holds; BadBatch (403) naming one whose proof is wrong."""
        ids = []
        secret = self.identity_secrets.get(site.key)
        for index, event in enumerate(events):
            if not isinstance(event, Identify):
                continue
            if secret is None and (event.hash or event.jwt):
                self.identity_warnings.warning(
                    "site %s: identify sent a hash or jwt, but IRASSHAI_IDENTITY_SECRETS has no secret for the "
                    "site; the identity is kept unverified",
                    site.key,
                )
            try:
                if proven(secret, event.customer, event.hash, event.jwt, self.clock()):
                    ids.append(event.id)
            except WrongProof as error:
                self.identity_warnings.warning("site %s: identify refused: %s", site.key, error)
                raise bad_event(index, event.id, f"identify refused: {error}", status=403) from None
        return frozenset(ids)

    async def _count(self, site: Site, counts: Counts) -> None:
        """Add to the rules' daily counters: best effort, after the state is safely written."""
        if not counts:
            return  # a batch of page views only: no third round trip
        try:
            await self.store.add_counts(site.key, counts)
        except StoreUnavailable as error:
            # The events are stored and the decision claimed: losing a count beats refusing the
            # batch, whose retry would be a duplicate and not counted anyway.
            self.store_failures.warning("site %s: rule counters not updated: %s", site.key, error)

    def _known(self, site: Site, visitor_id: str, issued: bool, address: str) -> tuple[bytes | None, int] | None:
        """What the visitor's state is believed to be without a read: the cached (blob, version),
        or (None, 0) for a visitor whose id was just issued; None when it must be read."""
        if self.cache is not None and (found := self.cache.get(site.key, visitor_id, site.retention)) is not None:
            return found
        if issued and not self.limits.counts_new_visitors(address):
            # Issued for this batch: unknown to the store, unless a first batch came again with its
            # seed (the same id), which the write finds out. Counting a new visitor needs the read,
            # so that a retried first batch is not counted twice.
            return None, 0
        return None

    async def profile(self, site: Site, visitor_id: str) -> VisitorState | None:
        blob, _ = await self.store.load_visitor(site.key, visitor_id)
        return None if blob is None else self._decode(blob, site, visitor_id)

    @staticmethod
    def _decode(blob: bytes | None, site: Site, visitor_id: str) -> VisitorState:
        try:
            return decode(blob)
        except msgspec.DecodeError:
            # Unreadable state (e.g. written by an incompatible version): start the visitor afresh
            # rather than refusing their events forever.
            log.warning("site %s: visitor %s had unreadable state; starting afresh", site.key, visitor_id)
            return VisitorState()
