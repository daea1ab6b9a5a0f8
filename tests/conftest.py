"""Shared fixtures: a real redis-server on a free port, a real three-master Redis Cluster on free
ports, live HTTP servers, headless Chromium.

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


def _answer(port: int, command: bytes) -> bytes:
    """One inline command to a Redis on 127.0.0.1:`port`, its reply's first bytes (b"" if down)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(command + b"\r\n")
            return sock.recv(4096)
    except OSError:
        return b""


CLUSTER_MASTERS = 3


@contextmanager
def redis_cluster(masters: int = 3, *options: str):
    """A private Redis Cluster of `masters` masters on free ports, without persistence, each node
    in a folder of its own (`options` go to every redis-server); made by `redis-cli --cluster
    create` and yielded once every node's `cluster info` says ok, as (URL, the node processes)."""
    binary, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    if binary is None or cli is None:
        missing("redis-server or redis-cli is not installed (apt-get install redis-server)")
    ports: list[int] = []
    while len(ports) < 2 * masters:  # a client port and a cluster-bus port per node
        port = free_port()
        if port not in ports:
            ports.append(port)
    clients, buses = ports[:masters], ports[masters:]
    folder = tempfile.mkdtemp(prefix="irasshai-cluster-")
    processes = []
    for port, bus in zip(clients, buses, strict=True):
        node = os.path.join(folder, str(port))
        os.mkdir(node)
        processes.append(
            subprocess.Popen(
                [binary, "--port", str(port), "--cluster-port", str(bus), "--bind", "127.0.0.1"]
                + ["--cluster-enabled", "yes", "--cluster-config-file", os.path.join(node, "nodes.conf")]
                + ["--save", "", "--appendonly", "no", "--dir", node, "--logfile", os.path.join(node, "redis.log")]
                + list(options),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    try:

        def wait_for(what: str, ready) -> None:
            deadline = time.monotonic() + 30
            while not ready():
                if time.monotonic() > deadline or any(process.poll() is not None for process in processes):
                    pytest.fail(f"Redis Cluster: {what} (ports {clients}; logs in {folder})")
                time.sleep(0.05)

        wait_for("a node did not start", lambda: all(_answer(port, b"PING").startswith(b"+PONG") for port in clients))
        created = subprocess.run(
            [cli, "--cluster", "create", *(f"127.0.0.1:{port}" for port in clients)]
            + ["--cluster-replicas", "0", "--cluster-yes"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if created.returncode != 0:
            pytest.fail(f"redis-cli --cluster create failed: {created.stdout[-1000:]}{created.stderr[-1000:]}")
        wait_for("not ok", lambda: all(b"cluster_state:ok" in _answer(port, b"CLUSTER INFO") for port in clients))
        yield "redis+cluster://" + ",".join(f"127.0.0.1:{port}" for port in clients), processes
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_cluster_server():
    """The tests' Redis Cluster: three masters (see :func:`redis_cluster`); yields its URL
    (redis+cluster://127.0.0.1:port,…)."""
    with redis_cluster(CLUSTER_MASTERS) as (url, _):
        yield url


def cluster_ports(url: str) -> list[int]:
    from server.redis_urls import parse_cluster

    return [port for _, port in parse_cluster(url).nodes]


@pytest.fixture
def redis_cluster_url(redis_cluster_server):
    """The test Redis Cluster, every master emptied before and after each test."""
    import redis

    clients = [redis.Redis(port=port) for port in cluster_ports(redis_cluster_server)]
    for client in clients:
        client.flushall()
    yield redis_cluster_server
    for client in clients:
        client.flushall()
        client.close()


@pytest.fixture(params=["redis", "cluster"])
def any_redis_url(request):
    """The test Redis, then the test Redis Cluster: for what only a Redis store has (TTLs, keys)."""
    return request.getfixturevalue("redis_cluster_url" if request.param == "cluster" else "redis_url")


def store_url(kind: str, request) -> str:
    """The URL of a contract test's store kind ("redis" or "cluster"), started for the test."""
    return request.getfixturevalue("redis_cluster_url" if kind == "cluster" else "redis_url")


def redis_client(url: str):
    """A synchronous redis-py client for a test's Redis or Redis Cluster, to look at keys and TTLs."""
    import redis
    from redis.cluster import ClusterNode, RedisCluster

    if url.startswith("redis+cluster://"):
        return RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", port) for port in cluster_ports(url)])
    return redis.Redis.from_url(url)


def all_keys(client) -> list[bytes]:
    """Every key, on every master of a cluster."""
    from redis.cluster import RedisCluster

    if isinstance(client, RedisCluster):
        return client.keys("*", target_nodes=RedisCluster.PRIMARIES)
    return client.keys("*")


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
