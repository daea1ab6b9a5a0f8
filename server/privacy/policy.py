"""A site's privacy settings, ``privacy:`` in ``rules/<site>/site.yaml``, and what they refuse (docs/privacy.md).

```yaml
privacy:
  gpc: honour          # Global Privacy Control (Sec-GPC: 1): honour (default) or ignore
  dnt: honour          # Do Not Track (DNT: 1): honour, or ignore (default)
  consent: required    # nothing stored until irasshai('consent', true): required, or not_required (default)
```

A request the site's settings say must not be tracked stores nothing and is answered with a
``stop`` reason, so that the widget clears what it keeps and sends nothing more on that page
(docs/snippet.md). Parsing never raises: mistakes go into the Problems as ``path:line:col: message``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from server.yamlsource import Node, Problems, check_keys, type_name, written

_CHOICES = {"gpc": ("honour", "ignore"), "dnt": ("honour", "ignore"), "consent": ("required", "not_required")}


@dataclass(frozen=True)
class Privacy:
    gpc: bool = True  # honour the browser's Global Privacy Control
    dnt: bool = False  # honour Do Not Track (opt-in: most browsers dropped it, some still send it)
    consent: bool = False  # nothing stored until the visitor consents


def parse_privacy(node: Node | None, problems: Problems) -> Privacy:
    """The site's privacy settings; the defaults where site.yaml has no `privacy:` (or a mistake, reported)."""
    if node is None:
        return Privacy()
    if not node.is_mapping():
        problems.add(node, f"'privacy' must be a mapping with 'gpc', 'dnt' and 'consent', not {type_name(node.value)}")
        return Privacy()
    check_keys(node, tuple(_CHOICES), problems, what="privacy setting")
    chosen = {}
    for name, choices in _CHOICES.items():
        found = node.value.get(name)
        if found is None:
            continue
        if found.value not in choices:
            problems.add(found, f"privacy '{name}' must be {' or '.join(choices)}, not '{written(found)}'")
            continue
        chosen[name] = found.value in ("honour", "required")
    return Privacy(**chosen)


def stop_reason(privacy: Privacy, headers: Mapping[str, str], consented: bool) -> str | None:
    """Why this request must store nothing: "gpc", "dnt" or "consent"; None when it may be stored."""
    if privacy.gpc and headers.get("sec-gpc", "").strip() == "1":
        return "gpc"
    if privacy.dnt and headers.get("dnt", "").strip() == "1":
        return "dnt"
    if privacy.consent and not consented:
        return "consent"
    return None


STOP_MESSAGES = {
    "gpc": "nothing stored: the browser asks not to be tracked (Global Privacy Control)",
    "dnt": "nothing stored: the browser asks not to be tracked (Do Not Track), which this site honours",
    "consent": "nothing stored: this site needs the visitor's consent first; call irasshai('consent', true)",
}
