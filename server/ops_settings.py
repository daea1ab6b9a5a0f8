"""The settings of running the server (log level and format, metrics, shutdown): a group of the one settings table.

:mod:`server.settings` puts these rows first in its table, its struct inherits their fields
from :class:`OpsSettings`, and it calls :func:`check` when it validates; they live here so that
module does not grow. docs/operations.md tells how they are used.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import msgspec

LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_FORMATS = ("text", "json")
MIN_METRICS_TOKEN = 16

# (name, default, help), as server.settings.Setting takes them.
ROWS: tuple[tuple[str, object, str], ...] = (
    ("log_level", "info", "Log level: debug, info, warning or error."),
    (
        "log_format",
        "text",
        "Log lines as `text` or `json` (one JSON object per line with time, level, logger, message, "
        "request_id and site; uvicorn's access log too). docs/operations.md, Logs.",
    ),
    (
        "metrics_token",
        "",
        "Bearer token that a Prometheus scrape of `/metrics` on the server's port must send "
        "(`Authorization: Bearer …`), at least 16 characters. Empty: `/metrics` on the server's port "
        "answers 404. docs/operations.md, Metrics.",
    ),
    (
        "metrics_port",
        0,
        "Port of a listener of its own that serves the metrics without a token, on `metrics_host`. 0: none.",
    ),
    (
        "metrics_host",
        "127.0.0.1",
        "Address of the metrics listener (`metrics_port`); keep it private (loopback or an internal network).",
    ),
    (
        "shutdown_timeout",
        30.0,
        "Seconds a stopping server (SIGTERM) gives the requests in flight to finish before it cancels "
        "them. Live streams are ended at once, with a hint to reconnect.",
    ),
)


class OpsSettings(msgspec.Struct, frozen=True, kw_only=True):
    """The fields of these rows, which :class:`server.settings.Settings` inherits (so they come first)."""

    log_level: str = "info"
    log_format: str = "text"
    metrics_token: str = ""
    metrics_port: int = 0
    metrics_host: str = "127.0.0.1"
    shutdown_timeout: float = 30.0


def problem(values: dict, source: Callable[[str], str]) -> str | None:
    """The one line to show when a value of this group is not usable, else None; `values` is
    normalised in place. `source(name)` names the variable or flag the value came from."""
    try:
        _check(values, source)
    except ValueError as error:
        return str(error)
    return None


def _check(values: dict, source: Callable[[str], str]) -> None:
    log_level = str(values["log_level"]).lower()
    if log_level not in LOG_LEVELS:
        raise ValueError(
            f"setting {source('log_level')} has value {values['log_level']!r}; expected one of {', '.join(LOG_LEVELS)}"
        )
    values["log_level"] = log_level
    log_format = str(values["log_format"]).strip().lower()
    if log_format not in LOG_FORMATS:
        raise ValueError(
            f"setting {source('log_format')} has value {values['log_format']!r}; expected {' or '.join(LOG_FORMATS)}"
        )
    values["log_format"] = log_format
    token = str(values["metrics_token"])
    if token and (len(token) < MIN_METRICS_TOKEN or not re.fullmatch(r"[\x21-\x7e]+", token)):
        # Never the token itself in the message.
        raise ValueError(
            f"setting {source('metrics_token')} has a value that is not {MIN_METRICS_TOKEN} or more "
            "printable characters without spaces; make one with: "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    if not 0 <= int(values["metrics_port"]) <= 65535:
        raise ValueError(
            f"setting {source('metrics_port')} has value {values['metrics_port']!r}; "
            "expected 0 (no metrics listener) or a port up to 65535"
        )
    if not 0 < float(values["shutdown_timeout"]) < float("inf"):
        raise ValueError(
            f"setting {source('shutdown_timeout')} has value {values['shutdown_timeout']!r}; "
            "expected a positive number of seconds"
        )
