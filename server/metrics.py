"""What the server counts for Prometheus (docs/operations.md lists each metric and its labels).

Every metric is made here, once, with the official client library. With ``--workers N`` the CLI
points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh folder before this module is first imported, so
each process writes its values to its own files there and a scrape of any one of them sums all
(:func:`exposition`); with one process the library's ordinary in-memory registry is used.

The event path pays as little as it can: the label values it uses are bound ahead (one dict
lookup and one ``inc()`` per event type or rule), never built per request. Labels come from
closed sets (event types, endpoints, reasons, limits) or from the rules in force, capped at
:data:`MAX_RULE_SERIES` site/rule pairs per process, beyond which they are counted under
``rule="_other"``, so that a site that keeps renaming rules cannot grow the scrape without end.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"  # the library's own variable, set by server.cli only
# Whether the library writes values to files (it reads the variable once, when first imported).
MULTIPROCESS = values.ValueClass is not values.MutexValue
MAX_RULE_SERIES = 2000
OTHER = "_other"
CONTENT_TYPE = CONTENT_TYPE_LATEST

EVENT_TYPES = ("page_view", "track", "set", "identify", "signal", "feedback")

EVENTS_ACCEPTED = Counter(
    "irasshai_events_accepted", "Events acknowledged to the widget (stored now or before), by type.", ["type"]
)
BATCHES = Counter(
    "irasshai_batches",
    "Event batches answered, by outcome: accepted, or why refused (bad_batch, refused, rate_limited, "
    "store_unavailable, error).",
    ["outcome"],
)
REFUSALS = Counter(
    "irasshai_refusals",
    "Requests refused or failed, by endpoint (the handler's name), reason and HTTP status.",
    ["endpoint", "reason", "status"],
)
DECISIONS = Counter(
    "irasshai_decisions",
    "Rules decided for a visitor, by site and rule: shown, or held_out (the rule's control group).",
    ["site", "rule", "outcome"],
)
STORE_SECONDS = Histogram(
    "irasshai_store_seconds",
    "Time of the event path's store operations, by operation.",
    ["operation"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
STORE_ERRORS = Counter(
    "irasshai_store_errors", "Store operations of the event path that failed (store unavailable).", ["operation"]
)
OPEN_STREAMS = Gauge(
    "irasshai_open_streams",
    "Live streams open now: visitor (the widget's chat channel) or operator (the console's).",
    ["kind"],
    multiprocess_mode="livesum",
)
RATE_LIMITED = Counter(
    "irasshai_rate_limited",
    "Requests refused (429) or coupon codes withheld by a rate limit, by limit.",
    ["limit"],
)
DELIVERIES = Counter(
    "irasshai_deliveries",
    "Attempts to send a webhook delivery or a LINE push, by channel (webhook, line) and outcome "
    "(delivered, retry, failed).",
    ["channel", "outcome"],
)
RELOADS = Counter("irasshai_rule_reloads", "Reloads of the rules folder, by result: ok or error.", ["result"])

_accepted = {kind: EVENTS_ACCEPTED.labels(kind) for kind in EVENT_TYPES}
_batch_accepted = BATCHES.labels("accepted")
_decisions: dict[tuple[str, str], tuple[Counter, Counter]] = {}
visitor_streams = OPEN_STREAMS.labels("visitor")
operator_streams = OPEN_STREAMS.labels("operator")
reload_ok, reload_error = RELOADS.labels("ok"), RELOADS.labels("error")


def accepted(events) -> None:
    """Count an accepted batch and its events (each a tagged struct of server.events)."""
    _batch_accepted.inc()
    for event in events:
        _accepted[event.__struct_config__.tag].inc()


def decided(site: str, rule: str, shown: bool) -> None:
    children = _decisions.get((site, rule))
    if children is None:
        key = (site, rule) if len(_decisions) < MAX_RULE_SERIES else (site, OTHER)
        children = _decisions.get(key)
        if children is None:
            children = (DECISIONS.labels(*key, "shown"), DECISIONS.labels(*key, "held_out"))
            _decisions[key] = children
    children[0 if shown else 1].inc()


def refused(endpoint: str, reason: str, status: int) -> None:
    REFUSALS.labels(endpoint, reason, str(status)).inc()
    if endpoint == "post_events":
        BATCHES.labels(reason).inc()


def registry() -> CollectorRegistry:
    """What a scrape reads: this process's metrics, or every process's when there are several."""
    if not MULTIPROCESS:
        return REGISTRY
    summed = CollectorRegistry()
    multiprocess.MultiProcessCollector(summed)  # the folder the library writes to
    return summed


def exposition() -> bytes:
    return generate_latest(registry())


def process_exited(pid: int) -> None:
    """Drop a stopped process's live gauges (its open streams) from the sums."""
    if MULTIPROCESS:
        multiprocess.mark_process_dead(pid)
