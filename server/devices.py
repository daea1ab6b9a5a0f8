"""Device type and language from what the browser tells us."""

from __future__ import annotations

import functools
import re

from server.names import is_language_tag

DEVICES = ("mobile", "tablet", "desktop")  # what device_type answers, and what rules may test

_TABLET = re.compile(r"iPad|Tablet|PlayBook|Silk|Kindle|Android(?!.*Mobile)", re.I)
_MOBILE = re.compile(r"Mobi|iPhone|iPod|Android.*Mobile|Windows Phone|BlackBerry|Opera Mini", re.I)


_known: dict[str, str] = {}  # a site sees few distinct User-Agents: answer each once


def device_type(user_agent: str) -> str:
    """'mobile', 'tablet' or 'desktop', from the User-Agent (iPadOS, which claims a Mac, counts as desktop)."""
    found = _known.get(user_agent)
    if found is None:
        if _TABLET.search(user_agent):
            found = "tablet"
        elif _MOBILE.search(user_agent):
            found = "mobile"
        else:
            found = "desktop"
        if len(_known) >= 4096:
            _known.clear()
        _known[user_agent] = found
    return found


@functools.lru_cache(maxsize=4096)  # few distinct pairs per site, and one per batch: answer each once
def language(reported: str, accept_language: str) -> str:
    """The visitor's main language tag, lower-case (``ja``, ``en-us``), or ''."""
    tag = reported or accept_language.split(",")[0].split(";")[0]
    tag = tag.strip().lower().replace("_", "-")
    return tag if is_language_tag(tag) else ""
