"""On paper: how many requests, events and concurrent visitors one process, one host and a
cluster would carry, from the CPU time per request that bench/ingest.py measured.

Pure arithmetic on the measured figures and the assumptions below (docs/performance.md prints both):

- a core runs its server process (or its redis-server) at most `headroom` busy, so one core
  carries headroom × 1,000,000 / (CPU µs per request) requests per second;
- a server process uses one core (Python runs its event loop on one); Redis is single-threaded;
- concurrent visitors = requests/s × 60 / requests per visitor per minute;
- what a host or cluster carries is the least of what its server processes and its Redis carry;
  a cluster's masters share the visitors evenly (their keys hash by site and visitor), but each
  site's counters live on one master, so one busy site is bounded by that master (measured per node).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Assumptions:
    headroom: float = 0.7  # of each core: room for bursts, GC pauses, the kernel's network work
    # The widget sends a batch when a page is shown (its first events gathered for 40 ms), and
    # one more for each signal a rule asked it to watch and each shop event (view_product,
    # add_to_cart, …): about one page a minute and one more batch per page for a browsing visitor.
    requests_per_visitor_minute: float = 2.0
    host_cores: int = 8  # an example host: Redis on one core, a server process on each other
    cluster_hosts: int = 4  # hosts of `host_cores` cores, all running server processes
    cluster_masters: int = 3  # Redis Cluster masters, each on a core of its own (other hosts)


@dataclass(frozen=True)
class Measured:
    events_per_request: float
    server_us: float  # (c): one server process on one Redis, CPU µs per request
    server_two_us: float  # (c2): two server processes on one Redis, both processes' CPU µs per request
    redis_us: float  # (c): redis-server's CPU µs per request
    cluster_server_us: float  # (d): one server process on a Redis Cluster
    cluster_redis_us: float  # (d): all masters' CPU µs per request together
    cluster_hottest_us: float = 0.0  # (d): the busiest master's CPU µs per request (one site's counters are on one)


def per_core(cpu_us: float, headroom: float) -> float:
    """Requests/s one core carries when each request costs `cpu_us` µs of its CPU."""
    return headroom * 1e6 / cpu_us if cpu_us > 0 else float("inf")


def _row(scope: str, layout: str, servers: float, redis: float | None, m: Measured, a: Assumptions) -> dict:
    rps = servers if redis is None else min(servers, redis)
    return {
        "scope": scope,
        "layout": layout,
        "servers_rps": servers,
        "redis_rps": redis,
        "rps": rps,
        "eps": rps * m.events_per_request,
        "visitors": rps * 60 / a.requests_per_visitor_minute,
        "limit": "server CPU" if redis is None or servers <= redis else "Redis CPU",
    }


ASSUMED = Assumptions()


def capacity(m: Measured, a: Assumptions = ASSUMED) -> list[dict]:
    """Rows for one process, one Redis, one host and a cluster (see the module's docstring).

    Several processes are costed at the larger of the 1- and 2-process CPU per request, so that
    contention the bench measured is paid; on a cluster, that factor scales (d)'s figure."""
    crowd = max(1.0, m.server_two_us / m.server_us) if m.server_us > 0 else 1.0
    many = per_core(m.server_us * crowd, a.headroom)
    processes = max(1, a.host_cores - 1)
    cluster_cores = a.cluster_hosts * a.host_cores
    return [
        _row("one process", "one core, Redis elsewhere", per_core(m.server_us, a.headroom), None, m, a),
        _row(
            "one Redis",
            "one redis-server core, as many server processes as it takes",
            float("inf"),
            per_core(m.redis_us, a.headroom),
            m,
            a,
        ),
        _row(
            "one host",
            f"{a.host_cores} cores: {processes} server processes and Redis",
            processes * many,
            per_core(m.redis_us, a.headroom),
            m,
            a,
        ),
        _row(
            "a cluster, many sites",
            f"{a.cluster_hosts} hosts × {a.host_cores} cores of server processes ({cluster_cores}), "
            f"a Redis Cluster of {a.cluster_masters} masters, the load spread evenly over them",
            cluster_cores * per_core(m.cluster_server_us * crowd, a.headroom),
            a.cluster_masters * per_core(m.cluster_redis_us, a.headroom),
            m,
            a,
        ),
        _row(
            "a cluster, one site",
            "the same, all traffic one site's: its counters' master works hardest (as measured)",
            cluster_cores * per_core(m.cluster_server_us * crowd, a.headroom),
            per_core(m.cluster_hottest_us, a.headroom) if m.cluster_hottest_us else None,
            m,
            a,
        ),
    ]


def from_ingest(ingest: dict) -> Measured | None:
    """The figures capacity() needs from bench/ingest.py's results (None without (c2) or (d))."""
    servers = ingest["servers"]
    if not all(name in servers for name in ("c", "c2", "d")):
        return None
    return Measured(
        events_per_request=ingest["workload"]["events_per_request"],
        server_us=servers["c"]["cpu_us"],
        server_two_us=servers["c2"]["cpu_us"],
        redis_us=servers["c"]["store_cpu_us"],
        cluster_server_us=servers["d"]["cpu_us"],
        cluster_redis_us=servers["d"]["store_cpu_us"],
        cluster_hottest_us=max(servers["d"].get("store_cpu_us_nodes") or [0.0]),
    )
