"""Every Redis key Irasshai uses, built here and nowhere else.

Keys are hash-tagged so that everything one Lua script or transaction touches lands in one
Redis Cluster slot: a visitor's keys share the tag ``{site:visitor}``.
"""

PREFIX = "irs"


def visitor(site: str, visitor_id: str) -> str:
    """HASH {v: version, s: MessagePack state}; TTL: the site's retention."""
    return f"{PREFIX}:{{{site}:{visitor_id}}}:state"
