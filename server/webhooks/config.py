"""Webhook endpoints as declared under ``webhooks:`` in site.yaml (docs/webhooks.md).

```yaml
webhooks:
  crm:                                   # the endpoint's name: its secret is IRASSHAI_WEBHOOK_SECRETS' "site/crm"
    url: https://crm.example.com/hooks/irasshai
    events: [coupon.claimed, coupon.redeemed, conversation.*]
  office:
    url: http://10.0.0.5:8080/irasshai
    events: ["*"]
    allow_private: true                  # only then may the URL be on a private network
```

Only http and https URLs; an address that is not public (loopback, private, link-local, …) is
refused unless the endpoint says ``allow_private: true`` (server.webhooks.addresses). Every
mistake is reported as ``path:line:col: message``; the endpoint is then left out.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from server.webhooks.addresses import refusal_of_url
from server.webhooks.events import EVENT_TYPES
from server.yamlsource import Node, Problems, check_keys, suggest, type_name

ENDPOINT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
MAX_ENDPOINTS = 20
MAX_URL = 2000
_KEYS = ("url", "events", "allow_private")
_GROUPS = sorted({t.partition(".")[0] + ".*" for t in EVENT_TYPES})


@dataclass(frozen=True)
class Endpoint:
    name: str
    url: str
    events: frozenset[str]  # event types, each one of server.webhooks.events.EVENT_TYPES
    allow_private: bool = False

    @property
    def fingerprint(self) -> str:
        """Changes whenever the endpoint's settings do: an endpoint disabled by a 410 comes back then."""
        text = "\n".join((self.url, *sorted(self.events), str(self.allow_private)))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def parse_webhooks(node: Node, problems: Problems) -> dict[str, Endpoint]:
    """Endpoint name -> Endpoint, for the endpoints without mistakes."""
    if not node.is_mapping():
        problems.add(node, f"'webhooks' must map endpoint names to endpoints, not {type_name(node.value)}")
        return {}
    if len(node.value) > MAX_ENDPOINTS:
        problems.add(node, f"'webhooks' has {len(node.value)} endpoints; at most {MAX_ENDPOINTS}")
    endpoints = {}
    for name, spec in node.value.items():
        if not isinstance(name, str) or not ENDPOINT_NAME.match(name):
            problems.add(spec, f"webhook endpoint name '{name}' must be lower-case letters, digits, '-' or '_'")
            continue
        endpoint = _endpoint(name, spec, problems)
        if endpoint is not None:
            endpoints[name] = endpoint
    return endpoints


def _endpoint(name: str, spec: Node, problems: Problems) -> Endpoint | None:
    if not spec.is_mapping():
        problems.add(spec, f"webhook endpoint '{name}' must be a mapping with 'url' and 'events'")
        return None
    before = len(problems)
    check_keys(spec, _KEYS, problems, what="webhook endpoint key")
    allow = spec.value.get("allow_private")
    if allow is not None and not isinstance(allow.value, bool):
        problems.add(allow, f"'allow_private' must be true or false, not {type_name(allow.value)} '{allow.value}'")
    allow_private = allow is not None and allow.value is True
    url = _url(name, spec.value.get("url"), spec, allow_private, problems)
    events = _events(name, spec.value.get("events"), spec, problems)
    if len(problems) > before or url is None:
        return None
    return Endpoint(name=name, url=url, events=events, allow_private=allow_private)


def _url(name: str, node: Node | None, spec: Node, allow_private: bool, problems: Problems) -> str | None:
    if node is None:
        problems.add(spec, f"webhook endpoint '{name}' needs 'url', e.g. url: https://crm.example.com/hooks")
        return None
    text = node.value.strip() if isinstance(node.value, str) else ""
    parts = urlsplit(text)
    try:
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok or len(text) > MAX_URL:
        problems.add(node, f"'{node.value}' is not an http or https URL, e.g. https://crm.example.com/hooks")
        return None
    if parts.username is not None or parts.password is not None:
        problems.add(node, "a webhook URL must not hold a user name or password; receivers check the signature")
        return None
    if not allow_private:
        refused = refusal_of_url(text)
        if refused is not None:
            problems.add(
                node,
                f"webhook endpoint '{name}': {refused}; only public addresses are allowed "
                "(add allow_private: true to the endpoint to send to your own network)",
            )
            return None
    return text


def _events(name: str, node: Node | None, spec: Node, problems: Problems) -> frozenset[str]:
    if node is None:
        problems.add(spec, f"webhook endpoint '{name}' needs 'events', e.g. events: [coupon.claimed]")
        return frozenset()
    items = node.value if node.is_list() else [node]
    if not items:
        problems.add(node, f"'events' of webhook endpoint '{name}' is empty; list at least one event type")
    events: set[str] = set()
    for item in items:
        word = item.value if isinstance(item.value, str) else ""
        if word == "*":
            events.update(EVENT_TYPES)
        elif word in _GROUPS:
            events.update(t for t in EVENT_TYPES if t.startswith(word[:-1]))
        elif word in EVENT_TYPES:
            events.add(word)
        else:
            hint = suggest(str(item.value), (*EVENT_TYPES, *_GROUPS)) or f" (one of {', '.join(EVENT_TYPES)})"
            problems.add(item, f"unknown event type '{item.value}'{hint}")
    return frozenset(events)
