"""The wire format the widget sends: one batch of events per request, decoded by msgspec.

The widget posts ``{"visitor": token|null, "seed": …, "context": {...}, "events": [...]}`` as
``text/plain`` (a CORS "simple request", so no preflight round trip). Each event carries a
client-generated ``id`` so that retries can be de-duplicated, and a client timestamp ``ts``
in milliseconds.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

import msgspec
from msgspec import Meta

MAX_BATCH_BYTES = 256 * 1024
MAX_EVENT_BYTES = 32 * 1024
MAX_EVENTS_PER_BATCH = 200

EventId = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{8,64}$")]
# A new visitor's random secret (at least 128 bits), kept by the widget until it holds a token.
Seed = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{22,64}$")]
Name = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,63}$")]
Url = Annotated[str, Meta(max_length=2048)]
Millis = Annotated[int, Meta(ge=0)]
Scalar = Union[str, int, float, bool, None]
Properties = Annotated[dict[Name, Union[Scalar, list[Scalar]]], Meta(max_length=50)]
SignalName = Literal["time_on_page", "time_on_site", "scroll", "exit_intent", "idle"]
FeedbackKind = Literal["shown", "clicked", "dismissed", "copied"]


class PageView(msgspec.Struct, tag="page_view", forbid_unknown_fields=True, frozen=True):
    id: EventId
    ts: Millis
    url: Url
    title: Annotated[str, Meta(max_length=512)] = ""
    referrer: Url = ""


class Track(msgspec.Struct, tag="track", forbid_unknown_fields=True, frozen=True):
    """A custom event such as ``add_to_cart``, from ``irasshai('track', name, properties)``."""

    id: EventId
    ts: Millis
    name: Name
    properties: Properties = {}
    url: Url = ""


class SetAttributes(msgspec.Struct, tag="set", forbid_unknown_fields=True, frozen=True):
    """Visitor attributes such as ``cart_value``, from ``irasshai('set', attributes)``; null deletes."""

    id: EventId
    ts: Millis
    attributes: Properties


class Signal(msgspec.Struct, tag="signal", forbid_unknown_fields=True, frozen=True):
    """A client signal the server asked the widget to watch on this page (reported once)."""

    id: EventId
    ts: Millis
    signal: SignalName
    url: Url
    value: Annotated[float, Meta(ge=0)] = 0
    reached: Annotated[dict[SignalName, Annotated[float, Meta(ge=0)]], Meta(max_length=5)] = {}  # all reached on this page


class Feedback(msgspec.Struct, tag="feedback", forbid_unknown_fields=True, frozen=True):
    """What happened to an engagement on screen: shown, clicked, dismissed or copied."""

    id: EventId
    ts: Millis
    rule: Name
    action: FeedbackKind
    url: Url = ""


Event = Union[PageView, Track, SetAttributes, Signal, Feedback]


class Context(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    language: Annotated[str, Meta(max_length=35)] = ""
    width: Annotated[int, Meta(ge=0, le=100_000)] = 0


class Batch(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    events: Annotated[list[msgspec.Raw], Meta(min_length=1, max_length=MAX_EVENTS_PER_BATCH)]
    visitor: Annotated[str, Meta(max_length=200)] | None = None
    context: Context = Context()
    seed: Seed | None = None  # only in batches without a token: see server.identity


class BadBatch(Exception):
    """The batch cannot be accepted; `str(error)` is one line for the sender."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


class _WholeBatch(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """The same batch, decoded in one pass (when no event can be over the size limit)."""

    events: Annotated[list[Event], Meta(min_length=1, max_length=MAX_EVENTS_PER_BATCH)]
    visitor: Annotated[str, Meta(max_length=200)] | None = None
    context: Context = Context()
    seed: Seed | None = None  # only in batches without a token: see server.identity


_batch_decoder = msgspec.json.Decoder(Batch)
_event_decoder = msgspec.json.Decoder(Event)
_whole_decoder = msgspec.json.Decoder(_WholeBatch)


def decode_batch(body: bytes) -> tuple[Batch, list[Event]]:
    """Decode and validate a request body; raise BadBatch naming what is wrong and where."""
    if len(body) <= MAX_EVENT_BYTES:
        # Most batches: one pass. Any mistake is decoded again below for its precise message.
        try:
            whole = _whole_decoder.decode(body)
            return Batch(events=[], visitor=whole.visitor, context=whole.context, seed=whole.seed), whole.events
        except msgspec.DecodeError:
            pass
    try:
        batch = _batch_decoder.decode(body)
    except msgspec.ValidationError as error:
        raise BadBatch(f"invalid batch: {error}") from None
    except msgspec.DecodeError as error:
        raise BadBatch(f"body is not valid JSON: {error}") from None
    events = []
    for index, raw in enumerate(batch.events):
        if len(raw) > MAX_EVENT_BYTES:
            raise BadBatch(f"event {index} is {len(raw)} bytes; the limit is {MAX_EVENT_BYTES}", status=413)
        try:
            events.append(_event_decoder.decode(raw))
        except msgspec.ValidationError as error:
            raise BadBatch(f"invalid event {index}: {error}") from None
    return batch, events
