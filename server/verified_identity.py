"""Verified identity: proof from the shop's server that a visitor is the customer they say.

A page calls ``irasshai('identify', {id, name, …, hash})``. ``hash`` is the hex HMAC-SHA256
of the customer id (UTF-8) under the site's identity secret (IRASSHAI_IDENTITY_SECRETS),
which only the shop's server and Irasshai know, so a page cannot claim a customer its
server did not log in. A JWT (``jwt``: HS256, ``sub`` the customer id, ``exp`` required) is
accepted instead, for shops that already issue them.

An identify without proof is kept, unverified. Wrong proof is refused with one line that
says what is wrong, never which part of a secret: signatures are compared in constant time.

The JWT is verified with the standard library rather than PyJWT: one algorithm (HS256) is
accepted, which is a dozen lines of hmac, base64 and json, and rejecting every other ``alg``
(``none`` and the RS/HS confusion included) is then a single comparison, with no dependency
whose defaults must be audited.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json

from server.constant_time import same_secret

MAX_JWT_CHARS = 4096


class WrongProof(Exception):
    """The identify carried a hash or JWT that does not prove its id; `str(error)` is one line."""


def identity_hash(secret: str, customer: str) -> str:
    """What the shop's server computes: hex HMAC-SHA256 of the customer id under the site's secret."""
    return hmac.new(secret.encode(), customer.encode(), hashlib.sha256).hexdigest()


def proven(secret: str | None, customer: str, hash: str, jwt: str, now: float) -> bool:
    """Whether `hash` or `jwt` proves `customer`: False when neither is given (or the site has no
    secret to check them with); raises WrongProof when one is given and does not."""
    if not hash and not jwt or secret is None:
        return False
    if hash:
        expected = identity_hash(secret, customer).encode()
        if not same_secret(hash.strip().lower(), expected):
            raise WrongProof(
                f"hash does not match id '{customer[:64]}': expected the hex HMAC-SHA256 of the id "
                "with the site's identity secret"
            )
        return True
    subject = _verified_jwt_subject(secret, jwt, now)
    if subject != customer:
        raise WrongProof(f"jwt is for sub '{subject[:64]}', not for id '{customer[:64]}'")
    return True


def _verified_jwt_subject(secret: str, token: str, now: float) -> str:
    """The `sub` of an HS256 JWT signed with `secret` and not expired; else WrongProof."""
    parts = token.split(".")
    if len(token) > MAX_JWT_CHARS or len(parts) != 3:
        raise WrongProof("jwt is not a JWT (three base64url parts separated by '.')")
    header = _json_part(parts[0], "header")
    if header.get("alg") != "HS256":
        raise WrongProof(f"jwt alg is {str(header.get('alg'))[:20]!r}; only HS256 is accepted")
    expected = hmac.new(secret.encode(), f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
    if not same_secret(_base64url(parts[2], "signature"), expected):
        raise WrongProof("jwt signature does not match the site's identity secret")
    claims = _json_part(parts[1], "payload")
    expires = claims.get("exp")
    if isinstance(expires, bool) or not isinstance(expires, (int, float)):
        raise WrongProof("jwt has no exp (expiry, seconds since the epoch); it is required")
    if expires <= now:
        raise WrongProof(f"jwt expired {int(now - expires)} s ago (exp {int(expires)})")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise WrongProof("jwt has no sub; it must be the customer id")
    return subject


def _base64url(text: str, part: str) -> bytes:
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise WrongProof(f"jwt {part} is not base64url") from None


def _json_part(text: str, part: str) -> dict:
    try:
        value = json.loads(_base64url(text, part))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise WrongProof(f"jwt {part} is not JSON") from None
    if not isinstance(value, dict):
        raise WrongProof(f"jwt {part} is not a JSON object")
    return value
