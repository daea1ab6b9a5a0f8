"""The wire format the widget sends: one batch of events per request, decoded by msgspec.

The widget posts ``{"visitor": token|null, "seed": …, "context": {...}, "events": [...]}`` as
``text/plain`` (a CORS "simple request", so no preflight round trip). Each event carries a
client-generated ``id`` so that retries can be de-duplicated, and a client timestamp ``ts``
in milliseconds.

A batch is refused whole (nothing of it is stored), but when one event is the cause the
refusal names it (its index and id), so that the widget drops that event and re-sends the
rest. What the widget itself can send is accepted: strings with a lone UTF-16 surrogate (a
title cut in the middle of an emoji) have it replaced by U+FFFD, over-long titles and URLs
are cut, and integers too large to store become floats, as they were in JavaScript.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal
from urllib.parse import urlsplit

import msgspec
from msgspec import Meta

from server.names import EVENT_NAME

MAX_BATCH_BYTES = 256 * 1024
MAX_EVENT_BYTES = 32 * 1024
MAX_EVENTS_PER_BATCH = 200
MAX_URL_CHARS = 2048  # longer URLs (and referrers) are cut to this
MAX_TITLE_CHARS = 512  # longer titles are cut to this (code points, as the widget cuts them)
MAX_CUSTOMER_CHARS = 128  # a shop's customer id (identify)

EventId = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{8,64}$")]
# A new visitor's random secret (at least 128 bits), kept by the widget until it holds a token.
Seed = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{22,64}$")]
Name = Annotated[str, Meta(pattern=EVENT_NAME)]
Url = str  # cut to MAX_URL_CHARS after decoding
Millis = Annotated[int, Meta(ge=0)]
Scalar = str | int | float | bool | None
Properties = Annotated[dict[Name, Scalar | list[Scalar]], Meta(max_length=50)]
SignalName = Literal["time_on_page", "time_on_site", "scroll", "exit_intent", "idle"]
FeedbackKind = Literal["shown", "clicked", "dismissed", "copied"]


class PageView(msgspec.Struct, tag="page_view", forbid_unknown_fields=True, frozen=True):
    id: EventId
    ts: Millis
    url: Url
    title: str = ""  # cut to MAX_TITLE_CHARS after decoding
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


class Identify(msgspec.Struct, tag="identify", forbid_unknown_fields=True, frozen=True):
    """Who the visitor is, from ``irasshai('identify', {id, …attributes, hash | jwt})``: the shop's
    customer id, attributes like ``set``'s, and the proof (see server.verified_identity)."""

    id: EventId
    ts: Millis
    customer: Annotated[str, Meta(min_length=1, max_length=MAX_CUSTOMER_CHARS)]
    attributes: Properties = {}
    hash: Annotated[str, Meta(max_length=128)] = ""
    jwt: Annotated[str, Meta(max_length=4096)] = ""


class Signal(msgspec.Struct, tag="signal", forbid_unknown_fields=True, frozen=True):
    """A client signal the server asked the widget to watch on this page (reported once)."""

    id: EventId
    ts: Millis
    signal: SignalName
    url: Url
    value: Annotated[float, Meta(ge=0)] = 0
    reached: Annotated[
        dict[SignalName, Annotated[float, Meta(ge=0)]], Meta(max_length=5)
    ] = {}  # all reached on this page


class Feedback(msgspec.Struct, tag="feedback", forbid_unknown_fields=True, frozen=True):
    """What happened to an engagement on screen: shown, clicked, dismissed or copied."""

    id: EventId
    ts: Millis
    rule: Name
    action: FeedbackKind
    url: Url = ""  # ignored: sent by widgets before 2026-12, accepted so that cached copies keep working


Event = PageView | Track | SetAttributes | Identify | Signal | Feedback


class Context(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    language: Annotated[str, Meta(max_length=35)] = ""
    # Ignored (the device type comes from the User-Agent): sent by widgets before 2026-12, accepted
    # so that copies still in browsers' caches (stale-while-revalidate: a day) keep working.
    width: Annotated[int, Meta(ge=0, le=100_000)] = 0


class Batch(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    events: Annotated[list[Event], Meta(min_length=1, max_length=MAX_EVENTS_PER_BATCH)]
    visitor: Annotated[str, Meta(max_length=200)] | None = None
    context: Context = Context()
    seed: Seed | None = None  # only in batches without a token: see server.identity
    consent: bool = False  # irasshai('consent', true) was called: a site with `consent: required` stores only these


class BadBatch(Exception):
    """The batch cannot be accepted; `str(error)` is one line for the sender.

    `event` is the index of the event that is the cause, when one is, and `event_id` its id
    when it could be read: the sender can drop that event and send the others again.
    """

    def __init__(self, message: str, status: int = 400, event: int | None = None, event_id: str = ""):
        super().__init__(message)
        self.status = status
        self.event = event
        self.event_id = event_id


def bad_event(index: int, event_id: str, problem: str, status: int = 400) -> BadBatch:
    """A refusal caused by the event at `index` of the batch (its id in the message when known)."""
    name = f"event {index} (id {event_id})" if event_id else f"event {index}"
    return BadBatch(f"{name}: {problem}", status, index, event_id)


class _RawBatch(msgspec.Struct, frozen=True):
    """The batch with its events undecoded: to measure them, and to find the one at fault."""

    events: list[msgspec.Raw]


class _Identity(msgspec.Struct, frozen=True):
    id: str = ""


_batch_decoder = msgspec.json.Decoder(Batch)
_raw_decoder = msgspec.json.Decoder(_RawBatch)
_event_decoder = msgspec.json.Decoder(Event)
_identity_decoder = msgspec.json.Decoder(_Identity)
_event_path = re.compile(r"\$\.events\[(\d+)\]")
# A JSON string escape of a UTF-16 surrogate: a pair, or one alone. An escaped backslash is
# matched too, so that scanning from the left never reads "\\ud800" as an escape.
_surrogate_escape = re.compile(
    rb"\\\\|\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|\\u[dD][89a-fA-F][0-9a-fA-F]{2}"
)
INT_MIN, INT_MAX = -(2**63), 2**64 - 1  # what MessagePack can store


def decode_batch(body: bytes) -> tuple[Batch, list[Event]]:
    """Decode and validate a request body; raise BadBatch naming what is wrong and where."""
    raws = None
    if len(body) > MAX_EVENT_BYTES:
        raws = _raw_events(body)
        for index, raw in enumerate(raws or ()):
            if len(raw) > MAX_EVENT_BYTES:
                raise bad_event(index, _id_of(raw), f"{len(raw)} bytes; the limit is {MAX_EVENT_BYTES}", 413)
    try:
        batch = _batch_decoder.decode(body)
    except RecursionError:
        # An event is found by its "type", so a field before it is skipped, and skipping a value
        # nested thousands deep recurses (the event cannot be named: finding it would recurse too).
        raise BadBatch("the batch nests too deeply to read") from None
    except msgspec.ValidationError as error:
        raise _invalid(error, body) from None
    except msgspec.DecodeError as error:
        repaired = _replace_lone_surrogates(body)
        if repaired != body:
            return decode_batch(repaired)
        raise _undecodable(error, body, raws) from None
    events = batch.events
    for index, event in enumerate(events):
        events[index] = _accepted(index, event)
    return batch, events


def _raw_events(body: bytes) -> list[msgspec.Raw] | None:
    """The batch's events as raw JSON, or None when its nesting is too deep to walk."""
    try:
        return _raw_decoder.decode(body).events
    except RecursionError:
        return None  # decoding it against its types (which nest a few levels only) says where
    except msgspec.DecodeError as error:
        raise BadBatch(f"body is not valid JSON: {error}") from None


def _id_of(raw: bytes) -> str:
    """The id of an event that may not decode, if it can be read."""
    try:
        event_id = _identity_decoder.decode(raw).id
    except (msgspec.DecodeError, RecursionError):
        return ""
    return event_id if isinstance(event_id, str) and re.fullmatch(r"[A-Za-z0-9_-]{8,64}", event_id) else ""


def _invalid(error: msgspec.ValidationError, body: bytes) -> BadBatch:
    """The validation error, naming the event it is in (when it is in one)."""
    message = str(error)
    found = _event_path.search(message)
    if found is None:
        return BadBatch(f"invalid batch: {message}")
    index = int(found.group(1))
    raws = _raw_events_or_none(body)
    event_id = _id_of(raws[index]) if raws is not None and index < len(raws) else ""
    return bad_event(index, event_id, message.replace(found.group(0), "$"))


def _undecodable(error: msgspec.DecodeError, body: bytes, raws: list[msgspec.Raw] | None) -> BadBatch:
    """Not JSON, or JSON with a string msgspec refuses (invalid UTF-8): find the event."""
    raws = raws if raws is not None else _raw_events_or_none(body)
    for index, raw in enumerate(raws or ()):
        try:
            _event_decoder.decode(raw)
        except msgspec.DecodeError as event_error:
            return bad_event(index, _id_of(raw), f"not valid JSON: {event_error}")
        except RecursionError:
            return bad_event(index, _id_of(raw), "nested too deeply")
    if raws is None and isinstance(error, msgspec.ValidationError):
        return BadBatch(f"invalid batch: {error}")
    return BadBatch(f"body is not valid JSON: {error}")


def _raw_events_or_none(body: bytes) -> list[msgspec.Raw] | None:
    try:
        return _raw_events(body)
    except BadBatch:
        return None


def _replace_lone_surrogates(body: bytes) -> bytes:
    """`body` with each escaped lone UTF-16 surrogate replaced by U+FFFD (JSON.stringify sends
    them as escapes; msgspec, rightly, will not make a string of them)."""
    if b"\\u" not in body:
        return body
    return _surrogate_escape.sub(lambda m: m.group(0) if len(m.group(0)) != 6 else b"\\ufffd", body)


def _accepted(index: int, event: Event) -> Event:
    """`event` as it will be applied: URLs checked, long texts cut, large integers as floats."""
    for field in ("url", "referrer"):
        url = getattr(event, field, "")
        if not url:
            continue
        if len(url) > MAX_URL_CHARS:
            url = url[:MAX_URL_CHARS]
            event = msgspec.structs.replace(event, **{field: url})
        try:
            urlsplit(url)  # cached: applying the event splits it again for free
        except ValueError as error:
            raise bad_event(index, event.id, f"{field} is not a URL that can be read: {error}") from None
    if isinstance(event, PageView) and len(event.title) > MAX_TITLE_CHARS:
        event = msgspec.structs.replace(event, title=event.title[:MAX_TITLE_CHARS])
    elif isinstance(event, (Track, SetAttributes, Identify)):
        values = event.properties if isinstance(event, Track) else event.attributes
        for key, value in values.items():
            if type(value) is int and not INT_MIN <= value <= INT_MAX or type(value) is list:
                values[key] = _storable(index, event.id, key, value)
    return event


def _storable(index: int, event_id: str, key: str, value):
    """An integer beyond 64 bits as the float it was in JavaScript (lists: each item)."""
    if type(value) is list:
        return [_storable(index, event_id, key, item) for item in value]
    if type(value) is not int or INT_MIN <= value <= INT_MAX:
        return value
    try:
        return float(value)
    except OverflowError:
        raise bad_event(index, event_id, f"'{key}' is a number too large to store") from None
