"""A site's LINE channel: ``line:`` in ``rules/<site>/site.yaml`` (docs/line.md).

```yaml
line:
  channel_id: "2001234567"      # the Messaging API channel's id (LINE Developers console)
  link: true                    # offer new friends to link their LINE account to the shop's
  link_page: https://shop.example/line-link   # the shop's page that signs them in (with link: true)
```

The channel's secret and access token are not here: they come from the settings
(IRASSHAI_LINE_SECRETS, IRASSHAI_LINE_TOKENS), so rule files can be shared and committed.
Parsing never raises: every mistake goes into the Problems as ``path:line:col: message``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from server.yamlsource import Node, Problems, check_keys, type_name

CHANNEL_ID = re.compile(r"^[0-9]{6,20}$")
KEYS = ("channel_id", "link", "link_page")


@dataclass(frozen=True)
class LineChannel:
    channel_id: str
    link: bool = False  # send new friends a link to the shop's link page (LINE's account-link flow)
    link_page: str = ""  # the shop's page that signs the customer in and asks Irasshai for a nonce


def parse_line(node: Node | None, problems: Problems) -> LineChannel | None:
    """The site's LINE channel, or None when site.yaml has no `line:` (or it has problems, reported)."""
    if node is None:
        return None
    if not node.is_mapping():
        problems.add(node, f"'line' must be a mapping with 'channel_id' (and 'link'), not {type_name(node.value)}")
        return None
    before = len(problems)
    check_keys(node, KEYS, problems, what="line setting")
    entries = node.value
    found = entries.get("channel_id")
    channel_id = str(found.value) if found is not None and not isinstance(found.value, bool) else ""
    if found is None:
        problems.add(
            node, "'line' needs 'channel_id': the Messaging API channel's id, from the LINE Developers console"
        )
    elif not CHANNEL_ID.match(channel_id):
        problems.add(found, f"'channel_id' must be the channel's id (digits only), not '{str(found.value)[:40]}'")
    link = entries.get("link")
    if link is not None and not isinstance(link.value, bool):
        problems.add(link, f"'link' must be true or false, not {type_name(link.value)} '{link.value}'")
    linked = link is not None and link.value is True
    page = entries.get("link_page")
    page_url = page.value if page is not None and isinstance(page.value, str) else ""
    if page is not None and not _web_url(page_url):
        problems.add(page, f"'link_page' must be the URL of the shop's page (https://…), not '{str(page.value)[:80]}'")
    elif linked and page is None:
        problems.add(link, "'link: true' needs 'link_page': the shop's page that signs the customer in (docs/line.md)")
    if len(problems) > before:
        return None
    return LineChannel(channel_id=channel_id, link=linked, link_page=page_url)


def _web_url(text: str) -> bool:
    parts = urlsplit(text.strip())
    return parts.scheme in ("https", "http") and bool(parts.netloc) and not parts.fragment
