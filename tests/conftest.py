"""Shared fixtures: a real redis-server on a free port, live HTTP servers, headless Chromium.

Nothing here touches a Redis the tests did not start. Where Redis or Chromium is missing the
tests skip on a developer's machine and fail in CI (CI=true), so a green CI means they ran.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("IRASSHAI_TEST_CHROMIUM", "/usr/bin/chromium")
SECRET = "test-secret-key-not-for-production"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Hypothesis (tests/fuzz, docs/reliability.md#fuzzing). `ci`, the default: the same examples on
# every run (derandomized, no example database), so CI is bounded and a red run is red again
# on a developer's machine. `deep`, for a local hunt: many more examples, random ones, and
# failures kept in .hypothesis/ (git-ignored) to be tried first next time:
#   HYPOTHESIS_PROFILE=deep .venv/bin/pytest -p no:cacheprovider tests/fuzz
_SLOW_IS_FINE = [HealthCheck.too_slow, HealthCheck.data_too_large]
hypothesis_settings.register_profile(
    "ci", derandomize=True, database=None, max_examples=100, deadline=None, suppress_health_check=_SLOW_IS_FINE
)
hypothesis_settings.register_profile("deep", max_examples=3000, deadline=None, suppress_health_check=_SLOW_IS_FINE)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def anyio_backend():
    return "asyncio"


def missing(what: str) -> None:
    """Fail in CI, skip elsewhere: a test that cannot run must not pass silently in CI."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{what} (CI=true: failing instead of skipping)")
    pytest.skip(what)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def redis_server():
    """A private redis-server on a free port, without persistence; yields its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        missing("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    folder = tempfile.mkdtemp(prefix="irasshai-redis-")
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            folder,
            "--logfile",
            os.path.join(folder, "redis.log"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    break
        except OSError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            pytest.fail(f"redis-server did not start on port {port}; see {folder}/redis.log")
        time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(10)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def redis_url(redis_server):
    """The test Redis, emptied before and after each test."""
    import redis

    client = redis.Redis.from_url(redis_server)
    client.flushall()
    yield redis_server
    client.flushall()
    client.close()


@contextmanager
def live_server(app, port: int | None = None):
    """Serve an ASGI app with uvicorn in a thread; yields its base URL."""
    import uvicorn

    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
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


@contextmanager
def serve_process(rules_dir: Path, redis_url: str, port: int | None = None, **environment: str):
    """`irasshai serve` in a process of its own (a real second server, not a thread); yields its URL.

    `environment` adds IRASSHAI_* settings, e.g. IRASSHAI_SITE_SECRETS="shop=…". Its output goes
    to a log file whose tail is shown if it does not become ready."""
    import sys
    import urllib.request

    port = port or free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IRASSHAI_")}
    env.update({"IRASSHAI_SECRET_KEY": SECRET, **environment})
    log = Path(tempfile.mkdtemp(prefix="irasshai-serve-")) / "serve.log"
    command = [
        sys.executable,
        "-m",
        "server",
        "serve",
        "--rules",
        str(rules_dir),
        "--port",
        str(port),
        "--redis",
        redis_url,
    ]
    with open(log, "wb") as output:  # the process keeps its own handle
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2):
                break
        except OSError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"irasshai serve on port {port} did not start:\n{tail}")
        time.sleep(0.05)
    try:
        yield url
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(log.parent, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium driven by Playwright (never a downloaded browser).

    Module-scoped: Playwright's sync API runs an event loop in the main thread while it is
    started, which async tests elsewhere in the session must not inherit.
    """
    if not Path(CHROMIUM).exists():
        missing(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("playwright is not installed (pip install -e '.[test]')")
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture
def artifacts() -> Path:
    """Where browser tests save screenshots (git-ignored)."""
    folder = ROOT / "tests" / "artifacts"
    folder.mkdir(exist_ok=True)
    return folder
