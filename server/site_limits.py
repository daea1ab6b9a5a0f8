"""A site's own rate limits: the ``limits`` block of site.yaml (docs/sites.md, "Limits").

Each entry overrides the process-wide default of the setting with the same name
(docs/settings.md); an entry left out keeps that default, and 0 turns the limit off for the
site. The limits themselves are applied by :mod:`server.ratelimits` (new visitors, codes,
events per visitor), :mod:`server.address_limits` (events per address) and
:mod:`server.chat.service` (chat messages).
"""

from __future__ import annotations

from dataclasses import dataclass

from server.yamlsource import Node, Problems, check_keys, type_name, written

# site.yaml key -> what it limits (for the error messages and docs).
LIMIT_NAMES = (
    "new_visitors_per_minute",
    "new_visitors_per_hour",
    "codes_per_day",
    "events_per_visitor_per_minute",
    "events_per_address_per_minute",
    "chat_messages_per_minute",
)
MAX_LIMIT = 10**9


@dataclass(frozen=True)
class SiteLimits:
    """The limits a site sets itself; None: the setting's default applies."""

    new_visitors_per_minute: int | None = None
    new_visitors_per_hour: int | None = None
    codes_per_day: int | None = None
    events_per_visitor_per_minute: int | None = None
    events_per_address_per_minute: int | None = None
    chat_messages_per_minute: int | None = None

    def get(self, name: str, default: int) -> int:
        """The site's limit `name`, or `default` (the setting) when the site sets none."""
        own = getattr(self, name)
        return default if own is None else own


def parse_limits(node: Node | None, problems: Problems) -> SiteLimits:
    """`limits: {events_per_visitor_per_minute: 120, codes_per_day: 0, …}`; every entry optional."""
    if node is None:
        return SiteLimits()
    if not node.is_mapping():
        problems.add(node, f"'limits' must be a mapping of limit names to whole numbers, not {type_name(node.value)}")
        return SiteLimits()
    check_keys(node, LIMIT_NAMES, problems, what="limit")
    found = {}
    for name in LIMIT_NAMES:
        entry = node.value.get(name)
        if entry is None:
            continue
        value = entry.value
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_LIMIT:
            problems.add(entry, f"limit '{name}' must be a whole number, 0 (off) or more, not '{written(entry)}'")
            continue
        found[name] = value
    return SiteLimits(**found)
