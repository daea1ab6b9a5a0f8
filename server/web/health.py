"""GET /healthz (the process is up) and GET /readyz (the store takes a write, with its coupon pools; which rules are live).

/readyz also checks each codes file's pool in the store: one found missing (Redis lost its
data) makes that answer 503 and is loaded again from its file, so the next answer is ready;
a pool running low is listed under "coupons" without failing readiness.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response

from server.store.base import StoreUnavailable
from server.web.replies import json_reply
from server.web.services import services

PING_TIMEOUT = 2.0


async def healthz(request: Request) -> Response:
    return json_reply({"status": "ok"})


async def readyz(request: Request) -> Response:
    shared = services(request)
    live = shared.live
    rules = {"version": live.config.version, "last_error": live.last_error or None}
    try:
        await asyncio.wait_for(shared.store.ping(), PING_TIMEOUT)
        missing, low = await shared.ingest.coupons.check_pools(live.config.sites)
    except StoreUnavailable as error:
        return json_reply({"status": "unavailable", "reason": str(error), "rules": rules}, 503)
    except TimeoutError:
        return json_reply(
            {"status": "unavailable", "reason": f"store did not answer within {PING_TIMEOUT:g}s", "rules": rules}, 503
        )
    coupons = {"not_loaded": missing, "low": low}
    if missing:
        return json_reply(
            {
                "status": "unavailable",
                "rules": rules,
                "coupons": coupons,
                "reason": f"coupon pools were not in the store (did Redis lose its data?): "
                f"{', '.join(missing)}; their codes files are loaded again",
            },
            503,
        )
    return json_reply({"status": "ready", "rules": rules, "coupons": coupons})
