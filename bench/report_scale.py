"""The scale-out part of the report: one and two processes, one Redis and a cluster, the
capacity worked out on paper, and the Redis client comparison (docs/performance.md)."""

from __future__ import annotations

TWO_PROCESSES_TARGET = 1.10  # CPU per request with 2 processes ≤ 1.10 × with 1 (issue 12)
CLEARLY_BETTER = 0.8  # another Redis client replaces redis-py only at ≤ 0.8 × its CPU per operation


def _n(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def two_processes_target(servers: dict) -> tuple[str, str, bool | None]:
    goal = "CPU per request with 2 server processes on one Redis within 10 % of 1 process (issue 12)"
    if "c2" not in servers or "a2" not in servers:
        return goal, "not measured", None
    ratio, control = two_processes(servers)
    return (
        goal,
        f"{servers['c2']['cpu_us']:.0f} µs with 2 against {servers['c']['cpu_us']:.0f} µs with 1: {ratio:.2f}× "
        f"(both on one core; the bare endpoint pays {control:.2f}× for the same layout, so {ratio / control:.2f}× "
        f"net: see Scale-out)",
        ratio <= TWO_PROCESSES_TARGET,
    )


def scale_out(ingest: dict) -> list[str]:
    servers = ingest["servers"]
    if not all(name in servers for name in ("a", "a2", "c", "c2", "d")):
        return ["Not measured (no (a2), (c2) or (d) in this run)."]
    rows = [
        "| Server | processes | server CPU per request | × one process | Redis CPU per request | × (c) | "
        "Redis commands per request (Lua's included) | requests/s | p99 ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, alone in (("a", "a"), ("a2", "a"), ("c", "c"), ("c2", "c"), ("d", "c")):
        s, base = servers[name], servers[alone]
        redis = servers["c"].get("store_cpu_us")
        store = (
            f"{s['store_cpu_us']:.0f} µs | {s['store_cpu_us'] / redis:.2f} | {s['store_commands']:.2f}"
            if name in ("c", "c2", "d") and redis
            else "– | – | –"
        )
        rows.append(
            f"| {s['label']} | {s.get('processes', 1)} | {s['cpu_us']:.0f} µs | {s['cpu_us'] / base['cpu_us']:.2f} | "
            f"{store} | {_n(s['rps'])} | {s['p99_ms']:.2f} |"
        )
    two, control = two_processes(servers)
    cluster = servers["d"]["cpu_us"] / servers["c"]["cpu_us"]
    rows += [
        "",
        f"**Two processes on one Redis (c2).** Both server processes run on core 0, as every server here does (the "
        f"bench gives one core to the servers, the other to wrk and Redis; on 2 cores, a process per core would "
        f"compete with wrk and Redis), so their requests/s cannot exceed one process's: what says whether a second "
        f"process costs anything is the server CPU per request, both processes' CPU time over all their requests: "
        f"{two:.2f}× one process's (target: within 10 %). Flat would mean no contention. Two things move it here: "
        f"two processes time-sharing one core each wake for half the requests, so each wake-up "
        f"(epoll, the event loop's turn, the kernel's switch) is shared by fewer of them, which the bare endpoint "
        f"in the same layout (a2) measures with no store at all: {control:.2f}× its one process; and what the "
        f"processes do to each other through Redis: wrk's two threads walk the same visitors a step and half the "
        f"visitors apart, so a visitor's next batch usually reaches the other process (as behind a load balancer "
        f"without sticky sessions), and a compare-and-set that loses to the other process costs a read and a "
        f"retry, which the Redis commands per request would show. Net of the "
        f"layout, (c2)/(c) ÷ (a2)/(a) = {two / control:.2f}.",
        "",
        f"**A Redis Cluster (d)** of three masters, started by the bench (`redis-cli --cluster create`), costs the "
        f"server {cluster:.2f}× the CPU per request of one Redis (redis-py's cluster client routes every command "
        f"to the node that owns its key's slot). The three masters share the load core with wrk and the single Redis, "
        f"so (d)'s requests/s say what the client costs, not what a cluster on hosts of its own carries; the "
        f"masters' CPU per request is what a cluster needs of its cores (below, [deployment.md](deployment.md)): "
        f"{', '.join(f'{us:.0f}' for us in servers['d'].get('store_cpu_us_nodes', []))} µs per request, master by "
        f"master. The visitors' keys spread over all three; the site's daily counters and traffic counts are one "
        f"hash tag each, so one master each, and this bench has one site.",
    ]
    return rows


def two_processes(servers: dict) -> tuple[float, float]:
    """(c2)/(c) and (a2)/(a) in server CPU per request: two processes against one, with Redis and bare."""
    return servers["c2"]["cpu_us"] / servers["c"]["cpu_us"], servers["a2"]["cpu_us"] / servers["a"]["cpu_us"]


def capacity_section(ingest: dict) -> list[str]:
    from bench.capacity import ASSUMED, capacity, from_ingest

    measured = from_ingest(ingest)
    if measured is None:
        return ["Not computed (no (c2) or (d) in this run)."]
    a = ASSUMED
    rows = [
        "What the measured CPU per request would carry, worked out on paper (`bench/capacity.py`); the figures "
        "below are only as good as the assumptions:",
        "",
        f"- **CPU per request, measured above:** {measured.server_us:.0f} µs of server CPU with one process on one "
        f"Redis (c), {measured.server_two_us:.0f} µs with two (c2), {measured.cluster_server_us:.0f} µs on the cluster "
        f"(d); redis-server: {measured.redis_us:.0f} µs per request (c), the cluster's masters together "
        f"{measured.cluster_redis_us:.0f} µs (d), the busiest of them {measured.cluster_hottest_us:.0f} µs. {measured.events_per_request:.2f} events per request (this bench's "
        f"batches).",
        f"- **A core is run at most {a.headroom:.0%} busy** (room for bursts, garbage collection, the kernel's network "
        f"work): it carries {a.headroom:.0%} × 1,000,000 / (CPU µs per request) requests/s. A server process is one "
        f"core (one event loop); Redis is single-threaded, so one Redis (or one cluster master) is one core.",
        "- **Several processes** are costed at the larger of the 1- and 2-process CPU per request (contention paid, "
        "never a gain), as measured: (c2)'s figure includes what sharing one core costs, which processes on cores "
        "of their own would not pay, so this errs low. On the cluster that factor scales (d)'s figure.",
        f"- **Visitors:** a browsing visitor sends {a.requests_per_visitor_minute:g} requests a minute: the widget "
        f"sends one batch when a page is shown (its first events gathered for 40 ms) and one more for each signal "
        f"a rule asked it to watch (time on page, scroll, exit intent, idle) or shop event (`view_product`, "
        f"`add_to_cart`, …), and a shopper views about a page a minute. Concurrent visitors = requests/s × 60 / "
        f"{a.requests_per_visitor_minute:g}. Live-chat streams are not counted (see Live chat).",
        f"- **A host** has {a.host_cores} cores: Redis on one, a server process on each of the other "
        f"{a.host_cores - 1}. **A cluster**: {a.cluster_hosts} such hosts all running server processes behind a load "
        f"balancer, and a Redis Cluster of {a.cluster_masters} masters on cores of their own, the visitors spread "
        f"evenly over the slots (their keys are hashed by site and visitor). The network, the load balancer and "
        f"replicas are not counted.",
        "",
        "| Scope | layout | server processes carry, req/s | Redis carries, req/s | requests/s | events/s | "
        "concurrent visitors | limited by |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for row in capacity(measured, a):
        servers = "–" if row["servers_rps"] == float("inf") else _n(row["servers_rps"])
        redis = "–" if row["redis_rps"] is None else _n(row["redis_rps"])
        rows.append(
            f"| {row['scope']} | {row['layout']} | {servers} | {redis} | {_n(row['rps'])} | {_n(row['eps'])} | "
            f"{_n(row['visitors'])} | {row['limit']} |"
        )
    return rows


def redis_client_choice(clients: dict) -> tuple[str, str]:
    """(the client with the least CPU per operation among those our store could use, the verdict)."""
    found, supports = clients["clients"], clients.get("supports", {})

    def usable(name: str) -> bool:
        library = "redis-py" if name.startswith("redis-py") else name
        need = supports.get(library, {})
        return all(need.get(what) for what in ("cluster", "sharded pub/sub", "scripts"))

    measured = {name: e["cpu_us"] for name, e in found.items() if "cpu_us" in e and usable(name)}
    base = found.get("redis-py", {}).get("cpu_us")
    if not measured or not base:
        return "redis-py", "redis-py stays: the comparison did not measure it, or nothing else ran."
    best = min(measured, key=measured.get)
    ratio = measured[best] / base
    if best.startswith("redis-py") or ratio > CLEARLY_BETTER:
        return "redis-py", (
            f"redis-py stays: the cheapest usable client here, {best}, costs {ratio:.2f}× its CPU per operation, "
            f"not clearly less (≤ {CLEARLY_BETTER:.2f}×)."
        )
    saved = base - measured[best]
    return "redis-py", (
        f"{best} is clearly cheaper: {ratio:.2f}× redis-py's CPU per operation, and it has what the store uses "
        f"(asyncio, Redis Cluster, sharded pub/sub, Lua scripts). The server keeps redis-py for now, by decision: "
        f"the product brief fixes redis-py as a dependency; with one round trip per batch of a returning visitor "
        f"the saving is about {saved:.0f} µs of the Redis row's CPU per request (see Ingest), which brings no "
        f"target within reach; and the move touches every store operation, the cluster's connection gate and the "
        f"wake-ups' subscriptions (valkey-glide fixes a client's subscriptions when the client is made). It is "
        f"the first change to make when the Redis row's CPU matters more than those costs."
    )


def clients_section(clients: dict) -> list[str]:
    if "error" in clients:
        return [f"Not measured: {clients['error']}"]
    rows = [
        "| Client | CPU per operation (median) | range over rounds | × redis-py as the server has it | "
        "CAS that did not store |",
        "|---|---:|---:|---:|---:|",
    ]
    for e in clients["clients"].values():
        if "cpu_us" not in e:
            rows.append(f"| {e['label']} | not measured: {e.get('error', 'did not run')} | | | |")
            continue
        rows.append(
            f"| {e['label']} | {e['cpu_us']:.1f} µs | {e['range'][0]:.1f}–{e['range'][1]:.1f} µs | "
            f"{e.get('ratio', float('nan')):.2f} | {e['lost']} |"
        )
    supports = clients.get("supports", {})
    rows += [
        "",
        f"One operation is one round trip of the event path as RedisStore makes it: the visitor read (HMGET of "
        f"the state's version and blob), the compare-and-set (EVALSHA of `server/store/lua/save_visitor.lua`, one "
        f"key, a 2 KB blob) and a counter write (HINCRBY, HINCRBY, EXPIRE in one pipeline), from "
        f"{clients['tasks']} asyncio tasks at once on uvloop (`bench/redis_clients.py`, {clients['rounds']} "
        f"interleaved rounds of {_n(clients['requests'])} requests per client, in a process of its own on core 0 "
        f"against a private redis-server on core 1). CPU is the process's user + system time "
        f"(`time.process_time`, all its threads: valkey-glide's Rust threads are counted).",
        "",
        "| Library | version | asyncio | Redis Cluster | sharded pub/sub | Lua scripts |",
        "|---|---|---|---|---|---|",
    ]
    for library, need in supports.items():
        if "error" in need:
            rows.append(f"| {library} | not installed here: {need['error']} | | | | |")
            continue
        yes = {True: "yes", False: "**no**"}
        rows.append(
            f"| {library} | {need['version']} | yes | {yes[bool(need['cluster'])]} | "
            f"{yes[bool(need['sharded pub/sub'])]} | {yes[bool(need['scripts'])]} |"
        )
    _, verdict = redis_client_choice(clients)
    rows += [
        "",
        "What the store needs of a client (`server/store/redis_client.py`, `server/store/redis.py`): asyncio, "
        "Redis Cluster, sharded pub/sub (SPUBLISH/SSUBSCRIBE for the wake-ups) and Lua scripts, read from the "
        "installed packages above. The rule: keep redis-py unless another client is clearly cheaper "
        f"(≤ {CLEARLY_BETTER:.2f}× its CPU per operation) and has all of these. **{verdict}**",
    ]
    return rows
