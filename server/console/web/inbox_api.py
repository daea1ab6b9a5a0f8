"""The inbox's JSON API: /console/api/sites/{site}/conversations… and the away switch (docs/console.md).

The console's twin of the operator API (server/web/conversations.py): the same ChatService calls
and body decoding, but the caller is the signed-in operator (session cookie, ``require_site``),
every POST carries the session's CSRF token, and messages, takes and assignments are made in
the operator's name. A conversation of another site is not found (404): ChatService looks it up
under this site's keys only.
"""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.chat.feed import OPERATORS
from server.console.accounts import Operator
from server.console.auth import console, require_csrf, require_site, signed_in
from server.sites import Site
from server.web.conversations import OperatorMessage, ReadRequest, read_body
from server.web.errors import Refusal
from server.web.replies import json_reply
from server.web.services import services

ACTIONS = ("take", "resolve", "reopen", "assign")


class ActionRequest(msgspec.Struct, forbid_unknown_fields=True):
    action: str
    assignee: str = ""


class AwayRequest(msgspec.Struct, forbid_unknown_fields=True):
    away: bool


async def _caller(request: Request, post: bool = False) -> tuple[Operator, Site]:
    found = await signed_in(request)
    if found is None:
        raise Refusal("not signed in to the console; sign in at /console/login", 401)
    session, operator = found
    key = request.path_params["site"]
    require_site(operator, key)
    site = services(request).live.config.sites.get(key)
    if site is None:
        raise Refusal(f"unknown site '{key[:64]}'", 404)
    if post:
        await require_csrf(request, session)
    return operator, site


async def list_conversations(request: Request) -> Response:
    """Every conversation of the site (newest activity first), who is asking, and the site's operators."""
    operator, site = await _caller(request)
    shared = services(request)
    colleagues = await console(request).accounts.of_site(site.key)
    online = await shared.presence.online(site.key)
    return json_reply(
        {
            "me": operator.email,
            "conversations": await shared.chat.conversations(site),
            "operators": [{"email": o.email, "name": o.name, "online": o.email in online} for o in colleagues],
        }
    )


async def get_conversation(request: Request) -> Response:
    """A conversation, its messages, and how far its visitor has read (their current conversation only)."""
    _, site = await _caller(request)
    chat = services(request).chat
    conversation = await chat.conversation(site, request.path_params["id"])
    state = await services(request).store.get_chat(site.key, conversation.visitor)
    seen = state.get("read", "") if state.get("current") == conversation.id else ""
    return json_reply(
        {"conversation": conversation, "messages": await chat.messages(site, conversation), "visitor_read": seen}
    )


async def post_message(request: Request) -> Response:
    operator, site = await _caller(request, post=True)
    body = await read_body(request, OperatorMessage)
    if body.author:
        raise Refusal("the console sends messages in the signed-in operator's name; leave out 'author'", 400)
    message = await services(request).chat.operator_say(
        site, request.path_params["id"], body.text, operator.name, assignee=operator.email
    )
    return json_reply({"message": message})


async def post_action(request: Request) -> Response:
    """take (open, mine), assign (to another operator of the site), resolve, reopen."""
    operator, site = await _caller(request, post=True)
    body = await read_body(request, ActionRequest)
    chat = services(request).chat
    conversation_id = request.path_params["id"]
    if body.action not in ACTIONS:
        raise Refusal(f"action must be one of {', '.join(ACTIONS)}, not '{body.action[:32]}'", 400)
    if body.action == "assign":
        colleagues = {o.email for o in await console(request).accounts.of_site(site.key)}
        if body.assignee not in colleagues:
            raise Refusal(f"'{body.assignee[:80]}' is not an operator of site '{site.key}'", 400)
        current = await chat.conversation(site, conversation_id)
        status = current.status if current.status in ("waiting", "open") else "waiting"
        conversation = await chat.set_status(site, conversation_id, status, body.assignee)
    elif body.action == "take":
        conversation = await chat.set_status(site, conversation_id, "open", operator.email)
    elif body.action == "resolve":
        conversation = await chat.set_status(site, conversation_id, "resolved")
    else:
        current = await chat.conversation(site, conversation_id)
        conversation = await chat.set_status(site, conversation_id, "open", current.assignee or operator.email)
    return json_reply({"conversation": conversation})


async def post_read(request: Request) -> Response:
    _, site = await _caller(request, post=True)
    body = await read_body(request, ReadRequest, empty_ok=True)
    conversation = await services(request).chat.operator_read(site, request.path_params["id"], body.up_to)
    return json_reply({"conversation": conversation})


async def post_typing(request: Request) -> Response:
    operator, site = await _caller(request, post=True)
    chat = services(request).chat
    conversation = await chat.conversation(site, request.path_params["id"])
    await chat.typing(site, conversation.visitor, "operator", operator.name)
    return Response(status_code=204)


async def post_away(request: Request) -> Response:
    """Away (or back): presence now, and every console stream of this operator told to keep it so."""
    operator, site = await _caller(request, post=True)
    body = await read_body(request, AwayRequest)
    shared = services(request)
    await shared.presence.touch(site.key, operator.email, away=body.away)
    await shared.store.publish(site.key, OPERATORS, f"away\t{operator.email}\t{int(body.away)}")
    return json_reply({"away": body.away})


_BASE = "/console/api/sites/{site}/conversations"
ROUTES = [
    Route(_BASE, list_conversations, methods=["GET"]),
    Route(_BASE + "/{id}", get_conversation, methods=["GET"]),
    Route(_BASE + "/{id}/messages", post_message, methods=["POST"]),
    Route(_BASE + "/{id}/actions", post_action, methods=["POST"]),
    Route(_BASE + "/{id}/read", post_read, methods=["POST"]),
    Route(_BASE + "/{id}/typing", post_typing, methods=["POST"]),
    Route("/console/api/sites/{site}/away", post_away, methods=["POST"]),
]
