"""Operations with real `irasshai serve` processes on a real redis-server (docs/operations.md).

`serve --workers 2`: the metrics are the sum of both workers, whichever process is scraped (the
metrics port is served by the parent process, which handles no request at all), open streams
included; with `--log-format json` every line on the output is a JSON object, and the access line
of a request carries the request id its answer showed. SIGTERM: a batch in flight (its head read,
its body not yet sent) is still acknowledged and stored, while new connections are refused.
"""

from __future__ import annotations

import json
import signal
import socket
import time

import httpx2 as httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import free_port, serve_process
from tests.helpers import SHOP, batch, page_view, write_site
from tests.web.processes import serving, wait_up
from tests.web.sse import open_stream, visitor_and_ticket

pytestmark = pytest.mark.redis
TOKEN = "metrics-token-0123456789"
HEADERS = {"origin": SHOP, "content-type": "text/plain;charset=UTF-8"}


def scrape(url: str, **headers: str) -> dict[tuple, float]:
    reply = httpx.get(url, headers=headers)
    assert reply.status_code == 200, reply.text
    return {
        (sample.name, *sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(reply.text)
        for sample in family.samples
    }


def test_two_workers_are_summed_whichever_process_is_scraped_and_log_json_with_request_ids(tmp_path, redis_url):
    rules, log = tmp_path / "rules", tmp_path / "serve.log"
    write_site(rules)
    port, metrics_port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    flags = ("--port", str(port), "--workers", "2", "--log-format", "json", "--metrics-port", str(metrics_port))
    environment = {"IRASSHAI_METRICS_TOKEN": TOKEN, "IRASSHAI_NEW_VISITORS_PER_MINUTE": "0"}
    with serving(rules, redis_url, log, *flags, **environment) as process:
        wait_up(base + "/healthz", process, log)
        batches = 16
        for _ in range(batches):  # a new connection each: the two workers share them
            with httpx.Client() as client:
                reply = client.post(f"{base}/v1/sites/shop/events", content=batch(page_view("/")), headers=HEADERS)
                assert reply.status_code == 200, reply.text
        traced = httpx.get(base + "/readyz", headers={"x-request-id": "trace-4242"})
        made = httpx.get(base + "/healthz").headers["x-request-id"]

        accepted = ("irasshai_events_accepted_total", ("type", "page_view"))
        from_parent = scrape(f"http://127.0.0.1:{metrics_port}/metrics")
        from_workers = [scrape(base + "/metrics", authorization=f"Bearer {TOKEN}") for _ in range(6)]
        assert from_parent[accepted] == batches
        assert [scrape[accepted] for scrape in from_workers] == [batches] * 6

        _, ticket = visitor_and_ticket(base)
        streams = ("irasshai_open_streams", ("kind", "visitor"))
        with open_stream(base, ticket):
            assert scrape(f"http://127.0.0.1:{metrics_port}/metrics")[streams] == 1
        deadline = time.monotonic() + 10
        while scrape(f"http://127.0.0.1:{metrics_port}/metrics")[streams] != 0:
            assert time.monotonic() < deadline, "the closed stream is still counted"
            time.sleep(0.1)
        assert httpx.get(base + "/metrics").status_code == 401
        process.terminate()
        assert process.wait(30) == 0

    assert traced.headers["x-request-id"] == "trace-4242"
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]  # every line is JSON
    assert {"time", "level", "logger", "message"} <= set(lines[0])
    access = [line for line in lines if line["logger"] == "uvicorn.access"]
    assert any(line["request_id"] == "trace-4242" and line["path"] == "/readyz" for line in access)
    assert any(line["request_id"] == made and line["status"] == 200 for line in access)
    assert any(line.get("site") == "shop" for line in access)


def test_sigterm_lets_a_batch_in_flight_finish_acknowledged_and_stored(tmp_path, redis_url):
    rules, log = tmp_path / "rules", tmp_path / "serve.log"
    write_site(rules)
    port = free_port()
    body = batch(page_view("/in-flight"))
    event = json.loads(body)["events"][0]["id"]
    with serving(rules, redis_url, log, "--port", str(port)) as process:
        wait_up(f"http://127.0.0.1:{port}/healthz", process, log)
        connection = socket.create_connection(("127.0.0.1", port), timeout=10)
        head = (
            f"POST /v1/sites/shop/events HTTP/1.1\r\nhost: 127.0.0.1\r\norigin: {SHOP}\r\n"
            f"content-type: text/plain\r\ncontent-length: {len(body)}\r\nexpect: 100-continue\r\n\r\n"
        )
        connection.sendall(head.encode())
        # The endpoint has started reading the body when the server says "go on".
        assert connection.recv(100).startswith(b"HTTP/1.1 100 Continue")
        process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        while True:  # stopping: no new connection is accepted
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            except OSError:
                break
            assert time.monotonic() < deadline, "the stopping server still accepts connections"
            time.sleep(0.05)
        connection.sendall(body)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
        connection.close()
        # uvicorn ends by raising the signal again, as a service manager expects of a clean stop.
        assert process.wait(30) in (0, -signal.SIGTERM), log.read_text()[-2000:]
    status, _, rest = answer.partition(b"\r\n")
    assert status == b"HTTP/1.1 200 OK", answer
    reply = json.loads(rest.partition(b"\r\n\r\n")[2])
    assert reply["acked"] == [event]

    # Stored: another server sees it as already there.
    with serve_process(rules, redis_url) as other:
        again = httpx.post(
            f"{other}/v1/sites/shop/events",
            content=batch(*json.loads(body)["events"], visitor=reply["visitor"]),
            headers=HEADERS,
        )
    assert again.status_code == 200 and again.json()["duplicates"] == 1
