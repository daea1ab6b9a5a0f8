"""Redis faults under load, the figures of docs/reliability.md#faults:

    .venv/bin/python -m bench.faults [--outage 3] [--timeout 2] [--visitors 8] [--chats 2] [FAULT ...]

For each fault (kill, shutdown, sleep, pause, pause-write; all by default): a private redis-server
(append-only, fsync always), an ``irasshai serve`` process on it, visitors posting events and
chatting while an operator answers; then the fault for about `--outage` seconds; then load until
the server has recovered by itself. Printed per fault: requests started during the outage by
status, 500s, 503s missing Retry-After or CORS headers, the slowest request, seconds from Redis
back to the first stored batch and to /readyz 200, and events acknowledged, found in Redis, and
lost.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.outage import Figures, RedisProcess, free_port, run_fault

ROOT = Path(__file__).resolve().parent.parent
FAULTS = ("kill", "shutdown", "sleep", "pause", "pause-write")
SECRET_KEY = "bench-faults-secret-key-0123456789"
SITE_SECRET = "bench-faults-operator-0123456789"
SITE_YAML = "origins: [https://shop.example]\ntimezone: Asia/Tokyo\nlanguage: ja\n"


def serve(rules: Path, redis_url: str, timeout: float, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IRASSHAI_")}
    env |= {
        "IRASSHAI_SECRET_KEY": SECRET_KEY,
        "IRASSHAI_SITE_SECRETS": f"shop={SITE_SECRET}",
        "IRASSHAI_REDIS_TIMEOUT": str(timeout),
        "IRASSHAI_CHAT_MESSAGES_PER_MINUTE": "0",
        "IRASSHAI_EVENTS_PER_ADDRESS_PER_MINUTE": "0",
        "IRASSHAI_EVENTS_PER_VISITOR_PER_MINUTE": "0",
        "IRASSHAI_NEW_VISITORS_PER_MINUTE": "0",
    }
    command = [
        sys.executable,
        "-m",
        "server",
        "serve",
        "--rules",
        str(rules),
        "--port",
        str(port),
        "--redis",
        redis_url,
    ]
    with open(log, "wb") as output:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=2).close()
            return process, base
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError(f"irasshai serve did not start; see {log}") from None
            time.sleep(0.05)


def measure(fault: str, outage: float, timeout: float, visitors: int, chats: int) -> Figures:
    folder = Path(tempfile.mkdtemp(prefix="irasshai-faults-"))
    try:
        (folder / "rules" / "shop").mkdir(parents=True)
        (folder / "rules" / "shop" / "site.yaml").write_text(SITE_YAML)
        with RedisProcess(folder / "redis") as redis:
            process, base = serve(folder / "rules", redis.url, timeout, folder / "serve.log")
            try:
                return asyncio.run(
                    run_fault(
                        fault, redis, base, SECRET_KEY, outage, visitors=visitors, chats=chats, secret=SITE_SECRET
                    )
                )
            finally:
                process.terminate()
                process.wait(20)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _statuses(counts: dict[int, int]) -> str:
    return ", ".join(f"{status or 'none'}: {n}" for status, n in sorted(counts.items())) or "-"


def _seconds(value: float | None) -> str:
    return "never" if value is None else f"{value:.2f}"


def report(found: Figures) -> str:
    stored = found.stored
    lines = [
        f"{found.fault}: outage {found.outage:.1f} s",
        *(f"  {kind} during the outage: {_statuses(counts)}" for kind, counts in sorted(found.during.items())),
        f"  /readyz during the outage: {_statuses(found.readyz_during)}",
        f"  500s: {found.errors_500}; 503s without Retry-After or CORS: {found.bad_503s}; "
        f"slowest request {found.slowest:.2f} s",
        f"  recovered: first stored batch {_seconds(found.recovered)} s, /readyz 200 "
        f"{_seconds(found.ready_again)} s after Redis was back",
        f"  events acknowledged {stored.acked}, found in Redis {stored.found}, lost {stored.lost}, "
        f"stored twice {stored.counted - stored.found}, still refused at the end {stored.never_acked}",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__.split("\n\n")[0])
    parser.add_argument("faults", nargs="*", metavar="FAULT", help=f"any of {', '.join(FAULTS)} (default: all)")
    parser.add_argument("--outage", type=float, default=3.0, help="seconds of each fault (default 3)")
    parser.add_argument("--timeout", type=float, default=2.0, help="IRASSHAI_REDIS_TIMEOUT of the server (default 2)")
    parser.add_argument("--visitors", type=int, default=8, help="visitors posting events without pause (default 8)")
    parser.add_argument("--chats", type=int, default=2, help="visitors chatting with an operator (default 2)")
    args = parser.parse_args()
    for fault in args.faults:
        if fault not in FAULTS:
            parser.error(f"unknown fault {fault!r}; expected any of {', '.join(FAULTS)}")
    failed = False
    for fault in args.faults or FAULTS:
        found = measure(fault, args.outage, args.timeout, args.visitors, args.chats)
        print(report(found), flush=True)
        failed |= bool(found.errors_500 or found.bad_503s or found.stored.lost or found.recovered is None)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
