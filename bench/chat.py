"""Live chat: how many streams one server process holds, and how fast an operator's message arrives.

Two measurements, each against Irasshai on a private redis-server (`--save "" --appendonly no`):

- **Held streams.** One server process (core 0); the load generator (bench/chat_load.py, its
  own process on core 1) opens `streams` SSE streams and holds them. Memory per stream =
  (the server's VmRSS holding them − its VmRSS idle after a warm-up of a few streams) / streams.
  While they are held, the server's CPU time is read too: heartbeats are its only work then.
- **Delivery latency.** Two server processes on one Redis: the load generator connects each
  visitor's stream to process B and posts the operator's messages to process A at a paced
  rate, spread over the conversations; a message reaches B through Redis (the feed, and the
  wake-up over pub/sub). Time = arrival in the client − the POST's send time.

The limit on open files is raised here (bench process, servers and load generator inherit
it), never in the product. The tickets for the held streams are signed by the load generator
with the server's secret through server/chat/tickets.py, as the server itself signs them:
10,000 events requests would only slow the set-up. The latency run's visitors get theirs
the product's way, from `POST /chat` (open).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.servers import LOAD_CORE, ROOT, SERVER_CORE, Process, open_files_limit, pinned, start_redis, start_server
from bench.synthetic import demo_plus_synthetic

SECRET = "bench-secret-key-not-for-production-0123456789"
SITE_SECRET = "bench-site-secret-0123456789"
WARMUP_STREAMS = 100
SPARE_FILES = 200  # descriptors kept for the process's own files, Redis connections and the like


@dataclass(frozen=True)
class ChatPlan:
    streams: int = 10_000
    hold_seconds: float = 10.0  # streams held, while the server's CPU time is read
    visitors: int = 1_000  # streams connected to process B, one conversation each
    rate: float = 1_000.0  # operator messages per second, posted to process A
    seconds: float = 10.0
    connections: int = 64  # the operator's keep-alive connections to process A
    stream_core: str = SERVER_CORE  # where process B runs (A always on the server core)


def rss(pid: int) -> int:
    """Resident memory of a process in bytes (VmRSS in /proc/<pid>/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def _load(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        pinned(LOAD_CORE, [sys.executable, "-m", "bench.chat_load", *args]),
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def _line(load: subprocess.Popen, what: str) -> dict:
    line = load.stdout.readline()
    if not line:
        load.wait(10)
        raise RuntimeError(f"the load generator ({what}) exited with {load.returncode} without a result")
    return json.loads(line)


def _hold(server: Process, streams: int) -> tuple[dict, subprocess.Popen]:
    load = _load("hold", "--port", str(server.port), "--secret", SECRET, "--streams", str(streams))
    return _line(load, "hold"), load


def _release(load: subprocess.Popen) -> dict:
    load.stdin.write("\n")
    load.stdin.flush()
    found = _line(load, "release")
    load.wait(30)
    return found


def held_streams(plan: ChatPlan, redis_url: str, rules: Path, work: Path, say) -> dict:
    server = start_server(
        "chat-held", "irasshai", work, "--rules", str(rules), "--secret", SECRET, "--redis", redis_url
    )
    try:
        warm, load = _hold(server, WARMUP_STREAMS)  # first streams import and allocate what every one needs
        _release(load)
        time.sleep(1.0)
        idle = rss(server.pid)
        say(f"chat: opening {plan.streams:,} streams to one server process")
        opened, load = _hold(server, plan.streams)
        time.sleep(2.0)  # every stream past its first read of the feed, waiting
        cpu_before, held_at = server.cpu_seconds(), time.monotonic()
        time.sleep(plan.hold_seconds)
        holding = rss(server.pid)
        cpu_share = (server.cpu_seconds() - cpu_before) / (time.monotonic() - held_at)
        released = _release(load)
        time.sleep(1.0)
        after = rss(server.pid)
    finally:
        server.stop()
    return {
        "asked": plan.streams,
        "open": opened["open"],
        "failed": opened["failed"],
        "connect_seconds": opened["seconds"],
        "still_open": released["still_open"],
        "rss_idle": idle,
        "rss_holding": holding,
        "rss_after": after,
        "per_stream": (holding - idle) / max(opened["open"], 1),
        "held_seconds": plan.hold_seconds,
        "cpu_share_holding": cpu_share,
        "warmup": warm["open"],
    }


def latency(plan: ChatPlan, redis_url: str, rules: Path, work: Path, say) -> dict:
    common = ("--rules", str(rules), "--secret", SECRET, "--redis", redis_url, "--site-secrets", f"demo={SITE_SECRET}")
    posts = start_server("chat-a", "irasshai", work, *common)
    streams = start_server("chat-b", "irasshai", work, *common, core=plan.stream_core)
    try:
        say(f"chat: {plan.rate:,.0f} operator messages/s for {plan.seconds:.0f} s to {plan.visitors:,} visitors")
        load = _load(
            "latency",
            *("--post-port", str(posts.port), "--stream-port", str(streams.port)),
            *("--secret", SECRET, "--site-secret", SITE_SECRET),
            *("--visitors", str(plan.visitors), "--rate", str(plan.rate), "--seconds", str(plan.seconds)),
            *("--connections", str(plan.connections)),
        )
        found = _line(load, "latency set-up")
        if "error" in found:
            raise RuntimeError(f"latency run: {found['error']}")
        cpu = {p.name: p.cpu_seconds() for p in (posts, streams)}
        _line(load, "latency posting")
        used = {p.name: p.cpu_seconds() - cpu[p.name] for p in (posts, streams)}
        found = _line(load, "latency")
        load.wait(30)
    finally:
        posts.stop()
        streams.stop()
    found["cpu_us_per_message"] = {name: seconds * 1e6 / max(found["messages"], 1) for name, seconds in used.items()}
    return found


def run(plan: ChatPlan, work: Path, say) -> dict:
    limit = open_files_limit()
    if limit < plan.streams + SPARE_FILES:
        say(f"chat: the hard limit on open files is {limit:,}; holding {limit - SPARE_FILES:,} streams instead")
        plan = ChatPlan(**{**asdict(plan), "streams": limit - SPARE_FILES})
    rules_dir = work / "chat-rules"
    shutil.rmtree(rules_dir, ignore_errors=True)
    demo_plus_synthetic(rules_dir, ROOT / "rules" / "demo", 0)
    redis = start_redis(work)
    try:
        redis_url = f"redis://127.0.0.1:{redis.port}/0"
        held = held_streams(plan, redis_url, rules_dir, work, say)
        delivered = latency(plan, redis_url, rules_dir, work, say)
    finally:
        redis.stop()
    return {"plan": asdict(plan), "file_limit": limit, "held": held, "latency": delivered}


def main(argv: list[str] | None = None) -> None:
    """`python -m bench.chat [--streams N] [--rate R] …`: this benchmark alone, its results as JSON."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.chat", description=__doc__.splitlines()[0])
    for field, default in asdict(ChatPlan()).items():
        parser.add_argument("--" + field.replace("_", "-"), type=type(default), default=default)
    plan = ChatPlan(**vars(parser.parse_args(argv)))
    work = ROOT / "bench" / "results" / "chat"
    work.mkdir(parents=True, exist_ok=True)
    found = run(plan, work, lambda message: print(message, file=sys.stderr, flush=True))
    print(json.dumps(found, indent=1))


if __name__ == "__main__":
    main()
