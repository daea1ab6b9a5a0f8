"""Marketers' text templates: Jinja2 in a sandbox, rendered to plain text, cheap and bounded.

``{{ visitor.name }}さん、おかえりなさい`` works; loops, macros, includes and filters that
can build huge strings do not (they are refused when the rules are checked), so rendering
time is bounded by the template's size, and the output of each field is capped. The result
is plain text: the widget puts it into the page with ``textContent``, never as HTML.
"""

from __future__ import annotations

import math
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2.sandbox import SandboxedEnvironment, SecurityError

MAX_OUTPUT = 1000  # characters per rendered field
MAX_REPEAT = 1000  # longest string or list a template may build with * or **

ALLOWED_FILTERS = frozenset({
    "default", "d", "upper", "lower", "title", "capitalize", "trim", "truncate", "round",
    "int", "float", "string", "length", "count", "first", "last", "join", "abs", "yen",
    # Not "replace": chained, it grows text exponentially with the template's size.
})
_FORBIDDEN = {
    nodes.For: "loops", nodes.Macro: "macros", nodes.CallBlock: "call blocks", nodes.Include: "include",
    nodes.Import: "import", nodes.FromImport: "import", nodes.Extends: "extends", nodes.FilterBlock: "filter blocks",
}


class RenderError(Exception):
    pass


def _yen(value: Any) -> str:
    """¥12,800 from 12800."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return f"¥{value:,.0f}"


class _Sandbox(SandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**", "%"})

    def call_binop(self, context, operator, left, right):
        if operator == "%" and isinstance(left, str):
            raise SecurityError("string formatting with % is not allowed")
        if operator == "**":
            if not _is_number(left) or not _is_number(right) or abs(right) > 64 or (
                    abs(left) > 1 and abs(right) * math.log2(abs(left)) > 256):
                raise SecurityError("power too large")
        if operator == "*":
            if isinstance(left, (list, tuple)) or isinstance(right, (list, tuple)):
                raise SecurityError("repeating lists is not allowed")
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, str) and isinstance(times, int) and len(seq) * times > MAX_REPEAT:
                    raise SecurityError("result too long")
        return super().call_binop(context, operator, left, right)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_env = _Sandbox(undefined=StrictUndefined, autoescape=False, finalize=lambda v: "" if v is None else v)
_env.filters = {name: f for name, f in _env.filters.items() if name in ALLOWED_FILTERS}
_env.filters["yen"] = _yen
_env.globals = {}


class Template:
    """A compiled field template. Plain text without ``{{``/``{%`` skips Jinja entirely."""

    __slots__ = ("source", "_template")

    def __init__(self, source: str):
        self.source = source
        self._template = _env.from_string(source) if ("{{" in source or "{%" in source or "{#" in source) else None

    def render(self, scope: dict[str, Any]) -> str:
        if self._template is None:
            return self.source
        try:
            text = self._template.render(scope)
        except Exception as error:  # noqa: BLE001 - any template failure skips the rule, never a 500
            raise RenderError(f"{type(error).__name__}: {error}") from None
        if len(text) > MAX_OUTPUT:
            raise RenderError(f"rendered text is {len(text)} characters; the limit is {MAX_OUTPUT}")
        return text.strip()


def compile_template(source: str) -> tuple[Template | None, str | None]:
    """(template, None), or (None, why it cannot be used)."""
    try:
        tree = _env.parse(source)
    except TemplateSyntaxError as error:
        return None, f"template does not compile: {error.message} (template line {error.lineno})"
    for node_type, what in _FORBIDDEN.items():
        if tree.find(node_type) is not None:
            return None, f"template uses {what}, which rule texts do not allow"
    if tree.find(nodes.Call) is not None:
        return None, "template calls a function or method, which rule texts do not allow; use filters such as | upper"
    for node in tree.find_all(nodes.Filter):
        if node.name not in ALLOWED_FILTERS:
            return None, f"template uses filter '{node.name}', which rule texts do not allow; allowed: {', '.join(sorted(ALLOWED_FILTERS))}"
    return Template(source), None
