"""What the operations instrumentation adds to one batch on the event path, in microseconds.

    .venv/bin/python -m bench.instrumentation [--rounds 15]

Three parts, each timed against its baseline in interleaved rounds (baseline, instrumented,
baseline, …) so a slow moment of the machine lands on both; the figure is the median over
rounds of (instrumented - baseline) per batch:

- counting: ``metrics.accepted`` for a batch of 3 events and one ``metrics.decided``;
- store timing: the event path's 3 store calls (load, save, counters) through ``TimedStore``
  over the in-memory store, against the bare in-memory store;
- request id: the ``RequestIds`` middleware around an ASGI app that answers at once, with the
  headers a browser sends, against the app alone.

Run once in the library's single-process mode, and once in a child process with
``PROMETHEUS_MULTIPROC_DIR`` set (as ``serve --workers N`` runs), where each value is written to
a memory-mapped file.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

BATCHES = 2000
HEADERS = [
    (b"host", b"irasshai.example"),
    (b"user-agent", b"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"),
    (b"accept", b"*/*"),
    (b"accept-language", b"ja-JP,ja;q=0.9"),
    (b"accept-encoding", b"gzip, deflate, br"),
    (b"content-type", b"text/plain;charset=UTF-8"),
    (b"content-length", b"412"),
    (b"origin", b"https://shop.example"),
    (b"referer", b"https://shop.example/"),
]


def per_batch(seconds: float) -> float:
    return seconds / BATCHES * 1e6


def counting() -> tuple[float, float]:
    from server import metrics
    from server.events import PageView, Signal, Track

    events = [
        PageView(id="e1", ts=1, url="https://shop.example/"),
        Track(id="e2", ts=2, name="add_to_cart"),
        Signal(id="e3", ts=3, url="https://shop.example/", signal="scroll", value=50),
    ]
    started = time.perf_counter()
    for _ in range(BATCHES):
        pass
    baseline = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(BATCHES):
        metrics.accepted(events)
        metrics.decided("shop", "sale-banner", True)
    return baseline, time.perf_counter() - started


def store_timing(loop: asyncio.AbstractEventLoop) -> tuple[float, float]:
    from server.store.memory import MemoryStore
    from server.store.timed import TimedStore

    plain = MemoryStore()
    timed = TimedStore(plain)

    async def batches(store) -> float:
        counts = {("sale-banner", "shown", "2026-12-05"): 1}
        started = time.perf_counter()
        for number in range(BATCHES):
            visitor = f"v{number % 100}"
            _, version = await store.load_visitor("shop", visitor)
            await store.save_visitor("shop", visitor, b"state", version, 3600)
            await store.add_counts("shop", counts)
        return time.perf_counter() - started

    return loop.run_until_complete(batches(plain)), loop.run_until_complete(batches(timed))


def request_ids(loop: asyncio.AbstractEventLoop) -> tuple[float, float]:
    from server.web.request_ids import RequestIds

    start = {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
    body = {"type": "http.response.body", "body": b"{}"}

    async def app(scope, receive, send):
        await send(start)
        await send(body)

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        pass

    wrapped = RequestIds(app)

    async def requests(target) -> float:
        started = time.perf_counter()
        for _ in range(BATCHES):
            scope = {"type": "http", "path": "/v1/sites/shop/events", "method": "POST", "headers": HEADERS}
            await target(scope, receive, send)
        return time.perf_counter() - started

    async def in_tasks(target) -> float:  # as uvicorn runs each request: a task of its own
        return await asyncio.get_running_loop().create_task(requests(target))

    return loop.run_until_complete(in_tasks(app)), loop.run_until_complete(in_tasks(wrapped))


def measure(rounds: int) -> dict[str, float]:
    loop = asyncio.new_event_loop()
    parts = {
        "counting": lambda: counting(),
        "store timing": lambda: store_timing(loop),
        "request id": lambda: request_ids(loop),
    }
    for part in parts.values():  # warm up: imports, first label children, first mmap pages
        part()
    added: dict[str, list[float]] = {name: [] for name in parts}
    for _ in range(rounds):
        for name, part in parts.items():
            baseline, instrumented = part()
            added[name].append(per_batch(instrumented - baseline))
    loop.close()
    result = {name: statistics.median(values) for name, values in added.items()}
    result["total"] = sum(result.values())
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.rounds)))
        return
    single = measure(args.rounds)
    with tempfile.TemporaryDirectory(prefix="irasshai-bench-metrics-") as folder:
        env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": folder}
        child = [sys.executable, "-m", "bench.instrumentation", "--child", "--rounds", str(args.rounds)]
        multi = json.loads(subprocess.run(child, env=env, check=True, capture_output=True, text=True).stdout)
    print(f"added per batch, µs (median of {args.rounds} interleaved rounds of {BATCHES} batches)")
    print(f"{'':14} {'one process':>12} {'--workers N':>12}")
    for name in single:
        print(f"{name:14} {single[name]:12.2f} {multi[name]:12.2f}")


if __name__ == "__main__":
    main()
