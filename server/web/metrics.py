"""GET /metrics: the Prometheus metrics (server/metrics.py), for a scraper that sends the token.

Not exposed by default: without IRASSHAI_METRICS_TOKEN this path answers 404, as any unknown
path does, so a server put on the internet as it is tells nobody its traffic. With the token, a
request without it, or with another, gets 401; the token is compared in constant time. The
other way to scrape, IRASSHAI_METRICS_PORT, is a listener of its own (started by server.cli),
without a token, meant for a private address (docs/operations.md, Metrics).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server import metrics
from server.constant_time import same_secret
from server.web.errors import Refusal
from server.web.services import services


async def get_metrics(request: Request) -> Response:
    token = services(request).settings.metrics_token
    if not token:
        raise Refusal("Not Found", 404)  # as any unknown path
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if not (same_secret(given.strip(), token) and scheme.lower() == "bearer"):
        raise Refusal(
            "missing or wrong metrics token; send 'Authorization: Bearer <IRASSHAI_METRICS_TOKEN>'",
            401,
            {"www-authenticate": "Bearer"},
        )
    return Response(metrics.exposition(), media_type=metrics.CONTENT_TYPE)
