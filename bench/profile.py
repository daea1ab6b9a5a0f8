"""Where the server's time goes under load: py-spy samples of the server process while wrk saturates it.

Each sample is charged to the innermost frame that belongs to a known part of the stack
(the rules engine, the store client, Starlette, uvicorn, …), so the shares add up to 100%
of the samples in which the server was running Python code.
"""

from __future__ import annotations

import collections
import shutil
import subprocess
import sys
import threading
from pathlib import Path

# (part, substrings of a frame's "function (file:line)"), innermost match wins; first listed wins ties.
PARTS = (
    ("rules engine: decide, watch, conditions", ("server/rules/",)),
    ("engage: templates, coupons", ("server/engage.py", "server/coupons/", "jinja2/")),
    ("events applied to the state (tracking)", ("server/tracking.py",)),
    ("state encode/decode (msgspec)", ("server/visitor.py",)),
    ("batch decode and validation (msgspec)", ("server/events.py",)),
    ("visitor token check (itsdangerous)", ("server/identity.py", "itsdangerous/")),
    ("daily counters", ("server/stats.py",)),
    ("store: in-memory", ("server/store/memory.py",)),
    ("store: redis-py client, hiredis", ("redis/", "hiredis", "server/store/redis.py")),
    ("ingest (server/ingest.py itself)", ("server/ingest.py",)),
    ("device type from the User-Agent (server/devices.py)", ("server/devices.py",)),
    ("endpoint (server/web)", ("server/web/",)),
    ("Starlette: routing, request, response", ("starlette/",)),
    ("uvicorn + httptools: HTTP parsing, ASGI glue", ("uvicorn/", "httptools")),
    ("asyncio / uvloop: event loop, tasks", ("asyncio/", "uvloop")),
)
LOOP = "asyncio / uvloop: event loop, tasks"
STACK = {
    "Starlette: routing, request, response",
    "uvicorn + httptools: HTTP parsing, ASGI glue",
    "asyncio / uvloop: event loop, tasks",
}  # what the bare server (a) runs too


def py_spy() -> str | None:
    found = Path(sys.executable).with_name("py-spy")
    return str(found) if found.exists() else shutil.which("py-spy")


def record(pid: int, seconds: int, output: Path, fmt: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            py_spy(),
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(seconds),
            "--rate",
            "250",
            "--format",
            fmt,
            "--output",
            str(output),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def part_of(stack: str) -> str:
    """The innermost part on the stack below the event loop's entry (asyncio's Runner.run). The
    loop gets only the samples in which nothing else is on the stack: the loop itself, in uvloop's
    C code (asyncio's streams under redis-py are the Redis client's time, not the loop's)."""
    frames = stack.split(";")
    entry = max((i for i, frame in enumerate(frames) if "asyncio/runners.py" in frame), default=-1)
    found = "other" if entry < 0 else LOOP
    for frame in reversed(frames[entry + 1 :]):
        for part, needles in PARTS:
            if any(needle in frame for needle in needles):
                if part != LOOP:
                    return part
                found = LOOP
    return found


def summarise(raw: Path) -> dict:
    """Shares of samples by part, and the functions that run most themselves (leaf frames)."""
    parts: collections.Counter = collections.Counter()
    leaves: collections.Counter = collections.Counter()
    total = 0
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        samples = int(count)
        total += samples
        parts[part_of(stack)] += samples
        leaf = stack.split(";")[-1]
        leaves[leaf.replace(str(Path.cwd()) + "/", "")] += samples
    if not total:
        return {"samples": 0, "parts": [], "top": []}
    return {
        "samples": total,
        "parts": [(part, count / total) for part, count in parts.most_common()],
        "top": [(frame, count / total) for frame, count in leaves.most_common(12)],
    }


def profile(server, load, folder: Path, seconds: int) -> dict:
    """Sample `server` while `load(seconds)` runs wrk against it: a flame graph (SVG) and a summary."""
    if py_spy() is None:
        return {"error": "py-spy is not installed (bench/run installs it into .venv)"}
    raw, svg = folder / f"profile-{server.name}.txt", folder / f"profile-{server.name}.svg"
    result = {}
    for fmt, output in (("raw", raw), ("flamegraph", svg)):
        sampler = record(server.pid, seconds, output, fmt)
        worker = threading.Thread(target=lambda fmt=fmt: result.setdefault(fmt, load(seconds + 1)))
        worker.start()
        _, errors = sampler.communicate(timeout=seconds + 60)
        worker.join()
        if sampler.returncode != 0:
            return {"error": f"py-spy failed: {errors.decode(errors='replace').strip()[-300:]}"}
    return {"svg": str(svg), "raw": str(raw), **summarise(raw)}
