"""server.web.errors: endpoints raise, one place answers.

A Refusal becomes its status and one line; a store outage names what was not done for the
endpoint that failed; every answer to a request whose origin was checked carries its CORS
headers.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from server.web import chat, coupons, errors, events, line, privacy, stats, stream
from server.web.errors import CORS, Refusal


def test_each_store_outage_phrase_names_an_endpoint_that_exists():
    endpoints = {
        function.__name__
        for function in (
            events.post_events,
            coupons.redeem,
            stats.get_stats,
            stats.get_rule_stats,
            stats.get_overview_stats,
            chat.post_chat,
            stream.get_stream,
            line.post_webhook,
            line.post_link,
            privacy.visitor_data,
            privacy.customer_data,
            privacy.forget,
        )
    }
    assert set(errors.NOT_DONE) == endpoints


def test_a_refusal_is_its_status_one_line_and_the_checked_origins_cors_headers():
    async def refuse(request):
        request.scope[CORS] = {"access-control-allow-origin": "https://shop.example"}
        raise Refusal("days has value 'x'; expected a whole number", 400, {"retry-after": "1"})

    app = Starlette(routes=[Route("/", refuse)], exception_handlers=errors.HANDLERS)
    response = TestClient(app).get("/")
    assert response.status_code == 400
    assert response.json() == {"error": "days has value 'x'; expected a whole number"}
    assert response.headers["access-control-allow-origin"] == "https://shop.example"
    assert response.headers["retry-after"] == "1"
