"""Request ids (server/web/request_ids.py) and the JSON log lines that carry them (server/logs.py).

Every answer has an X-Request-Id: the caller's own when it is sane, else one made here, different
for each request. A line logged while a request is handled carries that id and the site of the
path, so the line and the answer can be matched; a line logged outside a request carries none.
"""

from __future__ import annotations

import json
import logging

import pytest
from starlette.testclient import TestClient

from server.logs import JsonFormatter
from tests.helpers import batch, make_app, page_view, post, write_site


class Lines(logging.Handler):
    """Formats each record as it is emitted (while the request's context is current)."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def lines():
    handler = Lines()
    logger = logging.getLogger("irasshai")
    logger.addHandler(handler)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)


def test_a_sane_request_id_is_echoed_and_an_insane_one_replaced(tmp_path):
    write_site(tmp_path)
    with TestClient(make_app(tmp_path)) as client:
        kept = client.get("/healthz", headers={"x-request-id": "lb-7f3a:42"})
        made = [client.get("/healthz").headers["x-request-id"] for _ in range(2)]
        for insane in ("a" * 65, "has space", "<script>", ""):
            replaced = client.get("/healthz", headers={"x-request-id": insane}).headers["x-request-id"]
            assert replaced != insane and replaced
        refused = post(client, batch(page_view("/")), origin="https://elsewhere.example", **{"x-request-id": "r-1"})
    assert kept.headers["x-request-id"] == "lb-7f3a:42"
    assert made[0] != made[1]
    assert refused.status_code == 403 and refused.headers["x-request-id"] == "r-1"


def test_a_line_logged_while_handling_a_request_carries_its_id_and_site(tmp_path, lines):
    write_site(tmp_path)
    with TestClient(make_app(tmp_path, new_visitors_per_minute=1)) as client:
        post(client, batch(page_view("/")))
        refused = post(client, batch(page_view("/")))  # over the limit: logged as a warning
    assert refused.status_code == 429
    logged = [json.loads(line) for line in lines]
    warning = next(line for line in logged if "refused" in line["message"])
    assert warning["request_id"] == refused.headers["x-request-id"]
    assert warning["site"] == "shop"
    assert warning["level"] == "warning" and warning["logger"] == "irasshai.web"
    assert warning["time"].endswith("Z")


def test_a_json_line_is_one_line_with_the_traceback_escaped_and_no_request_outside_one():
    formatter = JsonFormatter()
    try:
        raise ValueError("bad\nthing")
    except ValueError:
        import sys

        record = logging.LogRecord("irasshai.x", logging.ERROR, __file__, 1, "failed: %s", ("it",), sys.exc_info())
    line = formatter.format(record)
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["message"] == "failed: it"
    assert "ValueError: bad" in parsed["error"]
    assert "request_id" not in parsed and "site" not in parsed
