"""LINE's Messaging API as Irasshai calls it: push, reply, profile, link token (docs/line.md).

The base URL is the setting IRASSHAI_LINE_API (https://api.line.me), so tests call a local
stand-in instead. Calls run with the standard library's HTTP client on a few threads of their
own, each with a timeout: LINE is reached from background tasks only (a reply's delivery, a
profile's name), never while a request waits, so a slow LINE slows nothing else. Redirects are
not followed (a POST must not be replayed elsewhere). A call never raises: an answer without
a status (status 0) says why there was none.
"""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple
from urllib.parse import quote

log = logging.getLogger("irasshai.line")

TIMEOUT = 10.0  # seconds per call
PROFILE_TIMEOUT = 3.0
MAX_ANSWER = 64 * 1024  # bytes of an answer read
THREADS = 4


class Answer(NamedTuple):
    status: int  # 0: no answer (timeout, refused connection, DNS)
    body: bytes
    error: str  # one line: why there was no answer, or LINE's message for a 4xx/5xx

    def json(self) -> dict:
        try:
            found = json.loads(self.body or b"{}")
        except ValueError:
            return {}
        return found if isinstance(found, dict) else {}


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the 3xx is answered as it came


class LineApi:
    def __init__(self, base: str, timeout: float = TIMEOUT, threads: int = THREADS):
        self.base = base.rstrip("/")
        self.timeout = timeout
        self._threads = ThreadPoolExecutor(threads, thread_name_prefix="irasshai-line")
        self._opener = urllib.request.build_opener(_NoRedirects)

    async def push(self, token: str, to: str, texts: list[str], retry_key: str) -> Answer:
        """Send text messages to a user; the same `retry_key` is accepted once (LINE answers 409 after)."""
        body = {"to": to, "messages": [{"type": "text", "text": text} for text in texts]}
        return await self.call("POST", "/v2/bot/message/push", token, body, {"X-Line-Retry-Key": retry_key})

    async def reply(self, token: str, reply_token: str, texts: list[str]) -> Answer:
        """Answer a webhook event with its reply token (free, but valid for a short while only)."""
        body = {"replyToken": reply_token, "messages": [{"type": "text", "text": text} for text in texts]}
        return await self.call("POST", "/v2/bot/message/reply", token, body)

    async def profile(self, token: str, user_id: str) -> dict | None:
        """The user's profile (displayName, language, …); None when LINE has none for us (not a friend)."""
        answer = await self.call("GET", f"/v2/bot/profile/{quote(user_id, safe='')}", token, timeout=PROFILE_TIMEOUT)
        if answer.status != 200:
            log.info("LINE profile not read: %s", answer.error or answer.status)
            return None
        return answer.json()

    async def link_token(self, token: str, user_id: str) -> str:
        """A link token for the account-link flow (valid 10 minutes, once); "" when LINE gave none."""
        answer = await self.call("POST", f"/v2/bot/user/{quote(user_id, safe='')}/linkToken", token)
        if answer.status != 200:
            log.warning("LINE link token not issued: %s", answer.error or answer.status)
        found = answer.json().get("linkToken") if answer.status == 200 else ""
        return found if isinstance(found, str) else ""

    async def call(
        self,
        method: str,
        path: str,
        token: str,
        body: dict | None = None,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> Answer:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._threads, self._call, method, path, token, body, headers or {}, timeout or self.timeout
        )

    def _call(self, method: str, path: str, token: str, body, headers: dict, timeout: float) -> Answer:
        data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {token}")
        request.add_header("User-Agent", "Irasshai")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        for name, value in headers.items():
            request.add_header(name, value)
        try:
            with self._opener.open(request, timeout=timeout) as response:
                return Answer(response.status, response.read(MAX_ANSWER), "")
        except urllib.error.HTTPError as error:
            answer = error.read(MAX_ANSWER)
            error.close()
            return Answer(error.code, answer, _message(error.code, answer))
        except (urllib.error.URLError, OSError, ValueError) as error:  # TimeoutError is an OSError
            reason = getattr(error, "reason", error)
            return Answer(0, b"", f"no answer from {self.base}: {reason}"[:300])

    def close(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)


def _message(status: int, body: bytes) -> str:
    """LINE's error answer ({"message": …}) as one line."""
    message = Answer(status, body, "").json().get("message")
    return f"{status} {message}"[:300] if isinstance(message, str) else f"{status}"
