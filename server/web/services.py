"""What the endpoints share, built once by ``create_app`` and typed, instead of a grab-bag of
``app.state`` attributes: an endpoint reaches it with ``services(request)``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from starlette.requests import Request

from server.chat.service import ChatService
from server.chat.tickets import Tickets
from server.chat.wakeups import Wakeups
from server.config import Live
from server.console.presence import Presence
from server.console.visitors import LiveVisitors
from server.ingest import Ingest
from server.line.receive import LineReceiver
from server.ratelog import RateLimitedLog
from server.settings import Settings
from server.store.base import Store
from server.web.address import Network
from server.webhooks.emit import Webhooks


@dataclass(frozen=True)
class Services:
    settings: Settings
    live: Live  # the rules and sites in force; swapped whole on reload
    store: Store
    ingest: Ingest
    clock: Callable[[], float]
    site_secrets: Mapping[str, str]  # site -> secret of the server-to-server API
    trusted_proxies: tuple[Network, ...]  # whose X-Forwarded-For is believed
    repeating: RateLimitedLog  # warnings that repeat on every request (an outage, a flood): one line per few seconds
    chat: ChatService
    tickets: Tickets  # passes to the live channel, handed out in events replies
    wakeups: Wakeups  # this process's one subscription to wake-ups, fanned out to its streams
    presence: Presence  # which operators are online on the console, per site
    live_visitors: LiveVisitors  # who is on the shop now, per site
    webhooks: Webhooks  # events out to the shop's systems (docs/webhooks.md)
    line: LineReceiver  # LINE's webhook events into conversations; its secrets, tokens and account links


def services(request: Request) -> Services:
    return request.app.state.services
