"""Durations as marketers write them: ``30s``, ``10m``, ``2h``, ``7d``, ``4w``."""

from __future__ import annotations

import re

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_PATTERN = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")


def parse_duration(text: object) -> int:
    """Seconds in `text`; ValueError with a one-line hint when it is not a duration."""
    if isinstance(text, str):
        match = _PATTERN.match(text)
        if match:
            return int(match.group(1)) * UNITS[match.group(2)]
    if isinstance(text, int) and not isinstance(text, bool):
        raise ValueError(f"'{text}' has no unit; write a duration such as '{text}s', '{text}m' or '{text}d'")
    # A list or a mapping is named, not printed: its insides mean nothing to the person who wrote it.
    shown = "a list" if isinstance(text, list) else "a mapping" if isinstance(text, dict) else f"'{text}'"
    raise ValueError(f"{shown} is not a duration; write a number and a unit, e.g. 30s, 10m, 2h, 7d or 4w")


def format_duration(seconds: int) -> str:
    for unit, size in reversed(UNITS.items()):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
