"""What LINE's webhook sends (docs/line.md): ``{"destination": …, "events": [...]}``, decoded with msgspec.

Only the fields Irasshai uses are declared; LINE adds fields over time, and unknown ones are
ignored rather than refused. Every event has a ``webhookEventId`` (a ULID), which makes a
redelivered event recognisable. The webhook URL check of the LINE Developers console sends an
empty ``events`` list.
"""

from __future__ import annotations

import msgspec


class Source(msgspec.Struct, rename="camel"):
    type: str  # user, group, room: only users start conversations
    user_id: str = ""


class Content(msgspec.Struct, rename="camel"):
    type: str  # text, image, video, audio, file, location, sticker
    id: str = ""
    text: str = ""


class Link(msgspec.Struct):
    result: str = ""  # ok, failed
    nonce: str = ""


class Event(msgspec.Struct, rename="camel"):
    type: str  # message, follow, unfollow, accountLink, postback, …
    webhook_event_id: str = ""
    timestamp: int = 0  # milliseconds
    mode: str = "active"  # standby: another channel has the chat (module channels); nothing to do
    source: Source | None = None
    reply_token: str = ""
    message: Content | None = None
    link: Link | None = None


class Webhook(msgspec.Struct):
    destination: str = ""
    events: list[Event] = []


MAX_EVENTS = 100  # far more than LINE puts in one request
_decoder = msgspec.json.Decoder(Webhook)


class BadWebhook(Exception):
    """A signed body that is not a webhook LINE would send; `str(error)` is one line."""


def decode(body: bytes) -> Webhook:
    try:
        webhook = _decoder.decode(body)
    except msgspec.DecodeError as error:
        raise BadWebhook(f"not a LINE webhook: {error}") from None
    if len(webhook.events) > MAX_EVENTS:
        raise BadWebhook(f"{len(webhook.events)} events in one webhook; the limit is {MAX_EVENTS}")
    return webhook
