"""Marketers' text templates: checked against an allow-list, rendered in a bounded sandbox.

``{{ visitor.name }}さん、おかえりなさい`` works. A template may print values, test them with
`{% if %}` and name one with `{% set %}`; nothing else. Loops, macros, blocks, includes,
calls and filters outside a short list are refused when the rules are checked, and so is a
`set` built from another `set` name (``{% set a = a ~ a %}`` doubles a text at every line).
So every expression is evaluated at most once per render, and :mod:`server.rules.sandbox`
bounds each value it builds: rendering is bounded by the template's size. The output of each
field is capped too. The result is plain text: the widget puts it into the page with
``textContent``, never as HTML.
"""

from __future__ import annotations

from typing import Any

from jinja2 import TemplateSyntaxError, nodes

from server.rules.sandbox import ALLOWED_FILTERS, environment

__all__ = ["ALLOWED_FILTERS", "MAX_OUTPUT", "RenderError", "Template", "compile_template"]

MAX_OUTPUT = 1000  # characters per rendered field

# What a template may contain; any other node is refused, naming it if it is a known statement.
_ALLOWED = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.If,
    nodes.Assign,
    nodes.Name,
    nodes.Const,
    nodes.Getattr,
    nodes.Getitem,
    nodes.Slice,
    nodes.Filter,
    nodes.Test,
    nodes.CondExpr,
    nodes.Compare,
    nodes.Operand,
    nodes.BinExpr,
    nodes.UnaryExpr,
    nodes.Concat,
    nodes.List,
    nodes.Tuple,
    nodes.Dict,
    nodes.Pair,
    nodes.Keyword,
)
_NAMED = {
    nodes.For: "loops",
    nodes.Macro: "macros",
    nodes.CallBlock: "call blocks",
    nodes.Include: "include",
    nodes.Import: "import",
    nodes.FromImport: "import",
    nodes.Extends: "extends",
    nodes.FilterBlock: "filter blocks",
    nodes.With: "with blocks",
    nodes.Block: "blocks",
    nodes.AssignBlock: "set blocks ({% set %}…{% endset %})",
    nodes.Scope: "autoescape blocks",
    nodes.ScopedEvalContextModifier: "autoescape blocks",
    nodes.NSRef: "namespaces",
}
_HINT = "use {{ value }}, {% if %} and {% set name = value %}"


class RenderError(Exception):
    pass


class Template:
    """A compiled field template. Plain text without ``{{``/``{%`` skips Jinja entirely."""

    __slots__ = ("source", "_template")

    def __init__(self, source: str):
        self.source = source
        self._template = environment.from_string(source) if _is_template(source) else None

    def render(self, scope: dict[str, Any]) -> str:
        if self._template is None:
            return self.source
        pieces, length = [], 0
        try:
            # generate(), not render(): stop at the cap instead of joining whatever was produced.
            for piece in self._template.generate(scope):
                length += len(piece)
                if length > MAX_OUTPUT:
                    break
                pieces.append(piece)
        except Exception as error:  # noqa: BLE001 - any template failure skips the rule, never a 500
            raise RenderError(f"{type(error).__name__}: {error}") from None
        if length > MAX_OUTPUT:
            raise RenderError(f"rendered text is longer than {MAX_OUTPUT} characters, the limit")
        return "".join(pieces).strip()


def compile_template(source: str) -> tuple[Template | None, str | None]:
    """(template, None), or (None, why it cannot be used, with the template line)."""
    try:
        tree = environment.parse(source)
        error = _refusal(tree)
        if error is not None:
            return None, error
        return Template(source), None
    except TemplateSyntaxError as error:
        return None, f"template does not compile: {error.message} (template line {error.lineno})"
    except (RecursionError, MemoryError, SyntaxError):
        return None, "template nests too deeply; split it into simpler parts"


def _is_template(source: str) -> bool:
    return "{{" in source or "{%" in source or "{#" in source


def _refusal(tree: nodes.Template) -> str | None:
    """Why the parsed template is not allowed, or None."""
    assigned = {name for assign in tree.find_all(nodes.Assign) for name in _names(assign.target)}
    for node in _walk(tree):
        where = f"(template line {next((n.lineno for n in _walk(node) if n.lineno is not None), 1)})"
        if isinstance(node, nodes.Call):
            return f"template calls a function or method, which rule texts do not allow; use filters such as | upper {where}"
        if not isinstance(node, _ALLOWED):
            what = next((what for kind, what in _NAMED.items() if isinstance(node, kind)), type(node).__name__)
            return f"template uses {what}, which rule texts do not allow; {_HINT} {where}"
        if isinstance(node, nodes.Filter) and node.name not in ALLOWED_FILTERS:
            return (
                f"template uses filter '{node.name}', which rule texts do not allow; "
                f"allowed: {', '.join(sorted(ALLOWED_FILTERS))} {where}"
            )
        if isinstance(node, nodes.Name) and node.name == "self":
            return f"template uses 'self', which rule texts do not allow; use visitor, page, coupon and site {where}"
        if isinstance(node, nodes.Assign):
            target = ", ".join(sorted(_names(node.target)))
            used = next((name for name in sorted(_names(node.node)) if name in assigned), None)
            if used is not None:
                return (
                    f"template sets '{target}' from '{used}', a name the template sets; "
                    f"build each set value from visitor, page, coupon and site, so no text can double itself {where}"
                )
    return None


def _names(node: nodes.Node) -> set[str]:
    """The names in an expression, the expression itself included (find_all skips it)."""
    return {name.name for name in _walk(node) if isinstance(name, nodes.Name)}


def _walk(node: nodes.Node):
    """Every node in document order (parents before children)."""
    yield node
    for child in node.iter_child_nodes():
        yield from _walk(child)
