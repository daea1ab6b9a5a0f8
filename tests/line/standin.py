"""A local stand-in for LINE's platform: the only stand-in for a third-party service in the tests.

LINE's servers cannot be reached from here (and would need a real channel and real users), so
this small real HTTP server plays LINE, as far as Irasshai uses it, and checks what LINE checks:

- every API call carries ``Authorization: Bearer <the channel access token>`` (else 401);
- a push's ``X-Line-Retry-Key`` is a UUID (else 400), and a key already accepted is not sent
  again: 409 with ``x-line-accepted-request-id``; the reply API refuses the header (400);
- a push's body is ``{"to": "U<32 hex>", "messages": [1 to 5 text messages of 1 to 5000
  characters]}`` (else 400), a reply's ``{"replyToken": <one it issued, unused>, "messages": …}``;
- profiles exist for the users it knows (else 404); link tokens are issued for them, valid 10
  minutes and once, and its account-link dialog sends the signed ``accountLink`` event.

It delivers webhooks as LINE does: signed with the channel secret (``deliver``). What it
accepted is in ``pushes`` and ``replies``; every refusal, with its reason, in ``refused``.
Tests make it fail on purpose with ``fail_pushes`` (answer a status, after accepting or not), and
with ``hold_pushes`` keep the answer to an accepted push until ``release_pushes()`` (or a minute):
its sender never learns that LINE took it.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from server.line.signature import sign

USER_ID = re.compile(r"^U[0-9a-f]{32}$")
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def user_id() -> str:
    return "U" + secrets.token_hex(16)


def ulid() -> str:
    """A webhookEventId as LINE makes them: 26 characters of Crockford base32, time first."""
    millisecond = int(time.time() * 1000)
    head = "".join(CROCKFORD[(millisecond >> (5 * (9 - i))) & 31] for i in range(10))
    return head + "".join(secrets.choice(CROCKFORD) for _ in range(16))


@dataclass
class LineStandIn:
    token: str
    secret: str
    profiles: dict[str, dict] = field(default_factory=dict)  # user id -> profile
    webhook_url: str = ""  # where its account-link dialog sends the accountLink event
    pushes: list[dict] = field(default_factory=list)  # accepted: to, messages, retry_key, request_id
    replies: list[dict] = field(default_factory=list)
    refused: list[tuple[str, int, str]] = field(default_factory=list)  # (path, status, why)
    fail_pushes: list[tuple[int, bool]] = field(default_factory=list)  # next pushes: (status, accepted first)
    hold_pushes: bool = False  # answer accepted pushes only once released
    _released: threading.Event = field(default_factory=threading.Event)
    link_tokens: dict[str, dict] = field(default_factory=dict)  # token -> user, issued, used
    _accepted: dict[str, str] = field(default_factory=dict)  # retry key -> request id
    _reply_tokens: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def release_pushes(self) -> None:
        """Answer the held pushes, and the next ones at once."""
        self.hold_pushes = False
        self._released.set()

    def add_user(self, name: str, language: str = "ja") -> str:
        found = user_id()
        self.profiles[found] = {"userId": found, "displayName": name, "language": language}
        return found

    # -- as LINE's API ------------------------------------------------------------------------

    @property
    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v2/bot/message/push", self._push, methods=["POST"]),
                Route("/v2/bot/message/reply", self._reply, methods=["POST"]),
                Route("/v2/bot/profile/{user}", self._profile, methods=["GET"]),
                Route("/v2/bot/user/{user}/linkToken", self._link_token, methods=["POST"]),
                Route("/dialog/bot/accountLink", self._account_link, methods=["GET"]),
                Route("/favicon.ico", lambda request: Response(status_code=204)),  # browsers ask the dialog's host
            ]
        )

    def _refuse(self, request: Request, status: int, why: str) -> Response:
        self.refused.append((request.url.path, status, why))
        return JSONResponse({"message": why}, status)

    def _authorised(self, request: Request) -> bool:
        return request.headers.get("authorization", "") == f"Bearer {self.token}"

    async def _push(self, request: Request) -> Response:
        if not self._authorised(request):
            return self._refuse(request, 401, "Authentication failed. Confirm that the access token is valid.")
        key = request.headers.get("x-line-retry-key")
        if key is not None:
            try:
                if str(uuid.UUID(key)) != key.lower():
                    raise ValueError
            except ValueError:
                return self._refuse(request, 400, "The value for the 'X-Line-Retry-Key' header is invalid")
        body, why = await _json(request)
        if not why:
            why = _check_messages(body) or (
                "" if USER_ID.match(str(body.get("to", ""))) else "The property, 'to', is invalid"
            )
        if why:
            return self._refuse(request, 400, why)
        with self._lock:
            if key is not None and key in self._accepted:
                self.refused.append((request.url.path, 409, "The retry key is already accepted"))
                return JSONResponse(
                    {"message": "The retry key is already accepted", "sentMessages": []},
                    409,
                    headers={"x-line-accepted-request-id": self._accepted[key]},
                )
            status, accept = self.fail_pushes.pop(0) if self.fail_pushes else (200, True)
            if not accept:
                return self._refuse(request, status, f"failing on purpose with {status}")
            request_id = str(uuid.uuid4())
            if key is not None:
                self._accepted[key] = request_id
            self.pushes.append(
                {"to": body["to"], "messages": body["messages"], "retry_key": key, "request_id": request_id}
            )
        if self.hold_pushes:
            await _in_thread(self._released.wait, 60)
        if status != 200:  # accepted, but the answer says otherwise (the case retry keys exist for)
            return JSONResponse({"message": "An error occurred in the backend"}, status)
        return JSONResponse({"sentMessages": [{"id": str(len(self.pushes)), "quoteToken": secrets.token_hex(8)}]})

    async def _reply(self, request: Request) -> Response:
        if not self._authorised(request):
            return self._refuse(request, 401, "Authentication failed. Confirm that the access token is valid.")
        if "x-line-retry-key" in request.headers:
            return self._refuse(request, 400, "X-Line-Retry-Key is not supported by the reply API")
        body, why = await _json(request)
        why = why or _check_messages(body)
        if not why and body.get("replyToken") not in self._reply_tokens:
            why = "Invalid reply token"
        if why:
            return self._refuse(request, 400, why)
        self._reply_tokens.discard(body["replyToken"])
        self.replies.append(body)
        return JSONResponse({"sentMessages": []})

    async def _profile(self, request: Request) -> Response:
        if not self._authorised(request):
            return self._refuse(request, 401, "Authentication failed. Confirm that the access token is valid.")
        profile = self.profiles.get(request.path_params["user"])
        return JSONResponse(profile) if profile else self._refuse(request, 404, "Not found")

    async def _link_token(self, request: Request) -> Response:
        if not self._authorised(request):
            return self._refuse(request, 401, "Authentication failed. Confirm that the access token is valid.")
        user = request.path_params["user"]
        if user not in self.profiles:
            return self._refuse(request, 400, "The user hasn't added the LINE Official Account as a friend")
        token = secrets.token_urlsafe(24)
        self.link_tokens[token] = {"user": user, "issued": time.time(), "used": False}
        return JSONResponse({"linkToken": token})

    async def _account_link(self, request: Request) -> Response:
        """The dialog a user's browser is sent to: LINE checks the link token, then tells the bot."""
        token, nonce = request.query_params.get("linkToken", ""), request.query_params.get("nonce", "")
        issued = self.link_tokens.get(token)
        if issued is None or issued["used"] or time.time() - issued["issued"] > 600:
            return self._refuse(request, 400, "invalid or expired link token")
        if not 10 <= len(nonce) <= 255:
            return self._refuse(request, 400, "invalid nonce")
        issued["used"] = True
        event = self.event(issued["user"], "accountLink", link={"result": "ok", "nonce": nonce})
        status, _ = await _in_thread(self.deliver, self.webhook_url, [event])
        return PlainTextResponse(f"linked (the bot answered {status})")

    # -- as LINE's webhook --------------------------------------------------------------------

    def event(self, user: str, kind: str, **fields) -> dict:
        """A webhook event from `user`, with a fresh webhookEventId (and a reply token where LINE gives one)."""
        found = {
            "type": kind,
            "mode": "active",
            "timestamp": int(time.time() * 1000),
            "source": {"type": "user", "userId": user},
            "webhookEventId": ulid(),
            "deliveryContext": {"isRedelivery": False},
            **fields,
        }
        if kind in ("message", "follow", "accountLink", "postback"):
            found["replyToken"] = secrets.token_hex(16)
            self._reply_tokens.add(found["replyToken"])
        return found

    def text(self, user: str, text: str) -> dict:
        return self.event(user, "message", message={"id": str(secrets.randbelow(10**15)), "type": "text", "text": text})

    def body(self, events: list[dict]) -> bytes:
        return json.dumps({"destination": "U" + "0" * 32, "events": events}, ensure_ascii=False).encode()

    def deliver(self, url: str, events: list[dict], signature: str | None = None, body: bytes | None = None):
        """POST a webhook to `url` as LINE does; (status, answer body)."""
        body = body if body is not None else self.body(events)
        request = urllib.request.Request(url, data=body, method="POST")
        request.add_header("Content-Type", "application/json; charset=utf-8")
        request.add_header("x-line-signature", sign(self.secret, body) if signature is None else signature)
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status, answer.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()


async def _json(request: Request) -> tuple[dict, str]:
    if not request.headers.get("content-type", "").startswith("application/json"):
        return {}, "Content-Type must be application/json"
    try:
        body = json.loads(await request.body())
    except ValueError:
        return {}, "The request body could not be parsed as JSON"
    return (body, "") if isinstance(body, dict) else ({}, "The request body must be a JSON object")


def _check_messages(body: dict) -> str:
    messages = body.get("messages")
    if not isinstance(messages, list) or not 1 <= len(messages) <= 5:
        return "The property, 'messages', must be an array of 1 to 5 messages"
    for message in messages:
        if not isinstance(message, dict) or message.get("type") != "text":
            return "Only text messages are expected here"
        text = message.get("text")
        if not isinstance(text, str) or not 1 <= len(text) <= 5000:
            return "The property, 'text', must be 1 to 5000 characters"
        if set(message) - {"type", "text", "quoteToken", "quickReply", "sender", "emojis"}:
            return f"Unknown properties in a text message: {sorted(set(message) - {'type', 'text'})}"
    return ""


async def _in_thread(function, *args):
    return await asyncio.get_running_loop().run_in_executor(None, function, *args)
