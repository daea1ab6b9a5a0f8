"""Messages for people stay on one line and read as they are written.

A refusal or a mistake often quotes what was sent or written (a field name, a value), and
that may hold anything: a line break would split a `path:line:col: message` line or a log
line in two, a control character would reach the terminal, a bidi override would reorder
the text around it. Those are shown escaped, as Python writes them (``\\n``, ``\\u202e``), and
so is a lone surrogate, which no UTF-8 output could print.
"""

from __future__ import annotations

import re

# C0 and C1 controls (tab included), line and paragraph separators, bidi marks, overrides
# and isolates, and lone surrogates.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def one_line(text: str) -> str:
    """`text` with every character that could break or reorder a line escaped."""
    return _UNSAFE.sub(lambda match: match.group(0).encode("unicode_escape", "backslashreplace").decode(), text)
