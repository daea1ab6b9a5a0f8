"""The processes under test: a private redis-server, a private Redis Cluster and the servers, pinned to cores.

The server under test gets core 0; the load generator, redis-server and this script get
core 1, so they do not take CPU time from the server being measured.
"""

from __future__ import annotations

import os
import resource
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER_CORE, LOAD_CORE = "0", "1"


def pinned(core: str, command: list[str]) -> list[str]:
    """`command` under `taskset -c core`, when this machine has two cores and taskset."""
    if (os.cpu_count() or 1) >= 2 and shutil.which("taskset"):
        return ["taskset", "-c", core, *command]
    return command


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, what: str, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode} before listening; see {log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"{what} did not listen on port {port} within {timeout:.0f}s; see {log}")


@dataclass
class Process:
    name: str
    port: int
    popen: subprocess.Popen
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def cpu_seconds(self) -> float:
        """User + system CPU time the process has used so far (/proc/<pid>/stat)."""
        with open(f"/proc/{self.pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)


@dataclass
class Group:
    """What wrk loads as one server under test: one or more server processes (wrk's threads go
    round their addresses, bench/load.lua) and the Redis processes behind them, whose CPU time
    is read beside the servers'."""

    name: str
    processes: list[Process]
    stores: list[Process] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.processes[0].pid

    @property
    def url(self) -> str:
        return self.processes[0].url

    @property
    def hosts(self) -> str:
        """Every process's address, for BENCH_HOSTS; empty for one process (wrk's URL says it)."""
        return ",".join(f"127.0.0.1:{p.port}" for p in self.processes) if len(self.processes) > 1 else ""

    def cpu_seconds(self) -> float:
        return sum(p.cpu_seconds() for p in self.processes)

    def store_cpu_seconds(self) -> list[float]:
        """Each Redis process's CPU time so far (a cluster's masters one by one)."""
        return [p.cpu_seconds() for p in self.stores]

    def store_commands(self) -> int:
        """Commands the Redis processes have run so far (INFO stats, each node its own)."""
        return sum(redis_commands(p.port) for p in self.stores)

    def stop(self) -> None:
        for process in self.processes:
            process.stop()


def redis_commands(port: int) -> int:
    """total_commands_processed of the redis-server on `port` (this INFO call included)."""
    import redis

    client = redis.Redis(port=port, socket_timeout=5)
    try:
        return int(client.info("stats")["total_commands_processed"])
    finally:
        client.close()


def start_redis(folder: Path, name: str = "redis") -> Process:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    log = folder / f"{name}.log"
    popen = subprocess.Popen(
        pinned(
            LOAD_CORE,
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
                str(folder),
                "--logfile",
                str(log),
            ],
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_for_port(port, popen, "redis-server", log)
    return Process(name, port, popen, log)


def start_redis_cluster(folder: Path, masters: int = 3) -> tuple[str, list[Process]]:
    """A private Redis Cluster of `masters` masters on the load core, each node in a folder of its
    own, made by `redis-cli --cluster create`; (its redis+cluster:// URL, its processes)."""
    binary, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    if binary is None or cli is None:
        raise RuntimeError("redis-server or redis-cli is not installed (apt-get install redis-server)")
    nodes: list[Process] = []
    try:
        for number in range(masters):
            port, bus = free_port(), free_port()  # the bus port explicitly: port + 10000 may not exist
            node = folder / f"node-{number}"
            node.mkdir()
            log = node / "redis.log"
            popen = subprocess.Popen(
                pinned(
                    LOAD_CORE,
                    [binary, "--port", str(port), "--cluster-port", str(bus), "--bind", "127.0.0.1"]
                    + ["--cluster-enabled", "yes", "--cluster-config-file", str(node / "nodes.conf")]
                    + ["--save", "", "--appendonly", "no", "--dir", str(node), "--logfile", str(log)],
                ),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            nodes.append(Process(f"redis-cluster-{number}", port, popen, log))
            _wait_for_port(port, popen, f"redis-server (cluster node {number})", log)
        addresses = [f"127.0.0.1:{node.port}" for node in nodes]
        created = subprocess.run(
            [cli, "--cluster", "create", *addresses, "--cluster-replicas", "0", "--cluster-yes"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if created.returncode != 0:
            raise RuntimeError(f"redis-cli --cluster create failed: {created.stdout[-500:]}{created.stderr[-500:]}")
        deadline = time.monotonic() + 30
        while not all(b"cluster_state:ok" in _ask(node.port, b"CLUSTER INFO") for node in nodes):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the Redis Cluster on {addresses} did not become ok within 30 s")
            time.sleep(0.05)
    except BaseException:
        for node in nodes:
            node.stop()
        raise
    return "redis+cluster://" + ",".join(addresses), nodes


def _ask(port: int, command: bytes) -> bytes:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(command + b"\r\n")
            return sock.recv(4096)
    except OSError:
        return b""


def open_files_limit() -> int:
    """This process's limit on open files raised to its hard limit (the bench's, never the product's)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def start_server(name: str, kind: str, folder: Path, *args: str, core: str = SERVER_CORE) -> Process:
    """`python -m bench.serve kind --port … args` on `core`; its output goes to a log.

    It inherits this process's limit on open files, which bench/chat.py raises for its streams."""
    port = free_port()
    log = folder / f"server-{name}.log"
    with log.open("wb") as out:
        popen = subprocess.Popen(
            pinned(core, [sys.executable, "-m", "bench.serve", kind, "--port", str(port), *args]),
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    _wait_for_port(port, popen, f"server {name}", log)
    return Process(name, port, popen, log)
