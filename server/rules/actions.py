"""Actions under ``show:``: a chat prompt, a coupon offer or a message, compiled and rendered.

Text fields are templates (see :mod:`server.rules.templates`); URLs are checked at load
time and only http(s) URLs or site paths are allowed, so a rule can never make the widget
follow a ``javascript:`` link.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from server.rules.templates import Template, compile_template
from server.sites import PLACEMENTS
from server.yamlsource import Node, Problems, check_keys, type_name, written

ACTION_TYPES = ("chat", "coupon", "message")
STYLES = ("modal", "banner", "toast")
MAX_TEXT = 1000

# For each action type: key -> "text" (a template), "url", "style", "placement", "pool", or a nested
# mapping of the same. A button with a url is a link; without one it closes the engagement
# (a chat's hands over to the chat).
SPEC: dict[str, dict[str, Any]] = {
    "chat": {
        "text": "text",
        "agent": {"name": "text", "avatar": "url"},
        "button": {"label": "text", "url": "url"},
        "placement": "placement",
    },
    "coupon": {
        "pool": "pool",
        "title": "text",
        "text": "text",
        "button": {"label": "text", "url": "url"},
        "placement": "placement",
    },
    "message": {
        "title": "text",
        "text": "text",
        "style": "style",
        "button": {"label": "text", "url": "url"},
        "image": "url",
        "placement": "placement",
    },
}
REQUIRED = {"chat": ("text",), "coupon": ("pool",), "message": ()}


@dataclass(frozen=True)
class Action:
    type: str  # chat, coupon or message: the widget's `type`
    templates: dict[tuple[str, ...], Template]  # ("agent", "name") -> template
    static: dict[tuple[str, ...], Any]  # URLs, the style, the pool
    pool: str | None = None

    def render(self, scope: dict[str, Any]) -> dict[str, Any]:
        """The action for the widget, texts rendered; RenderError if a template fails."""
        out: dict[str, Any] = {"type": self.type}
        for path, value in self.static.items():
            _put(out, path, value)
        for path, template in self.templates.items():
            _put(out, path, template.render(scope))
        return out

    def texts(self) -> list[Template]:
        return list(self.templates.values())


def _put(out: dict, path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        out = out.setdefault(key, {})
    out[path[-1]] = value


def check_url(text: str) -> str | None:
    """Why `text` is not an allowed link, or None. Allowed: http(s) URLs and site paths."""
    if text.startswith("/") and not text.startswith("//"):
        return None
    parts = urlsplit(text)
    if parts.scheme in ("http", "https") and parts.netloc:
        return None
    return f"'{text}' is not an allowed link; use an https:// URL or a path such as /pricing"


def compile_action(node: Node | None, parent: Node, site_pools, problems: Problems, rule: str) -> Action | None:
    if node is None:
        problems.add(parent, "rule needs 'show' with one of: chat, coupon, message", rule)
        return None
    if not node.is_mapping():
        problems.add(
            node, f"'show' must be a mapping with one of: chat, coupon, message; not {type_name(node.value)}", rule
        )
        return None
    check_keys(node, ACTION_TYPES, problems, rule, what="action")
    found = [k for k in ACTION_TYPES if k in node.value]
    if len(found) != 1:
        if len(found) > 1:
            problems.add(node, f"'show' takes exactly one action; found {' and '.join(found)}", rule)
        elif not [k for k in node.value if k not in ACTION_TYPES]:
            problems.add(node, "'show' needs one of: chat, coupon, message", rule)
        return None
    action_type = found[0]
    body = node.value[action_type]
    if action_type == "chat" and isinstance(body.value, str):
        body = Node({"text": body}, body.file, body.line, body.col)  # `chat: こんにちは` is short for text
    if not body.is_mapping():
        problems.add(body, f"'{action_type}' must be a mapping, not {type_name(body.value)}", rule)
        return None
    templates: dict = {}
    static: dict = {}
    before = len(problems)
    _walk(body, SPEC[action_type], (), templates, static, site_pools, problems, rule)
    for key in REQUIRED[action_type]:
        if key not in body.value:
            problems.add(body, f"'{action_type}' needs '{key}'", rule)
    if action_type == "message" and "title" not in body.value and "text" not in body.value:
        problems.add(body, "'message' needs a 'title' or a 'text'", rule)
    if action_type == "message":
        static.setdefault(("style",), "toast")
    if len(problems) > before:
        return None
    return Action(action_type, templates, static, pool=static.get(("pool",)))


def _walk(
    node: Node, spec: dict, prefix: tuple, templates: dict, static: dict, pools, problems: Problems, rule: str
) -> None:
    check_keys(node, spec, problems, rule)
    for key, child in node.value.items():
        shape = spec.get(key)
        path = prefix + (key,)
        if shape is None:
            continue
        if isinstance(shape, dict):
            if key == "button" and isinstance(child.value, str):
                child = Node({"label": child}, child.file, child.line, child.col)  # `button: 相談する`
            if not child.is_mapping():
                problems.add(child, f"'{key}' must be a mapping with {', '.join(shape)}", rule)
                continue
            _walk(child, shape, path, templates, static, pools, problems, rule)
        elif not isinstance(child.value, (str, int, float)) or isinstance(child.value, bool):
            problems.add(child, f"'{key}' must be text, not {type_name(child.value)}", rule)
        elif shape == "text":
            text = str(child.value)
            template, error = (
                compile_template(text) if len(text) <= MAX_TEXT else (None, f"text over {MAX_TEXT} characters")
            )
            if error:
                problems.add(child, error, rule)
            else:
                templates[path] = template
        elif shape == "url":
            error = check_url(written(child, limit=2**31))
            if error:
                problems.add(child, error, rule)
            else:
                static[path] = str(child.value)
        elif shape == "style":
            if child.value not in STYLES:
                problems.add(child, f"style '{written(child)}' is not one of: {', '.join(STYLES)}", rule)
            else:
                static[path] = child.value
        elif shape == "placement":
            if child.value not in PLACEMENTS:
                problems.add(child, f"placement '{written(child)}' is not one of: {', '.join(PLACEMENTS)}", rule)
            else:
                static[path] = child.value
        elif shape == "pool":
            if child.value not in pools:
                known = ", ".join(sorted(pools)) or "none; declare pools under 'coupons' in site.yaml"
                problems.add(child, f"unknown coupon pool '{written(child)}' (pools: {known})", rule)
            else:
                static[path] = child.value
