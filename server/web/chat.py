"""POST /v1/sites/{site}/chat: the widget's chat actions (docs/chat.md).

Checked like events: site, then origin, then size, then decoding, then the visitor's token.
The body is ``{"visitor": "<token>", "do": {"type": ...}}``; the action's type is one of
open, say, choose, typing, read. The bot's answers are not in the reply: they arrive on the
visitor's stream, like everything else the conversation gains.
"""

from __future__ import annotations

import msgspec
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from server.devices import language as language_tag
from server.privacy.policy import STOP_MESSAGES, stop_reason
from server.web.errors import CORS, Refusal
from server.web.origins import allowed_site
from server.web.replies import json_reply
from server.web.services import services

MAX_BODY = 16 * 1024  # 2,000 characters of text, each up to 4 bytes in UTF-8, and the envelope


class Open(msgspec.Struct, tag="open", tag_field="type"):
    rule: str = ""
    language: str = ""


class Say(msgspec.Struct, tag="say", tag_field="type"):
    id: str
    text: str
    rule: str = ""
    language: str = ""


class Choose(msgspec.Struct, tag="choose", tag_field="type"):
    id: str
    choice: str


class Typing(msgspec.Struct, tag="typing", tag_field="type"):
    pass


class Read(msgspec.Struct, tag="read", tag_field="type"):
    up_to: str


class ChatRequest(msgspec.Struct):
    visitor: str
    do: Open | Say | Choose | Typing | Read


_decoder = msgspec.json.Decoder(ChatRequest)


async def post_chat(request: Request) -> Response:
    site = allowed_site(request)
    shared = services(request)
    stop = stop_reason(site.privacy, request.headers, consented=True)  # consent: the events gave the token
    if stop is not None:
        return json_reply({"error": STOP_MESSAGES[stop], "stop": stop}, 403, headers=request.scope[CORS])
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise Refusal(f"body is {declared} bytes; the limit is {MAX_BODY}", 413)
    try:
        body = await request.body()
    except ClientDisconnect:
        raise Refusal("client disconnected", 400) from None
    if len(body) > MAX_BODY:
        raise Refusal(f"body is over {MAX_BODY} bytes", 413)
    try:
        chat_request = _decoder.decode(body)
    except msgspec.DecodeError as error:
        raise Refusal(f"bad chat request: {error}", 400) from None
    except RecursionError:  # a value skipped (an unknown field) or matched against the actions nests thousands deep
        raise Refusal("bad chat request: it nests too deeply to read", 400) from None
    visitor = shared.ingest.ids.verify(site.key, chat_request.visitor)
    if visitor is None:
        raise Refusal("unknown visitor token; send the token from an events reply", 401)
    action, chat, cors = chat_request.do, shared.chat, request.scope[CORS]
    if isinstance(action, Open):
        conversation = await chat.open(site, visitor, action.rule, _language(request, action.language))
        return json_reply(
            {"conversation": conversation, "ticket": shared.tickets.issue(site.key, visitor)}, headers=cors
        )
    if isinstance(action, Say):
        language = _language(request, action.language)
        message, conversation = await chat.say(site, visitor, action.id, action.text, action.rule, language)
        return json_reply({"message": message, "conversation": conversation}, headers=cors)
    if isinstance(action, Choose):
        message, conversation = await chat.choose(site, visitor, action.id, action.choice)
        return json_reply({"message": message, "conversation": conversation}, headers=cors)
    if isinstance(action, Typing):
        await chat.typing(site, visitor, "visitor")
    else:
        await chat.visitor_read(site, visitor, action.up_to)
    return Response(status_code=204, headers=cors)


def _language(request: Request, asked: str) -> str:
    """ja or en: the one the widget asked for, else the browser's first, else '' (the site's)."""
    tag = asked or language_tag("", request.headers.get("accept-language", ""))
    return tag[:2] if tag[:2] in ("ja", "en") else ""
