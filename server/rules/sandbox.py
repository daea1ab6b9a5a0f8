"""The Jinja2 environment that renders marketers' texts: sandboxed, data only, every value bounded.

Two guarantees, whatever a rule author writes (the checker in :mod:`server.rules.templates`
keeps the statements to `{{ }}`, `{% if %}` and `{% set %}`; this module bounds what is left):

- **Data only.** ``visitor.items`` is the visitor's attribute ``items`` (or undefined), never
  the dict's method: a dot or a subscript reads a mapping's keys and a list's or text's
  positions, nothing else. No method, class or function can be reached, so none can be shown.
- **Bounded.** Every value a template builds — with an operator, ``~``, ``join`` or ``string`` —
  is checked against a size before or right after it is built: texts and lists up to
  MAX_VALUE, numbers up to MAX_BITS. Without loops, and with `set` unable to build on itself,
  a render does at most one such step per operator in the template.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from jinja2 import StrictUndefined, Undefined, pass_environment
from jinja2.compiler import CodeGenerator
from jinja2.filters import do_round, make_attrgetter
from jinja2.sandbox import SandboxedEnvironment, SecurityError

MAX_VALUE = 1000  # longest text (characters) or list (items) a template may build
MAX_BITS = 256  # largest number a template may build, in bits (77 digits)
MAX_ROUND_DIGITS = 20  # `round(precision)` beyond this builds 10**precision

ALLOWED_FILTERS = frozenset(
    {
        "default",
        "d",
        "upper",
        "lower",
        "title",
        "capitalize",
        "trim",
        "truncate",
        "round",
        "int",
        "float",
        "string",
        "length",
        "count",
        "first",
        "last",
        "join",
        "abs",
        "yen",
        # Not "replace", "center", "indent", "wordwrap", "format": each builds text far longer
        # than its input from a short argument.
    }
)
PLAIN_DATA = (str, int, float, list, tuple, dict)


def bounded(value: Any) -> Any:
    """The value, or SecurityError if it is a text, list or number larger than a template may build."""
    if isinstance(value, (str, list, tuple)) and len(value) > MAX_VALUE:
        raise SecurityError(f"result too long ({len(value)}; the limit is {MAX_VALUE})")
    if isinstance(value, int) and value.bit_length() > MAX_BITS:
        raise SecurityError(f"number too large (over {MAX_BITS} bits)")
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _yen(value: Any) -> str:
    """¥12,800 from 12800."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return f"¥{value:,.0f}"


@pass_environment
def _join(environment, value: Any, separator: str = "", attribute: Any = None) -> str:
    """Jinja's join, refused before it builds a text over MAX_VALUE (a long separator repeats)."""
    if attribute is not None:
        value = map(make_attrgetter(environment, attribute), value)
    separator, parts, length = str(separator), [], 0
    for item in value:
        text = str(item)
        length += len(text) + (len(separator) if parts else 0)
        if length > MAX_VALUE:
            raise SecurityError(f"result too long (over {MAX_VALUE})")
        parts.append(text)
    return separator.join(parts)


def _round(value: Any, precision: Any = 0, method: str = "common") -> float:
    """Jinja's round; a huge precision would build 10**precision, so it is refused."""
    if not isinstance(precision, int) or abs(precision) > MAX_ROUND_DIGITS:
        raise SecurityError(f"round takes a precision from -{MAX_ROUND_DIGITS} to {MAX_ROUND_DIGITS}")
    return do_round(value, precision, method)


def _string(value: Any) -> str:
    """Jinja's string: a list or mapping written out is a text the template builds, so it is capped."""
    return value if isinstance(value, str) else bounded(str(value))


def _finalize(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (*PLAIN_DATA, Undefined)):
        return value
    raise SecurityError(f"a template cannot show a {type(value).__name__}")


class _CodeGenerator(CodeGenerator):
    def visit_Concat(self, node, frame) -> None:
        # `a ~ b` through environment.concat, so that it is bounded like `a + b`.
        self.write("environment.concat((")
        for argument in node.nodes:
            self.visit(argument, frame)
            self.write(", ")
        self.write("))")


class Sandbox(SandboxedEnvironment):
    code_generator_class = _CodeGenerator
    # All of them, so that none is folded at compile time and each result passes bounded().
    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})

    def call_binop(self, context, operator, left, right):
        if operator == "%" and isinstance(left, str):
            raise SecurityError("string formatting with % is not allowed")
        if operator == "**" and (
            not _is_number(left)
            or not _is_number(right)
            or abs(right) > 64
            or (abs(left) > 1 and abs(right) * math.log2(abs(left)) > MAX_BITS)
        ):
            raise SecurityError("power too large")
        if operator == "*":
            if isinstance(left, (list, tuple)) or isinstance(right, (list, tuple)):
                raise SecurityError("repeating lists is not allowed")
            for sequence, times in ((left, right), (right, left)):
                if isinstance(sequence, str) and isinstance(times, int) and len(sequence) * times > MAX_VALUE:
                    raise SecurityError(f"result too long (the limit is {MAX_VALUE})")
        return bounded(super().call_binop(context, operator, left, right))

    def concat(self, values: tuple) -> str:
        texts, length = [], 0
        for value in values:
            texts.append(str(value))  # StrictUndefined raises here, as in Jinja's own join
            length += len(texts[-1])
            if length > MAX_VALUE:
                raise SecurityError(f"result too long (over {MAX_VALUE})")
        return "".join(texts)

    def getattr(self, obj: Any, attribute: str) -> Any:
        """`visitor.items`: the key of a mapping, never a Python attribute or method."""
        return self.getitem(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(obj, Undefined):
            return super().getitem(obj, argument)  # raises the usual "has no attribute" error
        if isinstance(obj, Mapping) or (isinstance(obj, (list, tuple, str)) and isinstance(argument, (int, slice))):
            try:
                return obj[argument]
            except (LookupError, TypeError, ValueError):
                pass
        return self.undefined(obj=obj, name=argument)


environment = Sandbox(undefined=StrictUndefined, autoescape=False, finalize=_finalize)
environment.filters = {name: f for name, f in environment.filters.items() if name in ALLOWED_FILTERS}
environment.filters.update(yen=_yen, join=_join, round=_round, string=_string)
environment.globals = {}
