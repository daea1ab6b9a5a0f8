"""Signed visitor ids: the server issues them, the widget keeps them, nobody else can forge them.

A token is ``<id>.<signature>``, signed with itsdangerous under a salt that names the site,
so a token from another site, a tampered one or an unsigned one does not verify and the
visitor gets a fresh id instead.

A fresh id is derived (HMAC) from the batch's ``seed``: a random secret of at least 128 bits
that the widget makes up and keeps until it holds a token, and sends only in batches without
one. A batch whose response was lost is retried with the same seed, so it gets the same fresh
id and the server's de-duplication still recognises it: a retry never creates a second visitor.
Nothing else the batch carries decides the id: derived from something others can see or
guess (such as the first event id), the id, and with it the visitor's signed token, would go
to whoever sends it. A batch without a seed gets a random id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from itsdangerous import BadSignature, Signer

ID_BYTES = 16


class VisitorIds:
    def __init__(self, secret_key: str):
        if not secret_key:
            raise ValueError("a secret key is required to sign visitor ids")
        self._key = secret_key.encode()
        self._signers: dict[str, Signer] = {}
        self._verified: dict[tuple[str, str], str] = {}  # a visitor sends the same token all visit

    def _signer(self, site: str) -> Signer:
        signer = self._signers.get(site)
        if signer is None:
            # Derive the site's key once: itsdangerous would otherwise derive it on every call,
            # three SHA-1 rounds per event batch on the hot path.
            site_key = hmac.new(self._key, f"irasshai.visitor.{site}".encode(), hashlib.sha256).digest()
            signer = self._signers[site] = Signer(site_key, key_derivation="none", digest_method=hashlib.sha256)
        return signer

    def verify(self, site: str, token: str | None) -> str | None:
        """The visitor id in `token` if it was signed by us for `site`, else None."""
        if not token:
            return None
        known = self._verified.get((site, token))
        if known is not None:
            return known
        try:
            visitor_id = self._signer(site).unsign(token).decode()
        except (BadSignature, UnicodeDecodeError):
            return None
        if len(self._verified) >= 100_000:
            self._verified.clear()
        self._verified[(site, token)] = visitor_id
        return visitor_id

    def issue(self, site: str, seed: str | None = None) -> tuple[str, str]:
        """A fresh (visitor id, token). The same `seed` (a client's secret) always gives the same id."""
        if seed is None:
            raw = secrets.token_bytes(ID_BYTES)
        else:
            raw = hmac.new(self._key, f"fresh-visitor|{site}|{seed}".encode(), hashlib.sha256).digest()[:ID_BYTES]
        visitor_id = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        return visitor_id, self.sign(site, visitor_id)

    def sign(self, site: str, visitor_id: str) -> str:
        return self._signer(site).sign(visitor_id).decode()
