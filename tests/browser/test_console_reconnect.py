"""The console's live channel across a stopping server process, in Chromium (docs/operations.md, Stopping).

Contract: under `serve --workers 2`, each worker in turn is stopped (SIGTERM, as a rolling
restart does; uvicorn starts a new one in its place). The inbox's stream, wherever it was,
ends with `bye` and reconnects to a running process within seconds (with the Last-Event-ID it
got, which is "0" while the feed is empty); the page never shows its "offline" notice meanwhile,
and a visitor's message sent after both restarts appears live.
"""

from __future__ import annotations

import os
import signal
import time

import httpx2 as httpx
import pytest
from playwright.sync_api import expect
from prometheus_client.parser import text_string_to_metric_families

from tests.browser.console import add_operator, sign_in
from tests.conftest import free_port
from tests.helpers import write_site
from tests.web.processes import serving, wait_up, workers
from tests.web.sse import say, visitor_and_ticket

pytestmark = [pytest.mark.browser, pytest.mark.redis]

# Whether the offline notice was ever shown, from the moment the page runs this.
WATCH_OFFLINE = """() => {
  const notice = document.getElementById("inbox-offline");
  window.offlineShown = !notice.hidden;
  new MutationObserver(() => { if (!notice.hidden) window.offlineShown = true; })
    .observe(notice, { attributes: true });
}"""


def operator_streams(metrics: str) -> float:
    for family in text_string_to_metric_families(httpx.get(metrics).text):
        for sample in family.samples:
            if sample.name == "irasshai_open_streams" and sample.labels == {"kind": "operator"}:
                return sample.value
    return 0.0


def until(check, what: str, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_the_inbox_reconnects_to_another_process_without_showing_offline(browser, tmp_path, redis_url):
    rules, log = tmp_path / "rules", tmp_path / "serve.log"
    write_site(rules)
    add_operator(redis_url, "shop", "aya@example.com", "correct horse", name="綾", language="ja")
    port, metrics_port = free_port(), free_port()
    base, metrics = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{metrics_port}/metrics"
    flags = ("--port", str(port), "--workers", "2", "--metrics-port", str(metrics_port))
    with serving(rules, redis_url, log, *flags) as process:
        wait_up(base + "/healthz", process, log)
        context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ja-JP")
        page = context.new_page()
        sign_in(page, base, "aya@example.com", "correct horse")
        page.wait_for_url(base + "/console/sites/shop")
        page.evaluate(WATCH_OFFLINE)
        until(lambda: operator_streams(metrics) == 1, "the inbox's stream is open")

        for worker in sorted(workers(process)):
            os.kill(worker, signal.SIGTERM)
            until(lambda w=worker: w not in workers(process) and len(workers(process)) == 2, "a new worker")
            until(lambda: operator_streams(metrics) == 1, "the inbox's stream is open again")

        token, _ = visitor_and_ticket(base)
        say(base, token, "まだ在庫はありますか？", "client-0001")
        expect(page.locator('[data-group="waiting"] .inbox-item')).to_have_count(1, timeout=10_000)
        assert page.evaluate("window.offlineShown") is False
        context.close()
