"""GET /healthz (the process is up) and GET /readyz (the store answers; which rules are live)."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response

from server.store.base import StoreUnavailable
from server.web.replies import json_reply

PING_TIMEOUT = 2.0


async def healthz(request: Request) -> Response:
    return json_reply({"status": "ok"})


async def readyz(request: Request) -> Response:
    live = request.app.state.live
    rules = {"version": live.config.version, "last_error": live.last_error or None}
    try:
        await asyncio.wait_for(request.app.state.store.ping(), PING_TIMEOUT)
    except StoreUnavailable as error:
        return json_reply({"status": "unavailable", "reason": str(error), "rules": rules}, 503)
    except TimeoutError:
        return json_reply({"status": "unavailable", "reason": f"store did not answer within {PING_TIMEOUT:g}s",
                           "rules": rules}, 503)
    return json_reply({"status": "ready", "rules": rules})
