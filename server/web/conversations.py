"""The operator API: /v1/sites/{site}/conversations… (docs/chat.md).

For operators and integrations until the console lands, and for bots and CRMs after it.
Authenticated like the stats endpoint (the site's secret as a Bearer token), no CORS; the
secret is checked before anything else, so a caller without it learns nothing.
"""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.sites import Site
from server.web.auth import require_site_secret
from server.web.errors import Refusal
from server.web.replies import json_reply
from server.web.services import services

MAX_BODY = 16 * 1024


class OperatorMessage(msgspec.Struct, forbid_unknown_fields=True):
    text: str
    author: str = ""


class StatusRequest(msgspec.Struct, forbid_unknown_fields=True):
    status: str
    assignee: str | None = None


class ReadRequest(msgspec.Struct, forbid_unknown_fields=True):
    up_to: str = ""


class TypingRequest(msgspec.Struct, forbid_unknown_fields=True):
    author: str = ""


def _site(request: Request) -> Site:
    key = request.path_params["site"]
    require_site_secret(request, key)
    site = services(request).live.config.sites.get(key)
    if site is None:
        raise Refusal(f"unknown site '{key[:64]}'", 404)
    return site


async def read_body(request: Request, kind: type, empty_ok: bool = False):
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise Refusal(f"body is {declared} bytes; the limit is {MAX_BODY}", 413)
    body = await request.body()
    if len(body) > MAX_BODY:
        raise Refusal(f"body is over {MAX_BODY} bytes", 413)
    if not body.strip() and empty_ok:
        return kind()
    try:
        return msgspec.json.decode(body, type=kind)
    except msgspec.DecodeError as error:
        raise Refusal(f"bad request body: {error}", 400) from None


async def list_conversations(request: Request) -> Response:
    site = _site(request)
    wanted = tuple(s.strip() for s in request.query_params.get("status", "").split(",") if s.strip())
    found = await services(request).chat.conversations(site, wanted)
    return json_reply({"conversations": found})


async def get_conversation(request: Request) -> Response:
    site = _site(request)
    chat = services(request).chat
    conversation = await chat.conversation(site, request.path_params["id"])
    return json_reply({"conversation": conversation, "messages": await chat.messages(site, conversation)})


async def post_message(request: Request) -> Response:
    site = _site(request)
    body = await read_body(request, OperatorMessage)
    message = await services(request).chat.operator_say(site, request.path_params["id"], body.text, body.author)
    return json_reply({"message": message})


async def post_status(request: Request) -> Response:
    site = _site(request)
    body = await read_body(request, StatusRequest)
    conversation = await services(request).chat.set_status(site, request.path_params["id"], body.status, body.assignee)
    return json_reply({"conversation": conversation})


async def post_read(request: Request) -> Response:
    site = _site(request)
    body = await read_body(request, ReadRequest, empty_ok=True)
    conversation = await services(request).chat.operator_read(site, request.path_params["id"], body.up_to)
    return json_reply({"conversation": conversation})


async def post_typing(request: Request) -> Response:
    site = _site(request)
    body = await read_body(request, TypingRequest, empty_ok=True)
    chat = services(request).chat
    conversation = await chat.conversation(site, request.path_params["id"])
    await chat.typing(site, conversation.visitor, "operator", body.author)
    return Response(status_code=204)


async def post_proactive(request: Request) -> Response:
    """An operator writes first to a live visitor: shown as a chat prompt (server/chat/proactive.py)."""
    site = _site(request)
    body = await read_body(request, OperatorMessage)
    show = await services(request).chat.proactive(site, request.path_params["visitor"], body.author, body.text)
    return json_reply({"engagement": show})


_BASE = "/v1/sites/{site}/conversations"
ROUTES = [
    Route(_BASE, list_conversations, methods=["GET"]),
    Route(_BASE + "/{id}", get_conversation, methods=["GET"]),
    Route(_BASE + "/{id}/messages", post_message, methods=["POST"]),
    Route(_BASE + "/{id}/status", post_status, methods=["POST"]),
    Route(_BASE + "/{id}/read", post_read, methods=["POST"]),
    Route(_BASE + "/{id}/typing", post_typing, methods=["POST"]),
    Route("/v1/sites/{site}/visitors/{visitor}/message", post_proactive, methods=["POST"]),
]
