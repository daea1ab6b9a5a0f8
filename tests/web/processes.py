"""`irasshai serve` in a process of its own, with any flags (e.g. `--workers 2`), its output in a
file the test reads, and the process itself at hand (to signal it or its workers)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import ROOT, SECRET


@contextlib.contextmanager
def serving(rules: Path, redis_url: str, log: Path, *flags: str, **environment: str) -> Iterator[subprocess.Popen]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IRASSHAI_")}
    env.update({"IRASSHAI_SECRET_KEY": SECRET, **environment})
    command = [sys.executable, "-m", "server", "serve", "--rules", str(rules), "--redis", redis_url, *flags]
    with open(log, "wb") as output:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_up(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 40
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            assert time.monotonic() < deadline and process.poll() is None, log.read_text(errors="replace")[-2000:]
            time.sleep(0.05)


def workers(process: subprocess.Popen) -> set[int]:
    """The worker processes of `serve --workers N` (the parent's children that run the app)."""
    found = set()
    for pid in Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split():
        with contextlib.suppress(OSError):
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
            if b"spawn_main" in command and b"resource_tracker" not in command:
                found.add(int(pid))
    return found
