"""The benchmark suite: ingest (one and two processes, one Redis and a cluster), Redis clients,
rules, live chat, widget and memory, and capacity on paper, written up as one Markdown report.

    bench/run                  the full run (about 10 minutes), written to docs/performance.md
    bench/run --quick          seconds, tiny sizes, no browser; written to bench/results/performance-quick.md
    bench/run --out FILE       write the report elsewhere
    bench/run --render bench/results/full/results.json   the report again from a run's figures, measuring nothing

Run it through bench/run, which does the set-up and pins this process to the load core.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench import chat, ingest, redis_clients, report, rules, widget
from bench.profile import profile
from bench.servers import ROOT

RESULTS = ROOT / "bench" / "results"
FULL = {
    "plan": ingest.Plan(),
    "rule_sizes": (10, 100, 1000),
    "rule_visitors": 300,
    "calls": 20_000,
    "peer_seconds": 6.0,
    "loads": 20,
    "profile_seconds": 8,
    "clients": (3, 1500),  # rounds, requests per client per round
    "chat": chat.ChatPlan(),
}
QUICK = {
    "plan": ingest.Plan(visitors=300, steps=2, connections=8, warmup=0, seconds=1, rounds=1, fixed_rounds=1),
    "rule_sizes": (10, 100),
    "rule_visitors": 20,
    "calls": 300,
    "peer_seconds": 0.1,
    "loads": 0,
    "profile_seconds": 0,
    "clients": (1, 128),
    "chat": chat.ChatPlan(streams=200, hold_seconds=1, visitors=50, rate=200, seconds=1),
}


def say(message: str) -> None:
    print(message, flush=True)


def _first_line(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except OSError:
        return "?"
    return (done.stdout or done.stderr).strip().splitlines()[0] if (done.stdout or done.stderr).strip() else "?"


def machine(command: str) -> dict:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "?",
    )
    memory = next(
        line.split(":", 1)[1].strip()
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    import redis
    import starlette
    import uvicorn

    software = (
        f"Python {platform.python_version()}, uvicorn {uvicorn.__version__}, Starlette {starlette.__version__}, "
        f"redis-py {redis.__version__}, {_first_line(['redis-server', '--version']).split(' sha=')[0]}, "
        f"{_first_line(['wrk', '--version']).split(' [')[0]}, Linux {platform.release()}"
    )
    commit = _first_line(["git", "-C", str(ROOT), "log", "-1", "--format=%h %s"])
    commit = commit if len(commit) <= 90 else commit[:88].rsplit(" ", 1)[0] + " …"
    changed = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--", "server", "widget_js", "rules"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    code = commit + (" + uncommitted changes to server/, widget_js/ or rules/" if changed else "")
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "code": code,
        "cores": os.cpu_count(),
        "memory": f"{int(memory.split()[0]) / 2**20:.0f} GiB",
        "software": software,
        "load_start": os.getloadavg()[0],
        "command": command,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench/run", description="Irasshai's benchmarks, written up as Markdown.")
    parser.add_argument("--quick", action="store_true", help="seconds instead of minutes: tiny sizes, no browser")
    parser.add_argument(
        "--out",
        type=Path,
        help="where to write the report (default: docs/performance.md, or "
        "bench/results/performance-quick.md with --quick)",
    )
    parser.add_argument(
        "--render",
        type=Path,
        metavar="RESULTS_JSON",
        help="measure nothing: write the report again from a run's results.json (after a change to bench/report*.py)",
    )
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    out = args.out or (RESULTS / "performance-quick.md" if args.quick else ROOT / "docs" / "performance.md")
    if args.render:
        results = json.loads(args.render.read_text(encoding="utf-8"))
        out.write_text(report.render(results), encoding="utf-8")
        say(f"report: {out}")
        return
    for tool in ("wrk", "redis-server"):
        if shutil.which(tool) is None:
            sys.exit(f"bench: {tool} is not installed (apt-get install {tool})")
    work = RESULTS / ("quick" if args.quick else "full")
    work.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    results = {
        "machine": machine("bench/run" + (" --quick" if args.quick else "")),
        "quick": args.quick,
        "folder": str(work.relative_to(ROOT)),
    }

    def profile_server(server, load):
        return profile(server, load, work, sizes["profile_seconds"])

    results["ingest"] = ingest.run(sizes["plan"], work, say, profile_server if sizes["profile_seconds"] else None)
    say("redis clients: CPU per operation at 32 concurrent requests")
    results["redis_clients"] = redis_clients.run(*sizes["clients"], work, say)
    results["rules"] = rules.run(
        sizes["rule_sizes"], sizes["rule_visitors"], sizes["calls"], sizes["peer_seconds"], say, profile=not args.quick
    )
    results["chat"] = chat.run(sizes["chat"], work, say)
    results["widget"] = {"sizes": widget.sizes()}
    if sizes["loads"]:
        os.sched_setaffinity(0, range(os.cpu_count() or 1))  # the browser gets the whole machine
        try:
            results["widget"]["first_event"] = widget.first_event(sizes["loads"], sizes["plan"].synthetic_rules)
        except Exception as error:  # noqa: BLE001 - a missing browser must not lose the other results
            results["widget"]["first_event"] = {"error": f"{type(error).__name__}: {error}"}
    results["machine"]["load_end"] = os.getloadavg()[0]
    results["machine"]["duration"] = time.monotonic() - started
    (work / "results.json").write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report.render(results), encoding="utf-8")
    say("")
    for goal, result, ok in report.targets(results):
        say(f"target {goal}: {result} ({'met' if ok else 'not measured' if ok is None else 'MISSED'})")
    say(f"report: {out}")
    for line in report.ratio_lines(results):
        say(line)


if __name__ == "__main__":
    main()
