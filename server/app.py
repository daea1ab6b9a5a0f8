"""The ASGI application: routes, shared state and start-up; no business logic lives here."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

from server import metrics
from server.address_limits import AddressLimits
from server.chat.bot import SiteBots
from server.chat.model import Bot
from server.chat.proactive import Listening
from server.chat.service import ChatService
from server.chat.tickets import Tickets
from server.chat.wakeups import Wakeups
from server.config import Config, Live, load_config
from server.console.accounts import Accounts
from server.console.assignment import RoundRobin
from server.console.auth import Console
from server.console.presence import Presence
from server.console.sessions import Sessions
from server.console.visitors import LiveVisitors
from server.console.web import inbox_api, insights_api, insights_pages, ops_stream
from server.console.web import pages as console_pages
from server.console.web import visitors_api as console_visitors
from server.console.web import webhooks as console_webhooks
from server.console.web.headers import ConsoleHeaders
from server.identity import VisitorIds
from server.ingest import Ingest
from server.insights.traffic import Traffic
from server.line.api import LineApi
from server.line.link import Links
from server.line.push import LinePush
from server.line.receive import LineReceiver
from server.ratelimits import RateLimits
from server.ratelog import RateLimitedLog
from server.reloader import Reloader, snapshot
from server.settings import Settings
from server.store.base import Store, StoreUnavailable
from server.store.memory import MemoryStore
from server.store.timed import TimedStore
from server.store.visitor_cache import VisitorCache
from server.web import chat, conversations, coupons, errors, events, health, line, privacy, stats, stream
from server.web import metrics as metrics_endpoint
from server.web.request_ids import RequestIds
from server.web.services import Services
from server.web.widget import Asset, asset_endpoint, load_assets
from server.webhooks.emit import Webhooks
from server.webhooks.send import Sender
from server.webhooks.worker import Worker

log = logging.getLogger("irasshai")


class ConfigError(Exception):
    """The rules folder has problems; `lines` holds one `path:line:col: message` each."""

    def __init__(self, lines: list[str]):
        super().__init__("\n".join(lines))
        self.lines = lines


def make_store(settings: Settings) -> Store:
    if settings.redis_url:
        from server.store.redis import RedisStore

        return RedisStore(
            settings.redis_url,
            max_connections=settings.redis_max_connections,
            pool_timeout=settings.redis_pool_timeout,
            timeout=settings.redis_timeout,
        )
    return MemoryStore()


def create_app(
    settings: Settings,
    *,
    config: Config | None = None,
    store: Store | None = None,
    assets: dict[str, Asset] | None = None,
    clock: Callable[[], float] = time.time,
    reload: bool = True,
    transform: Callable[[Config], Config] | None = None,
    bot: Bot | None = None,
) -> Starlette:
    """The server. Rules come from `config` or `settings.rules_dir`, and (with `reload`) are
    reloaded from `settings.rules_dir` when it changes, passed through `transform` if given."""
    seen = snapshot(Path(settings.rules_dir))  # before loading: an edit from now on is noticed
    if config is None:
        config, problems = load_config(settings.rules_dir)
        if config is None:
            raise ConfigError(problems.lines())
        if transform is not None:
            config = transform(config)
    store = store or make_store(settings)
    live = Live(config)

    async def seed_pools(config: Config) -> None:
        try:
            await app.state.services.ingest.coupons.seed(config.sites)
        except StoreUnavailable as error:
            log.warning("coupon codes not loaded into the store: %s", error)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        await seed_pools(live.config)
        traffic.start()
        addresses.start()
        watcher = None
        if reload:
            reloader = Reloader(settings.rules_dir, live, settings.reload_interval, transform, seed_pools, seen)
            watcher = asyncio.create_task(reloader.run())
        for endpoint in deliveries.missing_secrets():
            log.warning(
                "webhook endpoint %s has no secret in IRASSHAI_WEBHOOK_SECRETS: nothing is sent to it", endpoint
            )
        deliveries.start()  # webhooks, off every request's path
        line_push.start()  # replies to LINE users, likewise
        try:
            with stream.ended_by_exit_signals(wakeups):
                yield
        finally:
            if watcher is not None:
                watcher.cancel()
            await deliveries.close()  # what they were sending is released for another process
            await line_push.close()
            await wakeups.close()
            await traffic.close()  # the counts buffered since the last flush, before the store goes
            await addresses.close()
            await line_receiver.close()
            line_api.close()
            await store.close()
            metrics.process_exited(os.getpid())  # its open streams no longer count (--workers)

    app = Starlette(
        routes=[
            # The event route first: it is the hot path, and routes are tried in order.
            Route("/v1/sites/{site}/events", events.post_events, methods=["POST"]),
            Route("/v1/sites/{site}/events", events.preflight, methods=["OPTIONS"]),
            Route("/v1/sites/{site}/chat", chat.post_chat, methods=["POST"]),
            Route("/v1/sites/{site}/chat", events.preflight, methods=["OPTIONS"]),
            Route("/v1/sites/{site}/stream", stream.get_stream, methods=["GET"]),
            Route("/v1/sites/{site}/line/webhook", line.post_webhook, methods=["POST"]),
            Route("/v1/sites/{site}/line/link", line.post_link, methods=["POST"]),
            Route("/v1/sites/{site}/line/link", events.preflight, methods=["OPTIONS"]),
            Route("/v1/sites/{site}/forget", privacy.forget, methods=["POST"]),
            Route("/v1/sites/{site}/forget", events.preflight, methods=["OPTIONS"]),
            Route("/v1/sites/{site}/privacy/visitors/{visitor}", privacy.visitor_data, methods=["GET", "DELETE"]),
            Route("/v1/sites/{site}/privacy/customers/{customer}", privacy.customer_data, methods=["GET", "DELETE"]),
            *conversations.ROUTES,
            Route("/v1/coupons/redeem", coupons.redeem, methods=["POST"]),
            Route("/v1/sites/{site}/stats", stats.get_stats, methods=["GET"]),
            Route("/v1/sites/{site}/stats/rules/{rule}", stats.get_rule_stats, methods=["GET"]),
            Route("/v1/sites/{site}/stats/overview", stats.get_overview_stats, methods=["GET"]),
            *(
                Route("/" + name, asset_endpoint(asset), methods=["GET", "HEAD"])
                for name, asset in (assets or load_assets()).items()
            ),
            Route("/healthz", health.healthz),
            Route("/readyz", health.readyz),
            Route("/metrics", metrics_endpoint.get_metrics, methods=["GET"]),
            *console_pages.ROUTES,
            *console_visitors.ROUTES,
            *inbox_api.ROUTES,
            *insights_pages.ROUTES,
            *insights_api.ROUTES,
            *console_webhooks.ROUTES,
            Route("/console/sites/{site}/stream", ops_stream.get_stream, methods=["GET"]),
        ],
        middleware=[Middleware(RequestIds), Middleware(ConsoleHeaders)],
        exception_handlers=errors.HANDLERS,
        lifespan=lifespan,
    )
    # Starlette would answer "/v1/coupons/redeem/" with a redirect to a URL built from the
    # request's Host header; an API path with a trailing slash is simply not found.
    app.router.redirect_slashes = False
    # The event path's own dispatch in front of the router (server/web/events.py): inside the app,
    # so its middleware and exception handlers apply as to any route.
    app.router.middleware_stack = events.EventsPath(app.router.middleware_stack)
    tickets = Tickets(settings.secret_key, settings.ticket_ttl, clock)
    app.state.console = Console(Accounts(store), Sessions(store, settings.secret_key, settings.console_idle, clock))
    wakeups = Wakeups(store)
    presence = Presence(store, clock)
    live_visitors = LiveVisitors(store, clock)
    traffic = Traffic(store, settings.traffic_flush_interval, clock)
    webhooks = Webhooks(store, lambda: live.config.sites, clock)
    deliveries = Worker(
        webhooks, Sender(settings.webhook_timeout), settings.webhook_keys(), settings.webhook_backoff, clock
    )
    chat_service = ChatService(
        store,
        clock,
        bot or SiteBots(lambda: live.config.faqs),
        settings.chat_messages_per_minute,
        presence=presence,
        assigner=RoundRobin(),
        webhooks=webhooks,
    )
    line_api = LineApi(settings.line_api)
    line_tokens = settings.line_tokens_by_site()
    line_push = LinePush(line_api, store, line_tokens, chat_service.note, lambda: live.config.sites, clock)
    chat_service.outbound["line"] = line_push
    links = Links(chat_service, line_api, line_tokens, settings.identity_secrets_by_site(), settings.line_access, clock)
    line_receiver = LineReceiver(chat_service, line_api, settings.line_secrets_by_site(), line_tokens, links, clock)
    event_path_store = TimedStore(store)  # its calls measured for /metrics
    addresses = AddressLimits(store, settings.events_per_address_per_minute, settings.address_flush_interval, clock)
    limits = RateLimits(
        event_path_store,
        settings.new_visitors_per_minute,
        settings.new_visitors_per_hour,
        settings.codes_per_day,
        settings.events_per_visitor_per_minute,
        addresses,
    )
    app.state.services = Services(
        settings=settings,
        live=live,
        store=store,
        ingest=Ingest(
            event_path_store,
            VisitorIds(settings.secret_key),
            settings.session_timeout,
            clock,
            limits,
            tickets,
            identity_secrets=settings.identity_secrets_by_site(),
            live=live_visitors,
            listening=Listening(store, clock),
            traffic=traffic,
            webhooks=webhooks,
            # In memory the store is this process already: a cache would hold every state twice.
            cache=VisitorCache(settings.visitor_cache_mb * 2**20)
            if settings.visitor_cache_mb and not isinstance(store, MemoryStore)
            else None,
        ),
        clock=clock,
        site_secrets=settings.secrets_by_site(),
        trusted_proxies=settings.proxy_networks(),
        repeating=RateLimitedLog(logging.getLogger("irasshai.web"), clock=clock),
        chat=chat_service,
        tickets=tickets,
        wakeups=wakeups,
        presence=presence,
        live_visitors=live_visitors,
        webhooks=webhooks,
        line=line_receiver,
    )
    return app
