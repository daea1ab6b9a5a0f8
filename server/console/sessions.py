"""Server-side sessions of the console: who is signed in, and their CSRF token.

A session is a record in the store (``keys.console_session``) that expires after the console's
idle time (IRASSHAI_CONSOLE_IDLE) and is kept that long again on every use; signing out deletes
it, so a copied cookie is worthless from then on. The browser holds only the session's random
id, signed with itsdangerous in the cookie ``irasshai_console`` (HttpOnly, SameSite=Lax, Secure
over https, Path=/console), so a made-up id is refused before the store is asked.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

import msgspec
from itsdangerous import BadSignature, URLSafeSerializer

COOKIE = "irasshai_console"
LOGIN_COOKIE = "irasshai_console_login"  # the sign-in form's CSRF token, before there is a session
COOKIE_PATH = "/console"
SEEN_EVERY = 60  # seconds: "last seen" is written at most this often, the TTL is refreshed on every use


class Session(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    email: str
    csrf: str
    created: float
    seen: float


_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(Session).decode


class Sessions:
    def __init__(self, store, secret_key: str, idle: int, clock: Callable[[], float]):
        self.store = store
        self.idle = idle
        self.clock = clock
        self._signer = URLSafeSerializer(secret_key, salt="irasshai.console.session")
        self._login_signer = URLSafeSerializer(secret_key, salt="irasshai.console.login")

    async def start(self, email: str) -> tuple[Session, str]:
        """A new session for `email` and the cookie value that names it."""
        now = self.clock()
        session = Session(
            id=secrets.token_urlsafe(32), email=email, csrf=secrets.token_urlsafe(32), created=now, seen=now
        )
        await self.store.put_session(session.id, _encode(session), self.idle)
        return session, self._signer.dumps(session.id)

    async def find(self, cookie: str | None) -> Session | None:
        """The live session the cookie names, its idle time restarted; None if none."""
        session_id = self._unsign(self._signer, cookie)
        if session_id is None:
            return None
        record = await self.store.touch_session(session_id, self.idle)
        if record is None:
            return None
        session = _decode(record)
        now = self.clock()
        if now - session.seen >= SEEN_EVERY:
            session = msgspec.structs.replace(session, seen=now)
            await self.store.put_session(session.id, _encode(session), self.idle)
        return session

    async def end(self, session: Session) -> None:
        await self.store.delete_session(session.id)

    def login_token(self) -> tuple[str, str]:
        """A fresh sign-in form token and the cookie value that vouches for it."""
        token = secrets.token_urlsafe(32)
        return token, self._login_signer.dumps(token)

    def login_token_of(self, cookie: str | None) -> str | None:
        return self._unsign(self._login_signer, cookie)

    @staticmethod
    def _unsign(signer: URLSafeSerializer, cookie: str | None) -> str | None:
        if not cookie or len(cookie) > 512:
            return None
        try:
            value = signer.loads(cookie)
        except BadSignature:
            return None
        return value if isinstance(value, str) else None
