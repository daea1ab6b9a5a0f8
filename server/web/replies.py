"""JSON replies and CORS headers shared by the HTTP endpoints."""

from __future__ import annotations

import msgspec
from starlette.responses import Response

from server.oneline import one_line

_json = msgspec.json.Encoder()
encode_json = _json.encode


# A JSON reply may quote what a request sent (an error naming a bad value): nosniff keeps a
# browser from ever reading it as HTML (docs/reliability.md, Abuse).
_NOSNIFF = {"x-content-type-options": "nosniff"}


def json_reply(data: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    headers = {**_NOSNIFF, **headers} if headers else _NOSNIFF
    return Response(_json.encode(data), status_code=status, media_type="application/json", headers=headers)


def error_reply(message: str, status: int, headers: dict[str, str] | None = None) -> Response:
    """Every error is one line, under "error", so the widget can log it and a person can read it
    (what it quotes of the request may hold line breaks: they are shown escaped)."""
    return json_reply({"error": one_line(message)}, status, headers)


def cors_headers(origin: str) -> dict[str, str]:
    """CORS for an origin already checked against the site's allow-list (never '*'). The widget
    may read Retry-After (a 429's or a 503's), which CORS hides from scripts unless exposed."""
    return {"access-control-allow-origin": origin, "vary": "Origin", "access-control-expose-headers": "Retry-After"}
