"""What the console's results answer with: the admin's site, the date range asked for, and a
report as JSON or one of its tables as CSV.

- :func:`admin_site`: the JSON API's guard: signed in (401), on the site (403), an admin (403),
  a site the server has (404).
- :func:`day_range`: ``from=YYYY-MM-DD&to=YYYY-MM-DD`` or ``days=N`` (default the last
  7 days, today included, in the site's timezone); at most 400 days. Read by
  :func:`server.stats.day_range`, as the stats API reads it.
- :func:`report_reply`: the report as JSON, with the range under "range"; with
  ``format=csv&table=NAME`` that table as a CSV attachment (UTF-8 with a byte order mark,
  server/console/tables.py). A mistake in the query is one line under "error", 400.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from server.console.auth import operator_of, require_admin, require_site
from server.console.tables import TableError, csv_text, table_of
from server.sites import Site
from server.stats import RangeError
from server.stats import day_range as stats_day_range
from server.web.errors import Refusal
from server.web.replies import json_reply
from server.web.services import services

FILE_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


async def admin_site(request: Request) -> Site:
    operator = await operator_of(request)
    key = request.path_params["site"]
    require_site(operator, key)
    require_admin(operator)
    site = services(request).live.config.sites.get(key)
    if site is None:
        raise Refusal(f"unknown site '{key[:64]}'", 404)
    return site


def day_range(query: Mapping[str, str], site: Site, now: float) -> list[str]:
    """The days asked for, oldest first (server/stats.py); Refusal 400 naming the parameter when wrong."""
    try:
        return stats_day_range(query, site, now)
    except RangeError as error:
        raise Refusal(str(error), 400) from None


def report_reply(request: Request, report: dict[str, Any], name: str, days: list[str]) -> Response:
    """`report` as JSON, or one of its tables as CSV (`name` starts the file's name)."""
    wanted = request.query_params.get("format", "json")
    if wanted == "json":
        return json_reply({**report, "range": {"from": days[0], "to": days[-1]}})
    if wanted != "csv":
        raise Refusal(f"format has value '{wanted[:20]}'; expected json or csv", 400)
    table_name = request.query_params.get("table", "")
    if not table_name:
        raise Refusal("format=csv needs table=NAME, the table to download", 400)
    try:
        table = table_of(report, table_name)
    except TableError as error:
        raise Refusal(str(error), 404) from None
    filename = FILE_SAFE.sub("_", f"{name}-{table_name}-{days[0]}-{days[-1]}.csv")
    return Response(
        csv_text(table).encode(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )
