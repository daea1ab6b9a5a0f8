"""Standard Webhooks signatures (https://www.standardwebhooks.com, symmetric ``v1``).

Each delivery carries ``webhook-id`` (the event's id: the same on every retry, so a receiver can
drop a repeat), ``webhook-timestamp`` (this attempt's second, for the receiver's replay window)
and ``webhook-signature``: ``v1,<base64 HMAC-SHA256 of "id.timestamp.body">``, one per key of the
endpoint, space-separated, so a receiver holding either the old or the new secret accepts it
while the secret is rotated. Receivers verify with the specification's libraries.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

USER_AGENT = "Irasshai-Webhooks/1"


def message_id() -> str:
    """A new event id: "msg_" and 22 URL-safe characters (128 random bits, never a '.')."""
    return "msg_" + secrets.token_urlsafe(16)


def signature(keys: tuple[bytes, ...], message: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header: one ``v1,<base64>`` per key, space-separated."""
    signed = f"{message}.{timestamp}.".encode() + body
    return " ".join("v1," + base64.b64encode(hmac.digest(key, signed, hashlib.sha256)).decode() for key in keys)


def headers(keys: tuple[bytes, ...], message: str, timestamp: int, body: bytes) -> list[tuple[bytes, bytes]]:
    """Every header of a delivery's POST."""
    return [
        (b"content-type", b"application/json"),
        (b"user-agent", USER_AGENT.encode()),
        (b"webhook-id", message.encode()),
        (b"webhook-timestamp", str(timestamp).encode()),
        (b"webhook-signature", signature(keys, message, timestamp, body).encode()),
    ]
