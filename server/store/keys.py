"""Every Redis key Irasshai uses, built here and nowhere else.

Keys are hash-tagged so that everything one Lua script or transaction touches lands in one
Redis Cluster slot: a visitor's keys share the tag ``{site:visitor}``, a coupon pool's
``{site:coupons:pool}``, a site's daily counters ``{site:stats}``, its traffic aggregates
``{site:traffic}``, a rate limit's windows
``{site:hits:counter}``, the flushed counts of many addresses ``{site:address-hits}``. Every
key has a TTL.
"""

import hashlib

PREFIX = "irs"
# Coupon pools and daily counters: a year of them, and a month to spare. Refreshed on every
# write, so a pool in use never expires. (server/stats.py reports at most this many days.)
KEEP_DAYS = 400


def visitor(site: str, visitor_id: str) -> str:
    """HASH {v: version, s: MessagePack state}; TTL: the site's retention."""
    return f"{PREFIX}:{{{site}:{visitor_id}}}:state"


# A coupon pool's keys share the tag {site:coupons:pool}, so one Lua script may touch them all.
POOL_TTL = KEEP_DAYS * 86400  # refreshed on every seed and claim: a pool in use never expires


def _pool(site: str, pool: str) -> str:
    return f"{PREFIX}:{{{site}:coupons:{pool}}}"


def pool_available(site: str, pool: str) -> str:
    """SET of unique codes not yet given to anyone."""
    return _pool(site, pool) + ":available"


def pool_loaded(site: str, pool: str) -> str:
    """STRING "1" while the pool's codes file is loaded; gone means Redis lost the pool (re-seed)."""
    return _pool(site, pool) + ":loaded"


def pool_owners(site: str, pool: str) -> str:
    """HASH code -> visitor id: who got each unique or generated code."""
    return _pool(site, pool) + ":owners"


def pool_visitors(site: str, pool: str) -> str:
    """HASH visitor id -> "code|expires_at": each visitor's code, shown again on later visits."""
    return _pool(site, pool) + ":visitors"


def pool_redeemed(site: str, pool: str) -> str:
    """HASH code -> second it was redeemed."""
    return _pool(site, pool) + ":redeemed"


# A site's counters share the tag {site:stats}: one slot per site, so one pipeline may touch many days.
STATS_TTL = KEEP_DAYS * 86400  # refreshed on every count


def stats(site: str, day: str) -> str:
    """HASH "rule|counter" -> count (HINCRBY) or amount (HINCRBYFLOAT: goal values), for one day
    ("2026-11-22") in the site's timezone. The rule id ends at the first "|"; a counter may hold more."""
    return f"{PREFIX}:{{{site}:stats}}:{day}"


# A site's traffic aggregates (server/insights/traffic.py) share the tag {site:traffic}: one
# script call adds a flush's counts for every day it touches.
TRAFFIC_TTL = KEEP_DAYS * 86400  # refreshed on every flush that touches the day


def traffic(site: str, day: str) -> str:
    """HASH "kind|name" -> count for one day in the site's timezone (page views per path, sessions
    per hour, referrer, ...); "#kind" fields count the names admitted under a capped kind."""
    return f"{PREFIX}:{{{site}:traffic}}:{day}"


def traffic_visitors(site: str, day: str) -> str:
    """HyperLogLog of the visitor ids seen on one day: the day's unique visitors (PFCOUNT)."""
    return f"{PREFIX}:{{{site}:traffic}}:{day}:visitors"


# A rate-limited counter's windows share the tag {site:hits:counter}: one script counts them all.
def hits(site: str, counter: str, window: int) -> str:
    """STRING: hits of `counter` (e.g. "new-visitors:192.0.2.1") in the current `window`-second
    window; TTL: the rest of that window (it starts at its first hit)."""
    return f"{PREFIX}:{{{site}:hits:{counter}}}:{window}"


# The counters one process flushes together (server/address_limits.py) share the tag
# {site:address-hits}: one script adds to all of a site's addresses at once.
def shared_hits(site: str, counter: str, window: int) -> str:
    """STRING: hits of `counter` (e.g. "events:192.0.2.1") in the current `window`-second window,
    added to by many processes at once; TTL: the rest of that window (it starts at its first hit)."""
    return f"{PREFIX}:{{{site}:address-hits}}:{window}:{counter}"


# A visitor's chat keys share the visitor's tag {site:visitor}: one script adds to the feed and
# records the client id. TTL: the site's retention, refreshed on every write.
FEED_LENGTH = 1000  # entries a feed keeps (XADD MAXLEN ~): far more than one visit's chat


def feed(site: str, visitor_id: str) -> str:
    """STREAM of everything the visitor's live channel delivers: fields t (type) and d (JSON)."""
    return f"{PREFIX}:{{{site}:{visitor_id}}}:feed"


def chat_ids(site: str, visitor_id: str) -> str:
    """HASH client id -> feed entry id: a visitor message sent twice is stored once."""
    return f"{PREFIX}:{{{site}:{visitor_id}}}:chat-ids"


def chat(site: str, visitor_id: str) -> str:
    """HASH current -> conversation id, n -> conversations so far, and the chat's small flags."""
    return f"{PREFIX}:{{{site}:{visitor_id}}}:chat"


# A site's conversations index shares the tag {site:conversations}. TTL: the site's retention.
def conversations(site: str) -> str:
    """HASH conversation id -> JSON Conversation record."""
    return f"{PREFIX}:{{{site}:conversations}}:records"


def conversation_activity(site: str) -> str:
    """ZSET conversation id -> second of its last activity: the operators' list, newest first."""
    return f"{PREFIX}:{{{site}:conversations}}:activity"


# Pub/sub keeps nothing, so it has no TTL: a hint that a visitor's feed grew ("site\tvisitor"),
# or ephemeral typing ("site\tvisitor\ttyping\t<who>\t<name>").
WAKE_CHANNEL = f"{PREFIX}:wake"


# A site's operator keys share the tag {site:ops}. TTL: refreshed on every write.
PRESENCE_TTL = 30 * 86400  # a site whose operators signed in within it "uses the console" (docs/chat.md)
OPS_FEED_LENGTH = 10_000  # entries the operators' feed keeps (XADD MAXLEN ~): hours of a busy site
OPS_FEED_TTL = 86400  # a console away longer reads the conversations list, not the feed


def presence(site: str) -> str:
    """ZSET operator email -> second their presence expires (now or earlier: away or gone)."""
    return f"{PREFIX}:{{{site}:ops}}:presence"


def ops_feed(site: str) -> str:
    """STREAM of every chat change on the site, for the operators' live channel: fields t, d (JSON)."""
    return f"{PREFIX}:{{{site}:ops}}:feed"


# Live visitors: one ZSET per site, its own tag {site:live}.
LIVE_TTL = 3600  # refreshed on every write; read trims to the last few minutes


def live(site: str) -> str:
    """ZSET visitor id -> second of their last event (written at most every 30 s per visitor per process)."""
    return f"{PREFIX}:{{{site}:live}}"


# Operators of the console (docs/console.md) share the tag {operators}: accounts are global (an
# operator may belong to several sites), and there are few of them.
ACCOUNTS_TTL = KEEP_DAYS * 86400  # refreshed on every write: an account kept by anyone never expires


def operator_accounts() -> str:
    """HASH email -> JSON operator record (name, role, sites, language, Argon2 hash)."""
    return f"{PREFIX}:{{operators}}:accounts"


def console_session(session_id: str) -> str:
    """STRING JSON session record (email, CSRF token, created, last seen); TTL: the console's idle
    time (IRASSHAI_CONSOLE_IDLE), refreshed on every use."""
    return f"{PREFIX}:{{operators}}:session:{session_id}"


# A delivery queue (server/store/webhooks.py) keeps a site's deliveries under one hash tag,
# {site:<queue>}: WEBHOOKS for outbound webhooks (docs/webhooks.md), LINE_PUSHES for operators'
# replies pushed to LINE (docs/line.md). TTL: refreshed on every write; longer than any delivery
# is retried.
WEBHOOKS = "webhooks"
LINE_PUSHES = "line-push"
WEBHOOKS_TTL = 7 * 86400
WEBHOOKS_DISABLED_TTL = KEEP_DAYS * 86400  # an endpoint disabled by a 410 stays so until re-enabled


def queue_delivery(site: str, delivery: str, queue: str = WEBHOOKS) -> str:
    """HASH of one delivery: message, endpoint, type, body, lane, created, status, attempts, tries,
    since, next_at, last_at, last_status, last_error (server.store.webhooks.Delivery)."""
    return f"{PREFIX}:{{{site}:{queue}}}:delivery:{delivery}"


def queue_due(site: str, endpoint: str, queue: str = WEBHOOKS) -> str:
    """ZSET delivery id -> second it is due: the endpoint's pending deliveries (taken ones: when their
    lease ends; of a lane, only its first)."""
    return f"{PREFIX}:{{{site}:{queue}}}:due:{endpoint}"


def queue_recent(site: str, queue: str = WEBHOOKS) -> str:
    """ZSET delivery id -> second it was queued: every kept delivery, for the console and trimming."""
    return f"{PREFIX}:{{{site}:{queue}}}:recent"


def queue_lane(site: str, lane: str, queue: str = WEBHOOKS) -> str:
    """LIST of a lane's unfinished deliveries in the order queued; the first is the one due (a LINE
    user's replies, sent one after another)."""
    return f"{PREFIX}:{{{site}:{queue}}}:lane:{lane}"


def queue_disabled(site: str, queue: str = WEBHOOKS) -> str:
    """HASH endpoint name -> JSON record of why and when a receiver's 410 disabled it."""
    return f"{PREFIX}:{{{site}:{queue}}}:disabled"


# Claims (docs/line.md): one STRING per name, tagged by itself; single-key commands only.
def claim(site: str, name: str) -> str:
    """STRING: the value a name was claimed with (a LINE webhook event's id, an account-link nonce);
    TTL: the claim's, set when it is claimed."""
    return f"{PREFIX}:{{{site}:claim:{name}}}"


READY_TTL = 60


def ready() -> str:
    """STRING: when a process last checked that Redis takes writes (/readyz); TTL a minute."""
    return f"{PREFIX}:{{ready}}"


# A verified customer's visitors (docs/privacy.md): the index that lets one customer's data be
# exported or deleted by their id. Tagged by the customer, whose id is hashed so that key names
# (in monitoring, in SCAN) never show it. TTL: the site's retention, refreshed on every verified identify.
def customer_visitors(site: str, customer: str) -> str:
    """SET of the visitor ids a verified `identify` proved to be `customer`."""
    digest = hashlib.sha256(customer.encode()).hexdigest()[:32]
    return f"{PREFIX}:{{{site}:customer:{digest}}}:visitors"
