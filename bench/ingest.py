"""Ingest: the bare Starlette endpoint (a), Irasshai in memory (b), on Redis (c), with two server
processes on one Redis (c2), and on a Redis Cluster of three masters (d), side by side; and the
bare endpoint in two processes (a2), the control for (c2).

The servers run at once, each on core 0 and idle while another is measured; wrk (and the
redis-servers, and the cluster's three nodes) run on core 1. (c2)'s two processes share core 0
too (so do (a2)'s): wrk's two threads each load one of them (bench/load.lua's BENCH_HOSTS), and its server CPU
per request is both processes' CPU time over all their requests, which is what says whether two
processes on one Redis cost more per request than one (its requests/s cannot grow on one core).
Runs are interleaved a, a2, b, c, c2, d, a, … so a slow moment of the machine does not land on
one server only. Every request is one batch from the pre-generated bodies file: ~10,000
visitors with real signed tokens, whose event ids wrk makes unique per request (bench/load.lua).
The Redis processes' CPU time per request is read beside the servers' (/proc/<pid>/stat).
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import statistics
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench import memory, redis_cost
from bench.servers import LOAD_CORE, ROOT, Group, pinned, start_redis, start_redis_cluster, start_server
from bench.synthetic import SHOP_ORIGIN, demo_plus_synthetic
from bench.visitors import USER_AGENTS, body, journey, with_ids
from server.identity import VisitorIds

SECRET = "bench-secret-key-not-for-production-0123456789"
SITE = "demo"
EVENTS_PATH = f"/v1/sites/{SITE}/events"
SERVERS = ("a", "a2", "b", "c", "c2", "d")
FIXED_RATE = ("a", "b", "c", "c2", "d")  # (a2) is a control for CPU per request only: no fixed-rate runs
PLACEHOLDER = "@" * 14  # in every event id; bench/load.lua puts the run, thread and request number there
_runs = itertools.count(1)
_sent: dict[str, int] = {}  # server name -> requests sent so far: the next run goes on from there
LABELS = {
    "a": "(a) bare Starlette",
    "a2": "(a2) bare Starlette, 2 processes",
    "b": "(b) Irasshai, in-memory store",
    "c": "(c) Irasshai, Redis store",
    "c2": "(c2) Irasshai, Redis store, 2 server processes on one Redis",
    "d": "(d) Irasshai, Redis Cluster store (3 masters)",
}


@dataclass(frozen=True)
class Plan:
    visitors: int = 10_000
    steps: int = 4  # batches per visitor in the bodies file
    synthetic_rules: int = 100
    connections: int = 32
    warmup: int = 3  # seconds, per server, not measured
    seconds: int = 8  # per measured run
    rounds: int = 5  # saturation rounds (a, b, c each)
    fixed_rounds: int = 3


def write_bodies(path: Path, plan: Plan) -> dict:
    """The bodies file (see bench/load.lua): every visitor's step 1, then every visitor's step 2, …"""
    ids = VisitorIds(SECRET)
    start_ms = int((time.time() - 3600) * 1000)  # an hour ago: well inside the 24 h the server accepts
    visitors = [journey(number, plan.steps) for number in range(plan.visitors)]
    tokens = [ids.issue(SITE, seed=f"bench-visitor-{v.number}")[1] for v in visitors]
    events = 0
    with path.open("w", encoding="utf-8") as out:
        for agent in USER_AGENTS:
            out.write(f"ua\t{agent}\n")
        out.write(f"visitors\t{plan.visitors}\n")
        for step in range(plan.steps):
            for visitor, token in zip(visitors, tokens, strict=True):
                batch = with_ids(
                    visitor.batches[step],
                    f"v{visitor.number}s{step}",
                    start_ms + step * 45_000 + visitor.number,
                    PLACEHOLDER,
                )
                events += len(batch)
                out.write(f"{visitor.user_agent}\t{body(token, visitor.language, batch)}\n")
    bodies = plan.visitors * plan.steps
    return {
        "bodies": bodies,
        "visitors": plan.visitors,
        "events_per_request": events / bodies,
        "bytes": path.stat().st_size,
    }


def wrk(server: Group, bodies: Path, seconds: int, connections: int, rate: float = 0.0) -> dict:
    """One wrk run against `server` (at `rate` requests/s, or as fast as it goes), one wrk thread
    per server process; wrk's JSON summary plus requests/s, latencies in ms and CPU µs per request
    of the server processes and of their Redis."""
    threads = len(server.processes)
    env = {
        **os.environ,
        "BENCH_BODIES": str(bodies),
        "BENCH_PATH": EVENTS_PATH,
        "BENCH_ORIGIN": SHOP_ORIGIN,
        "BENCH_RATE": f"{rate / threads:.3f}",  # per wrk thread
        "BENCH_THREADS": str(threads),
        "BENCH_HOSTS": server.hosts,
        "BENCH_RUN": str(next(_runs) % 65536),
        "BENCH_START": str(_sent.get(server.name, 0)),
    }
    command = pinned(
        LOAD_CORE,
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(ROOT / "bench" / "load.lua"),
            server.url + EVENTS_PATH,
        ],
    )
    commands_before = server.store_commands()
    cpu_before, store_before = server.cpu_seconds(), server.store_cpu_seconds()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 60)
    cpu, store_after = server.cpu_seconds() - cpu_before, server.store_cpu_seconds()
    nodes = [(after - before) * 1e6 for before, after in zip(store_before, store_after, strict=True)]
    commands = server.store_commands() - commands_before
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    result = json.loads(lines[-1])
    _sent[server.name] = _sent.get(server.name, 0) + result["requests"]
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["p50_ms"], result["p99_ms"] = result["p50_us"] / 1000, result["p99_us"] / 1000
    # The server's own CPU time per request: unlike requests/s, other work on the machine barely moves it.
    result["cpu_us"] = cpu * 1e6 / max(result["requests"], 1)
    # redis-server's CPU per request, all nodes together (0 without Redis), and each node's
    result["store_cpu_us_nodes"] = [used / max(result["requests"], 1) for used in nodes]
    result["store_cpu_us"] = sum(result["store_cpu_us_nodes"])
    # Redis commands per request (a compare-and-set that lost to another process adds a read and a retry).
    result["store_commands"] = commands / max(result["requests"], 1)
    result["busy"] = cpu / (result["duration_us"] / 1e6)
    result["bad"] = sum(result["errors"].values())
    if result["duplicates"]:
        # Every request carries new event ids: a duplicate means the benchmark, not the server, is wrong.
        raise RuntimeError(
            f"server {server.name} saw {result['duplicates']} batches as duplicates; the numbers would mean nothing"
        )
    return result


def check_reply(server: Group, bodies: Path) -> None:
    """One batch by hand to each process: it must accept it (200, events acknowledged), or the numbers mean nothing."""
    for process in server.processes:
        _check_reply(server.name, process.url, bodies)


def _check_reply(name: str, url: str, bodies: Path) -> None:
    with bodies.open(encoding="utf-8") as lines:
        line = next(line for line in lines if not line.startswith(("ua\t", "visitors\t")))
    agent, text = line.rstrip("\n").split("\t", 1)
    text = text.replace(PLACEHOLDER, "check".ljust(len(PLACEHOLDER), "0"))
    request = urllib.request.Request(
        url + EVENTS_PATH,
        data=text.encode(),
        headers={
            "Origin": SHOP_ORIGIN,
            "Content-Type": "text/plain;charset=UTF-8",
            "User-Agent": USER_AGENTS[int(agent)],
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        reply = json.loads(response.read())
    if not name.startswith("a") and not reply.get("acked"):
        raise RuntimeError(f"server {name} did not acknowledge a batch: {reply}")


def _median(runs: list[dict], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def run(plan: Plan, work: Path, say, profile=None) -> dict:
    """Every ingest measurement; `profile(process, load)` is called for b and c when given."""
    work = work.resolve()
    rules_dir = work / "rules"
    shutil.rmtree(rules_dir, ignore_errors=True)
    demo_plus_synthetic(rules_dir, ROOT / "rules" / "demo", plan.synthetic_rules)
    bodies = work / "bodies.txt"
    workload = write_bodies(bodies, plan)
    say(
        f"ingest: {workload['bodies']} bodies from {plan.visitors} visitors, "
        f"{workload['events_per_request']:.2f} events per request"
    )
    redis_dir = work / "redis"
    shutil.rmtree(redis_dir, ignore_errors=True)
    redis_dir.mkdir()
    started: list = []
    irasshai = ("irasshai", work, "--rules", str(rules_dir), "--secret", SECRET)
    try:
        started.append(redis := start_redis(redis_dir))
        redis_url = f"redis://127.0.0.1:{redis.port}/0"
        # (c2)'s own redis-server, so that (c)'s keys, memory and CPU time are (c)'s alone.
        started.append(redis_two := start_redis(redis_dir, "redis-c2"))
        cluster_url, cluster_nodes = start_redis_cluster(redis_dir)
        started.extend(cluster_nodes)
        servers = {"a": Group("a", [start_server("a", "bare", work)])}
        started.append(servers["a"])
        # (a2): what two processes sharing core 0 cost per request with no store at all, beside (c2).
        servers["a2"] = Group("a2", [start_server(f"a2-{number}", "bare", work) for number in (1, 2)])
        started.append(servers["a2"])
        servers["b"] = Group("b", [start_server("b", *irasshai)])
        started.append(servers["b"])
        servers["c"] = Group("c", [start_server("c", *irasshai, "--redis", redis_url)], [redis])
        started.append(servers["c"])
        two_url = f"redis://127.0.0.1:{redis_two.port}/0"
        servers["c2"] = Group("c2", [], [redis_two])
        started.append(servers["c2"])
        for number in (1, 2):
            servers["c2"].processes.append(start_server(f"c2-{number}", *irasshai, "--redis", two_url))
        servers["d"] = Group("d", [start_server("d", *irasshai, "--redis", cluster_url)], cluster_nodes)
        started.append(servers["d"])
        for server in servers.values():
            check_reply(server, bodies)
        rss_before = memory.rss_bytes(servers["b"].pid)
        redis_before, _ = memory.redis_memory(redis_url)
        for name in SERVERS if plan.warmup else ():
            wrk(servers[name], bodies, plan.warmup, plan.connections)
        saturation: dict[str, list[dict]] = {name: [] for name in SERVERS}
        for round_number in range(plan.rounds):
            for name in SERVERS:
                saturation[name].append(result := wrk(servers[name], bodies, plan.seconds, plan.connections))
                say(
                    f"  saturation round {round_number + 1} {name}: {result['rps']:,.0f} req/s, "
                    f"p50 {result['p50_ms']:.2f} ms, p99 {result['p99_ms']:.2f} ms"
                )
        target = _median(saturation["a"], "rps") / 2
        fixed: dict[str, list[dict]] = {name: [] for name in SERVERS}
        for round_number in range(plan.fixed_rounds):
            for name in FIXED_RATE:
                fixed[name].append(result := wrk(servers[name], bodies, plan.seconds, plan.connections, target))
                say(
                    f"  fixed rate round {round_number + 1} {name}: {result['rps']:,.0f} of {target:,.0f} req/s, "
                    f"p50 {result['p50_ms']:.2f} ms, p99 {result['p99_ms']:.2f} ms"
                )
        # wrk walks the bodies file in order and its first `visitors` lines are one per visitor.
        requests_b = sum(r["requests"] for r in saturation["b"] + fixed["b"])
        rss = memory.Growth(rss_before, memory.rss_bytes(servers["b"].pid), min(plan.visitors, requests_b))
        redis_after, _ = memory.redis_memory(redis_url)
        redis_growth = memory.Growth(redis_before, redis_after, memory.redis_visitor_keys(redis_url))
        store_cost = redis_cost.measure(redis_url, redis.port, 6400 if plan.rounds > 1 else 640)
        profiles = {}
        if profile is not None:
            for name in ("b", "c"):
                profiles[name] = profile(
                    servers[name], lambda seconds, s=servers[name]: wrk(s, bodies, seconds, plan.connections)
                )
    finally:
        for process in reversed(started):
            process.stop()
    result = {
        "workload": workload,
        "plan": plan.__dict__,
        "target_rps": target,
        "servers": {},
        "profiles": profiles,
        "memory": {"rss": rss.as_dict(), "redis": redis_growth.as_dict()},
        "redis_cost": store_cost,
    }
    for name in SERVERS:
        runs, slow = saturation[name], fixed[name]
        result["servers"][name] = {
            "label": LABELS[name],
            "processes": len(servers[name].processes),
            "store_cpu_us": _median(runs, "store_cpu_us"),
            "store_commands": _median(runs, "store_commands"),
            "store_cpu_us_nodes": [
                statistics.median(r["store_cpu_us_nodes"][node] for r in runs)
                for node in range(len(servers[name].stores))
            ],
            "rps": _median(runs, "rps"),
            "eps": _median(runs, "rps") * workload["events_per_request"],
            "p50_ms": _median(runs, "p50_ms"),
            "p99_ms": _median(runs, "p99_ms"),
            "rps_min": min(r["rps"] for r in runs),
            "rps_max": max(r["rps"] for r in runs),
            "cpu_us": _median(runs, "cpu_us"),
            "busy": _median(runs, "busy"),
            **(
                {
                    "fixed_rps": _median(slow, "rps"),
                    "fixed_p50_ms": _median(slow, "p50_ms"),
                    "fixed_p99_ms": _median(slow, "p99_ms"),
                }
                if slow
                else {}
            ),
            "errors": sum(r["bad"] for r in runs + slow),
            "requests": sum(r["requests"] for r in runs + slow),
            "runs": {"saturation": runs, "fixed": slow},
        }
    return result
