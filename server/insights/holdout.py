"""Who is in a rule's control group: a stable, independent share of visitors per rule.

A visitor held out for a rule stays held out for it (the same site, rule and visitor always
give the same answer), and the groups of two rules are independent of each other and of the
``sample`` condition, which splits visitors by the visitor alone. Raising a rule's holdout
from 10% to 20% keeps everyone already held out and adds more.
"""

from __future__ import annotations

import hashlib

_SCALE = 2.0**64


def held_out(site_key: str, rule_id: str, visitor_id: str, share: float) -> bool:
    """Whether this visitor is in the control group of `rule_id`, `share` (0.0 to 1.0) of all visitors."""
    if share <= 0:
        return False
    digest = hashlib.blake2b(f"{site_key}\0{rule_id}\0{visitor_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE < share
