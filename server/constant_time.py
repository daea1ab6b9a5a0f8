"""The one way Irasshai compares a secret: in constant time (docs/reliability.md, "Abuse").

Every check of something a caller must not guess a byte at a time (a site's API secret, an
identity hash or JWT signature, a LINE signature, a CSRF token) goes through :func:`same_secret`,
so that how long a wrong guess takes says nothing about how much of it was right.
tests/test_constant_time.py fails when server/ compares such a value any other way. Signed
values (visitor ids, stream tickets, console cookies) are checked by itsdangerous, which
compares its signatures in constant time too, and passwords by Argon2.
"""

from __future__ import annotations

import hmac


def same_secret(given: str | bytes, expected: str | bytes) -> bool:
    """Whether `given` is `expected`, taking a time that depends only on their lengths.
    Text is compared as UTF-8, so a guess with any characters compares (and fails) like another."""
    return hmac.compare_digest(
        given.encode() if isinstance(given, str) else given,
        expected.encode() if isinstance(expected, str) else expected,
    )
