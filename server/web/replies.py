"""JSON replies and CORS headers shared by the HTTP endpoints."""

from __future__ import annotations

import msgspec
from starlette.responses import Response

from server.oneline import one_line

_json = msgspec.json.Encoder()
encode_json = _json.encode


def json_reply(data: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(_json.encode(data), status_code=status, media_type="application/json", headers=headers)


def error_reply(message: str, status: int, headers: dict[str, str] | None = None) -> Response:
    """Every error is one line, under "error", so the widget can log it and a person can read it
    (what it quotes of the request may hold line breaks: they are shown escaped)."""
    return json_reply({"error": one_line(message)}, status, headers)


def cors_headers(origin: str) -> dict[str, str]:
    """CORS for an origin already checked against the site's allow-list (never '*')."""
    return {"access-control-allow-origin": origin, "vary": "Origin"}
