"""Memory: a server process's resident set (VmRSS) and Redis's used_memory, before and after load.

Per visitor = (after - before) / visitors stored. The in-memory store's figure is the whole
process's growth, so it also holds Python's allocator slack and the server's caches; Redis's
is its own accounting of keys and values (INFO memory used_memory).
"""

from __future__ import annotations

from dataclasses import dataclass

import redis

from server.store import keys


def rss_bytes(pid: int) -> int:
    """VmRSS of process `pid`, from /proc/<pid>/status."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def redis_memory(url: str) -> tuple[int, int]:
    """(used_memory in bytes, number of keys) of the Redis at `url`."""
    client = redis.Redis.from_url(url)
    try:
        return int(client.info("memory")["used_memory"]), int(client.dbsize())
    finally:
        client.close()


def redis_visitor_keys(url: str) -> int:
    """How many visitor states Redis holds (keys.visitor: irs:{site:id}:state)."""
    client = redis.Redis.from_url(url)
    try:
        return sum(1 for _ in client.scan_iter(match=keys.visitor("*", "*"), count=1000))
    finally:
        client.close()


@dataclass
class Growth:
    before: int
    after: int
    visitors: int

    @property
    def per_visitor(self) -> float:
        return (self.after - self.before) / self.visitors if self.visitors else 0.0

    def as_dict(self) -> dict:
        return {"before": self.before, "after": self.after, "visitors": self.visitors, "per_visitor": self.per_visitor}
