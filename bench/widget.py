"""Widget: what a visitor downloads, and how soon after it arrives the first event is on its way.

Sizes are those the server sends (server.web.widget.load_assets: minified, then gzip -9 and
brotli 11). Every page loads widget.js; ui.js and widget.css are fetched only when an
engagement is about to show. Each file is reported, and their total.

The time is measured in the page, in headless Chromium: from the moment widget.js finished
arriving (its PerformanceResourceTiming responseEnd) to the first fetch() to /v1/ (an init
script wraps fetch before any page script runs). Every load is a first visit: a new browser
context, so nothing is cached and localStorage is empty.
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from bench.servers import ROOT, free_port
from bench.synthetic import demo_plus_synthetic
from server.web.widget import load_assets

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGE = """<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><title>布と日々</title>
<script async src="{server}/widget.js" data-site="demo"></script></head>
<body><h1>布と日々</h1><p>オーガニックコットンのTシャツ</p></body></html>"""
FIRST_EVENT = """
window.__firstEvent = null;
const originalFetch = window.fetch;
window.fetch = function (input, options) {
  if (window.__firstEvent === null && String(input.url || input).includes('/v1/')) window.__firstEvent = performance.now();
  return originalFetch.apply(this, arguments);
};
"""
TIMINGS = """() => {
  const entry = performance.getEntriesByType('resource').find(e => e.name.endsWith('/widget.js'));
  return {responseEnd: entry.responseEnd, startTime: entry.startTime, firstEvent: window.__firstEvent};
}"""


def sizes() -> dict:
    assets = load_assets()
    rows = {name: {"raw": len(a.raw), "gzip": len(a.gzip), "brotli": len(a.brotli)} for name, a in assets.items()}
    rows["total"] = {kind: sum(row[kind] for row in rows.values()) for kind in ("raw", "gzip", "brotli")}
    return rows


@contextmanager
def _serve(app, port: int):
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"server on port {port} did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def first_event(loads: int, synthetic_rules: int) -> dict:
    """Milliseconds from widget.js's responseEnd to its first event fetch, over `loads` first visits."""
    from playwright.sync_api import sync_playwright
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    from server.app import create_app
    from server.settings import Settings

    shop_port, server_port = free_port(), free_port()
    shop_url, server_url = f"http://127.0.0.1:{shop_port}", f"http://127.0.0.1:{server_port}"
    html = PAGE.format(server=server_url)
    shop = Starlette(routes=[Route("/", lambda request: HTMLResponse(html))])
    with tempfile.TemporaryDirectory(prefix="irasshai-bench-widget-") as folder:
        demo_plus_synthetic(Path(folder), ROOT / "rules" / "demo", synthetic_rules, origin=shop_url)
        app = create_app(Settings(secret_key="bench-widget-secret-0123456789", rules_dir=folder), reload=False)
        times, downloads = [], []
        with _serve(app, server_port), _serve(shop, shop_port), sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                for _ in range(loads + 1):  # the first load warms the browser and the servers up: not counted
                    context = browser.new_context()
                    page = context.new_page()
                    page.add_init_script(FIRST_EVENT)
                    page.goto(shop_url + "/")
                    page.wait_for_function("window.__firstEvent !== null", timeout=10_000)
                    timing = page.evaluate(TIMINGS)
                    times.append(timing["firstEvent"] - timing["responseEnd"])
                    downloads.append(timing["responseEnd"] - timing["startTime"])
                    context.close()
            finally:
                browser.close()
    times, downloads = times[1:], downloads[1:]
    return {
        "loads": len(times),
        "median_ms": statistics.median(times),
        "min_ms": min(times),
        "max_ms": max(times),
        "download_median_ms": statistics.median(downloads),
    }
