"""Every refusal and failure of the HTTP endpoints, answered once, here.

Endpoints raise; these handlers turn what they raise into one-line JSON errors: a
:class:`Refusal` (any 4xx an endpoint decides on), a bad batch (naming the event at fault, so
the widget drops only that one), a rate limit (429 with Retry-After), an unreachable store
(503 with Retry-After, logged once per outage rather than once per request) and a bug (500,
logged with its traceback). Each is counted here for /metrics, by endpoint, reason and status
(server/metrics.py). An endpoint that has checked a request's origin puts the CORS
headers in the request's scope under :data:`CORS`, and every answer to that request carries them, a 500
included, so the widget can read it.
"""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from server import metrics
from server.chat.model import ChatError
from server.events import BadBatch
from server.oneline import one_line
from server.ratelimits import RateLimited
from server.store.base import StoreUnavailable
from server.web.replies import error_reply, json_reply
from server.web.request_ids import current
from server.web.services import services

log = logging.getLogger("irasshai.web")

CORS = "irasshai.cors"  # the scope key of an origin-checked request's CORS headers
STORE_RETRY_AFTER = "5"
# What an endpoint could not do when the store is unreachable, by endpoint (function) name.
NOT_DONE = {
    "post_events": "events not stored",
    "redeem": "coupon not redeemed",
    "get_stats": "stats not read",
    "get_rule_stats": "stats not read",
    "get_overview_stats": "stats not read",
    "post_chat": "chat not updated",
    "get_stream": "stream not opened",
    "post_webhook": "LINE events not stored",
    "post_link": "LINE link not started",
    "visitor_data": "visitor's data not read or deleted",
    "customer_data": "customer's data not read or deleted",
    "forget": "visitor's data not deleted",
}


class Refusal(Exception):
    """A request an endpoint refuses: `str(error)` is the one line for the caller."""

    def __init__(self, message: str, status: int, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


def _cors(request: Request) -> dict[str, str]:
    return request.scope.get(CORS) or {}


def _count(request: Request, reason: str, status: int) -> None:
    metrics.refused(getattr(request.scope.get("endpoint"), "__name__", "none"), reason, status)


async def refused(request: Request, error: Refusal) -> Response:
    _count(request, "refused", error.status)
    return error_reply(str(error), error.status, {**_cors(request), **error.headers})


async def bad_batch(request: Request, error: BadBatch) -> Response:
    _count(request, "bad_batch", error.status)
    if error.event is None:
        return error_reply(str(error), error.status, _cors(request))
    # Which event caused it (index and id): the widget drops only that one and sends the others again.
    return json_reply(
        {"error": one_line(str(error)), "event": error.event, "id": error.event_id}, error.status, _cors(request)
    )


async def chat_refused(request: Request, error: ChatError) -> Response:
    _count(request, "chat", error.status)
    return error_reply(str(error), error.status, _cors(request))


async def rate_limited(request: Request, error: RateLimited) -> Response:
    _count(request, "rate_limited", 429)
    metrics.RATE_LIMITED.labels(error.limit).inc()
    services(request).repeating.warning("%s %s refused: %s", request.method, request.url.path, error)
    return error_reply(str(error), 429, {**_cors(request), "retry-after": str(error.retry_after)})


async def store_unavailable(request: Request, error: StoreUnavailable) -> Response:
    _count(request, "store_unavailable", 503)
    endpoint = request.scope.get("endpoint")
    not_done = NOT_DONE.get(getattr(endpoint, "__name__", ""), "request not served")
    site = request.path_params.get("site", "")
    services(request).repeating.warning("%s%s: %s", f"site {site}: " if site else "", not_done, error)
    return error_reply(
        f"{not_done}: the store is unavailable; retry later", 503, {**_cors(request), "retry-after": STORE_RETRY_AFTER}
    )


async def http_error(request: Request, error: HTTPException) -> Response:
    _count(request, "http", error.status_code)
    return error_reply(error.detail if isinstance(error.detail, str) else "request refused", error.status_code)


async def unexpected(request: Request, error: Exception) -> Response:
    _count(request, "error", 500)
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    # Answered outside the middleware that adds the request id: added here, so the caller can quote it.
    return error_reply(
        "internal error; the server log has the details", 500, {**_cors(request), "x-request-id": current() or ""}
    )


HANDLERS = {
    Refusal: refused,
    BadBatch: bad_batch,
    ChatError: chat_refused,
    RateLimited: rate_limited,
    StoreUnavailable: store_unavailable,
    HTTPException: http_error,
    Exception: unexpected,
}
