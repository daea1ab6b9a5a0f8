"""How the server logs: plain text lines (the default) or one JSON object per line (`--log-format json`).

A JSON line holds ``time`` (UTC, ISO 8601), ``level``, ``logger`` and ``message``, the
``request_id`` and ``site`` of the request being handled when there is one (set by
:mod:`server.web.request_ids` in context variables, so every line logged while handling the
request carries them, without passing them around), an ``error`` with the traceback when there is
one, and for uvicorn's access log also ``client``, ``method``, ``path`` and ``status``.
:func:`logging_config` is one ``logging.config.dictConfig`` for our loggers and uvicorn's alike,
given to uvicorn so that every worker process logs the same way.
"""

from __future__ import annotations

import json
import logging
import time
from contextvars import ContextVar

FORMATS = ("text", "json")
TEXT = "%(levelname)s %(name)s: %(message)s"

request_id: ContextVar[str | None] = ContextVar("irasshai_request_id", default=None)
request_site: ContextVar[str | None] = ContextVar("irasshai_request_site", default=None)


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (line breaks inside values are escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": _iso(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
            client, method, path, _, status = record.args
            line["message"] = f"{method} {path} {status}"
            line.update(client=client, method=method, path=path, status=status)
        else:
            line["message"] = record.getMessage()
        identifier, site = request_id.get(), request_site.get()
        if identifier is not None:
            line["request_id"] = identifier
        if site is not None:
            line["site"] = site
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def _iso(created: float) -> str:
    seconds = int(created)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{int((created - seconds) * 1000):03d}Z"


def logging_config(log_format: str, level: str) -> dict:
    """The dictConfig of every logger: ours (the root's handler) and uvicorn's, in `log_format`."""
    if log_format == "json":
        formatters = {name: {"()": "server.logs.JsonFormatter"} for name in ("irasshai", "default", "access")}
    else:  # uvicorn's own look for its lines, as before
        formatters = {
            "irasshai": {"format": TEXT},
            "default": {"()": "uvicorn.logging.DefaultFormatter", "fmt": "%(levelprefix)s %(message)s"},
            "access": {
                "()": "uvicorn.logging.AccessFormatter",
                "fmt": '%(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s',
            },
        }
    stream = {"class": "logging.StreamHandler", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": formatters,
        "handlers": {
            "irasshai": {**stream, "formatter": "irasshai"},
            "default": {**stream, "formatter": "default"},
            "access": {**stream, "formatter": "access", "stream": "ext://sys.stdout"},
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": level.upper(), "propagate": False},
            "uvicorn.error": {"level": level.upper()},
            "uvicorn.access": {"handlers": ["access"], "level": level.upper(), "propagate": False},
        },
        "root": {"handlers": ["irasshai"], "level": level.upper()},
    }
