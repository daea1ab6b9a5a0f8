"""Sites: ``rules/<site>/site.yaml`` declares a site; its key is the folder name.

A site says which shop origins may send events, its timezone and language, its business
hours, how long visitor data is kept, and its coupon pools. Loading never raises: every
mistake is reported into :class:`~server.yamlsource.Problems` as ``path:line:col: message``.
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from server.coupons.pools import CouponPool, parse_pools
from server.insights.goals import Goal, parse_goals, read_holdout
from server.line.channel import LineChannel, parse_line
from server.names import DAY_NAMES, DAYS
from server.privacy.policy import Privacy, parse_privacy
from server.scalars import read_duration
from server.site_limits import SiteLimits, parse_limits
from server.webhooks.config import Endpoint, parse_webhooks
from server.yamlsource import Node, Problems, check_keys, parse_file, type_name, written

SITE_FILE = "site.yaml"
SITE_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
LANGUAGES = ("ja", "en")
# Where an engagement card sits on a wide screen; on a phone every one is at the bottom (docs/engagements.md).
PLACEMENTS = ("bottom-right", "bottom-left", "top", "bottom")
DEFAULT_RETENTION = 90 * 86400
DEFAULT_GAP = 60


@dataclass(frozen=True)
class Hours:
    """Opening hours: on `days` (0 = Monday), from `start` to `end` minutes after midnight."""

    days: frozenset[int]
    start: int
    end: int

    def contains(self, weekday: int, minute: int) -> bool:
        if self.start <= self.end:
            return weekday in self.days and self.start <= minute < self.end
        # Past midnight ("22:00" to "02:00"): the early part belongs to the previous day.
        if minute >= self.start:
            return weekday in self.days
        return minute < self.end and (weekday - 1) % 7 in self.days

    def describe(self, language: str) -> str:
        """For a visitor: 「平日 9:00〜18:00」 in Japanese, "Weekdays 9:00–18:00" in English."""
        return _describe(self, language)


@functools.lru_cache(maxsize=1024)  # every rendered text asks again, on the event path
def _describe(hours: Hours, language: str) -> str:
    words = _HOURS_WORDS[language if language in _HOURS_WORDS else "en"]
    days = words["days"].get(hours.days) or words["joiner"].join(words["day"][day] for day in sorted(hours.days))
    return f"{days} {_clock_text(hours.start)}{words['to']}{_clock_text(hours.end)}"


_HOURS_WORDS = {
    "ja": {
        "days": {frozenset(range(7)): "毎日", frozenset(range(5)): "平日", frozenset((5, 6)): "土日"},
        "day": "月火水木金土日",
        "joiner": "・",
        "to": "〜",
    },
    "en": {
        "days": {frozenset(range(7)): "Every day", frozenset(range(5)): "Weekdays", frozenset((5, 6)): "Weekends"},
        "day": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
        "joiner": ", ",
        "to": "–",
    },
}


def _clock_text(minute: int) -> str:
    return f"{minute // 60}:{minute % 60:02d}"


@dataclass(frozen=True)
class Console:
    """How the operator console shares conversations (docs/sites.md, ``console``)."""

    capacity: int = 3  # conversations an operator holds at once
    reassign_after: int = 300  # seconds an assigned conversation may wait before another operator gets it


@dataclass(frozen=True)
class Site:
    key: str
    name: str
    origins: frozenset[str]
    timezone: zoneinfo.ZoneInfo
    language: str = "ja"
    business_hours: Hours | None = None
    retention: int = DEFAULT_RETENTION
    engagement_gap: int = DEFAULT_GAP
    placement: str = PLACEMENTS[0]
    launcher: bool = False  # a chat button in the page's corner (docs/engagements.md)
    coupons: dict[str, CouponPool] = field(default_factory=dict)
    console: Console = Console()
    goals: dict[str, Goal] = field(default_factory=dict)  # conversion goals, in order: the first is the default
    holdout: float = 0.0  # the share of visitors held out of every rule without its own `holdout`
    webhooks: dict[str, Endpoint] = field(default_factory=dict)  # endpoint name -> endpoint (docs/webhooks.md)
    line: LineChannel | None = None  # the site's LINE channel (docs/line.md), if it has one
    limits: SiteLimits = SiteLimits()  # the site's own rate limits; the settings' where it sets none
    privacy: Privacy = Privacy()  # GPC, Do Not Track, consent (docs/privacy.md)

    def allows(self, origin: str | None) -> bool:
        return origin is not None and origin.lower() in self.origins


_SITE_KEYS = (
    "name",
    "origins",
    "timezone",
    "language",
    "business_hours",
    "retention",
    "engagement_gap",
    "placement",
    "launcher",
    "coupons",
    "console",
    "goals",
    "holdout",
    "webhooks",
    "line",
    "limits",
    "privacy",
)


def load_site(folder: Path, problems: Problems) -> Site | None:
    """The site declared in `folder`/site.yaml, or None (with problems reported)."""
    path = folder / SITE_FILE
    key = folder.name
    before = len(problems)
    if not SITE_KEY.match(key):
        problems.add_at(f"{path}:1:1", f"site folder name '{key}' must be lower-case letters, digits, '-' or '_'")
    root = parse_file(path, problems)
    if root is None:
        return None
    if not root.is_mapping():
        problems.add(root, f"site.yaml must be a mapping of settings, not {type_name(root.value)}")
        return None
    check_keys(root, _SITE_KEYS, problems, what="site setting")
    entries = root.value
    origins = _origins(entries.get("origins"), root, problems)
    timezone = _timezone(entries.get("timezone"), problems)
    language = _choice(entries.get("language"), LANGUAGES, "ja", problems)
    placement = _choice(entries.get("placement"), PLACEMENTS, PLACEMENTS[0], problems)
    hours = parse_hours(entries["business_hours"], problems) if "business_hours" in entries else None
    retention = read_duration(
        entries.get("retention"), problems.add, minimum=86400, default=DEFAULT_RETENTION, name="retention"
    )
    gap = read_duration(entries.get("engagement_gap"), problems.add, default=DEFAULT_GAP, name="engagement_gap")
    coupons = _coupons(entries.get("coupons"), folder, problems)
    console = _console(entries.get("console"), problems)
    goals = parse_goals(entries["goals"], problems) if "goals" in entries else {}
    holdout = read_holdout(entries.get("holdout"), problems.add, default=0.0)
    webhooks = parse_webhooks(entries["webhooks"], problems) if "webhooks" in entries else {}
    line = parse_line(entries.get("line"), problems)
    limits = parse_limits(entries.get("limits"), problems)
    privacy = parse_privacy(entries.get("privacy"), problems)
    launcher = entries.get("launcher")
    if launcher is not None and not isinstance(launcher.value, bool):
        problems.add(
            launcher, f"'launcher' must be true or false, not {type_name(launcher.value)} '{written(launcher)}'"
        )
    name = entries.get("name")
    if name is not None and not isinstance(name.value, str):
        problems.add(name, f"'name' must be text, not {type_name(name.value)}")
    if len(problems) > before or timezone is None:
        return None
    return Site(
        key=key,
        name=name.value if name else key,
        origins=origins,
        timezone=timezone,
        language=language,
        business_hours=hours,
        retention=retention,
        engagement_gap=gap,
        placement=placement,
        launcher=launcher is not None and launcher.value is True,
        coupons=coupons,
        console=console,
        goals=goals,
        holdout=holdout,
        webhooks=webhooks,
        line=line,
        limits=limits,
        privacy=privacy,
    )


def parse_hours(node: Node, problems: Problems, rule: str | None = None) -> Hours | None:
    """`{days: [mon, …], from: "09:00", to: "18:00"}`; days default to every day."""
    if not node.is_mapping():
        problems.add(node, f"hours must be a mapping with 'days', 'from' and 'to', not {type_name(node.value)}", rule)
        return None
    check_keys(node, ("days", "from", "to"), problems, rule)
    days: set[int] = set(range(7))
    if "days" in node.value:
        days_node = node.value["days"]
        items = days_node.value if days_node.is_list() else [days_node]
        days = set()
        for item in items:
            word = item.value.lower() if isinstance(item.value, str) else None
            word = word[:3] if word in DAY_NAMES else word
            if word not in DAYS:
                problems.add(item, f"'{written(item)}' is not a day; use {', '.join(DAYS)}", rule)
            else:
                days.add(DAYS.index(word))
    start = _clock(node.value.get("from"), node, "from", problems, rule)
    end = _clock(node.value.get("to"), node, "to", problems, rule)
    if start is None or end is None:
        return None
    if start == end:
        problems.add(node, "'from' and 'to' are the same time, so the hours are empty", rule)
        return None
    return Hours(frozenset(days), start, end)


def _clock(node: Node | None, parent: Node, name: str, problems: Problems, rule: str | None) -> int | None:
    if node is None:
        problems.add(parent, f"hours need '{name}', e.g. {name}: \"09:00\"", rule)
        return None
    value = node.value
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 09:00 as a base-60 number (540); take it as meant.
        value = f"{value // 60:02d}:{value % 60:02d}"
    match = re.match(r"^(\d{1,2}):(\d{2})$", str(value).strip()) if isinstance(value, str) else None
    if (
        not match
        or int(match.group(1)) > 24
        or int(match.group(2)) > 59
        or (int(match.group(1)) == 24 and int(match.group(2)))
    ):
        shown = value if isinstance(value, str) else written(node)
        problems.add(node, f'\'{shown}\' is not a time of day; write it as "HH:MM", e.g. "09:00"', rule)
        return None
    return int(match.group(1)) * 60 + int(match.group(2))


def _origins(node: Node | None, root: Node, problems: Problems) -> frozenset[str]:
    if node is None:
        problems.add(
            root, "site.yaml needs 'origins': the shop origins allowed to send events, e.g. https://shop.example.com"
        )
        return frozenset()
    items = node.value if node.is_list() else [node]
    if not items:
        problems.add(node, "'origins' is empty, so no shop page could send events; list at least one origin")
    origins = set()
    for item in items:
        text = item.value if isinstance(item.value, str) else ""
        parts = urlsplit(text.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/") or parts.query:
            problems.add(
                item, f"'{written(item)}' is not an origin; write scheme and host only, e.g. https://shop.example.com"
            )
            continue
        origins.add(f"{parts.scheme}://{parts.netloc}".lower())
    return frozenset(origins)


def _timezone(node: Node | None, problems: Problems) -> zoneinfo.ZoneInfo | None:
    name = "Asia/Tokyo" if node is None else node.value
    try:
        if not isinstance(name, str) or not name:
            raise ValueError
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        problems.add(node, f"'{written(node)}' is not an IANA timezone name, e.g. Asia/Tokyo or Europe/London")
        return None


def _choice(node: Node | None, choices, default: str, problems: Problems) -> str:
    if node is None:
        return default
    if node.value not in choices:
        problems.add(node, f"'{written(node)}' is not one of: {', '.join(choices)}")
        return default
    return node.value


def _console(node: Node | None, problems: Problems) -> Console:
    """`console: {capacity: 3, reassign_after: 5m}`; both optional."""
    if node is None:
        return Console()
    if not node.is_mapping():
        problems.add(
            node, f"'console' must be a mapping with 'capacity' and 'reassign_after', not {type_name(node.value)}"
        )
        return Console()
    check_keys(node, ("capacity", "reassign_after"), problems, what="console setting")
    capacity = node.value.get("capacity")
    if capacity is not None and (
        not isinstance(capacity.value, int) or isinstance(capacity.value, bool) or not 1 <= capacity.value <= 100
    ):
        problems.add(capacity, f"'capacity' must be a whole number from 1 to 100, not '{written(capacity)}'")
        capacity = None
    reassign = read_duration(node.value.get("reassign_after"), problems.add, minimum=30, name="reassign_after")
    return Console(
        capacity=capacity.value if capacity is not None else Console.capacity,
        reassign_after=reassign if reassign is not None else Console.reassign_after,
    )


def _coupons(node: Node | None, folder: Path, problems: Problems) -> dict[str, CouponPool]:
    return {} if node is None else parse_pools(node, folder, problems)
