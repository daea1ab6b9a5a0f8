"""The event path of this checkout against another one (e.g. main), interleaved in one run.

    .venv/bin/python -m bench.versus --base /work/wt-base [--rounds 5] [--seconds 8] [--profile c-new]

Servers, each started by its checkout's own ``bench.serve`` on core 0 (wrk and redis-server on
core 1, as in bench/ingest.py): (a) bare Starlette, then (b) in memory and (c) on Redis for the
base checkout ("-old") and for this one ("-new"); the two Redis servers use databases of one
redis-server of their own. Runs go a, b-old, b-new, c-old, c-new, a, … so a busy moment of the
machine hits every server. Printed per server: requests/s and server CPU per request
(/proc/<pid>/stat), medians over the rounds, and the ratios to (a) both ways. With
``--profile NAME``, py-spy samples that server for one more run (bench/profile.py's summary).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from bench import profile as profiler
from bench.ingest import SECRET, Plan, check_reply, write_bodies, wrk
from bench.servers import ROOT, SERVER_CORE, Group, Process, _wait_for_port, free_port, pinned, start_redis
from bench.synthetic import demo_plus_synthetic


def start(name: str, checkout: Path, work: Path, *args: str) -> Group:
    port = free_port()
    log = work / f"server-{name}.log"
    with log.open("wb") as out:
        popen = subprocess.Popen(
            pinned(SERVER_CORE, [sys.executable, "-m", "bench.serve", *args, "--port", str(port)]),
            cwd=checkout,  # its own `server` and `bench` packages come first on sys.path
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    _wait_for_port(port, popen, f"server {name}", log)
    return Group(name, [Process(name, port, popen, log)])  # what bench.ingest's wrk and checks take


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.versus")
    parser.add_argument("--base", required=True, type=Path, help="the other checkout (its .venv is not used)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--visitors", type=int, default=10_000)
    parser.add_argument("--only", default="", help="servers to run, comma-separated (default: all)")
    parser.add_argument("--profile", default="", help="a server to sample with py-spy after the rounds")
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "results" / "versus")
    args = parser.parse_args()
    plan = Plan(visitors=args.visitors)
    work = args.work.resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    rules = work / "rules"
    demo_plus_synthetic(rules, ROOT / "rules" / "demo", plan.synthetic_rules)
    bodies = work / "bodies.txt"
    write_bodies(bodies, plan)
    (work / "redis").mkdir()
    started: list[Process] = []
    try:
        started.append(redis := start_redis(work / "redis"))
        irasshai = ["irasshai", "--rules", str(rules), "--secret", SECRET]
        url = f"redis://127.0.0.1:{redis.port}"
        wanted = {
            "a": (ROOT, ["bare"]),
            "b-old": (args.base, irasshai),
            "b-new": (ROOT, irasshai),
            "c-old": (args.base, [*irasshai, "--redis", url + "/0"]),
            "c-new": (ROOT, [*irasshai, "--redis", url + "/1"]),
        }
        names = [name for name in wanted if not args.only or name in args.only.split(",")]
        servers = {name: start(name, wanted[name][0].resolve(), work, *wanted[name][1]) for name in names}
        started += [process for server in servers.values() for process in server.processes]
        for server in servers.values():
            check_reply(server, bodies)
            wrk(server, bodies, plan.warmup, plan.connections)
        runs: dict[str, list[dict]] = {name: [] for name in servers}
        for round_number in range(args.rounds):
            for name, server in servers.items():
                runs[name].append(result := wrk(server, bodies, args.seconds, plan.connections))
                print(
                    f"round {round_number + 1} {name}: {result['rps']:,.0f} req/s, {result['cpu_us']:.0f} µs CPU/request,"
                    f" busy {result['busy']:.0%}",
                    flush=True,
                )
        summary = {
            name: {
                "rps": statistics.median(r["rps"] for r in found),
                "cpu_us": statistics.median(r["cpu_us"] for r in found),
                "rps_all": [round(r["rps"]) for r in found],
                "cpu_us_all": [round(r["cpu_us"], 1) for r in found],
            }
            for name, found in runs.items()
        }
        for name, figures in summary.items():
            line = f"{name}: median {figures['rps']:,.0f} req/s, {figures['cpu_us']:.0f} µs CPU/request"
            if "a" in summary and name != "a":
                line += (
                    f"; /(a): {figures['rps'] / summary['a']['rps']:.3f} by req/s,"
                    f" {summary['a']['cpu_us'] / figures['cpu_us']:.3f} by CPU"
                )
            print(line)
        if args.profile:
            server = servers[args.profile]
            found = profiler.profile(server, lambda seconds: wrk(server, bodies, seconds, plan.connections), work, 10)
            summary["profile"] = {args.profile: found}
            for part, share in found.get("parts", []):
                print(f"  {share:6.1%}  {part}")
            for frame, share in found.get("top", []):
                print(f"  {share:6.1%}  {frame}")
        (work / "results.json").write_text(json.dumps(summary, indent=1, default=str))
    finally:
        for process in reversed(started):
            process.stop()


if __name__ == "__main__":
    main()
