"""A report's tables as CSV, for the console's downloads (docs/console.md, "CSV").

Every report the console shows carries ``"tables": {name: {"columns": [...], "rows": [[...]]}}``;
any one of them downloads as CSV the same way. The text starts with a byte order mark so that
Excel (Japanese Windows included) opens it as UTF-8, and lines end with CRLF as RFC 4180 says.
A text cell that a spreadsheet would run as a formula (starting with =, +, -, @, a tab or a
carriage return: a page path or a referrer is anyone's text) is prefixed with ' so it is shown,
never run. Numbers are written as numbers.
"""

from __future__ import annotations

import csv
import io
import math
from typing import Any

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class TableError(Exception):
    """The report has no such table, or it is not a table; the message is one line."""


def table_of(report: dict[str, Any], name: str) -> dict[str, list]:
    tables = report.get("tables") if isinstance(report, dict) else None
    if not isinstance(tables, dict) or not tables:
        raise TableError("this report has no tables")
    table = tables.get(name)
    if table is None:
        raise TableError(f"no table '{name[:64]}' in this report; its tables are: {', '.join(tables)}")
    if not isinstance(table, dict) or not isinstance(table.get("columns"), list):
        raise TableError(f"table '{name[:64]}' has no columns")
    return table


def csv_text(table: dict[str, list]) -> str:
    """The table as CSV text: the byte order mark, its columns' names, then one line per row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_cell(column) for column in table["columns"]])
    for row in table.get("rows") or ():
        writer.writerow([_cell(value) for value in row])
    return BOM + out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "" if not math.isfinite(value) else f"{value:.15g}"
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
