"""Every setting Irasshai reads, in one table, read once into one frozen struct.

No other module reads ``os.environ``: the CLI calls :func:`load` with the
environment (tests pass their own mapping) and hands the result to
``create_app(settings)``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass

import msgspec

from server import ops_settings, redis_urls
from server.ops_settings import OpsSettings
from server.setting_values import SettingsError, parse_networks, parse_site_secrets, parse_webhook_secrets


@dataclass(frozen=True)
class Setting:
    name: str  # attribute on Settings; the variable is IRASSHAI_<NAME>
    default: object
    help: str

    @property
    def env(self) -> str:
        return "IRASSHAI_" + self.name.upper()


SETTINGS: tuple[Setting, ...] = (
    *(Setting(*row) for row in ops_settings.ROWS),  # logs, metrics, shutdown: first, as OpsSettings' fields are
    Setting(
        "secret_key",
        "",
        "Key that signs visitor ids. Required by `serve`; keep it secret and stable "
        "(changing it gives every visitor a new id). `demo` makes one up.",
    ),
    Setting("rules_dir", "rules", "Folder with one sub-folder per site (`rules/<site>/site.yaml` and rule files)."),
    Setting(
        "redis_url",
        "",
        "Redis URL, e.g. `redis://localhost:6379/0`, or a Redis Cluster's nodes, e.g. "
        "`redis+cluster://10.0.0.1:6379,10.0.0.2:6379` (docs/deployment.md). Empty: the in-memory store "
        "(one process only, nothing survives a restart).",
    ),
    Setting(
        "redis_max_connections",
        50,
        "Redis connections each server process may open. When all are busy a "
        "request waits for one (up to `redis_pool_timeout`) instead of failing.",
    ),
    Setting(
        "redis_pool_timeout",
        5.0,
        "Seconds a request waits for a free Redis connection before it is answered 503 (retry later).",
    ),
    Setting(
        "redis_timeout",
        2.0,
        "Seconds Redis has to answer one command (or to accept a connection). A Redis that is gone or "
        "slower than this is an outage: the request is answered 503 with Retry-After, never left hanging.",
    ),
    Setting(
        "visitor_cache_mb",
        64,
        "Megabytes of visitor states each server process keeps on Redis, so that a returning visitor's "
        "batch costs one round trip instead of two (least recently used dropped first). 0: none.",
    ),
    Setting(
        "body_timeout",
        10.0,
        "Seconds a client has to send a request's whole body; a slower one is answered 408 and its connection freed.",
    ),
    Setting("host", "127.0.0.1", "Address the server listens on."),
    Setting("port", 8000, "Port the server listens on."),
    Setting(
        "workers",
        1,
        "Server processes. More than 1 needs Redis, because each process would otherwise keep its own visitors.",
    ),
    Setting("shop_port", 8001, "Port of the demo shop (`irasshai demo` only)."),
    Setting(
        "session_timeout", 1800, "Seconds without activity after which a visitor's next event starts a new session."
    ),
    Setting("reload_interval", 1.0, "Seconds between checks of the rules folder for changes."),
    Setting(
        "traffic_flush_interval",
        5.0,
        "Seconds between two writes of each server process's traffic counts (the site overview) to the store.",
    ),
    Setting(
        "site_secrets",
        "",
        "Secrets of the server-to-server API (coupon redeem, rule stats), per site: "
        "`site=secret,site2=secret2`, each secret at least 16 characters. Empty: that API answers 403.",
    ),
    Setting(
        "identity_secrets",
        "",
        "Secrets that prove a visitor's identity, per site: `site=secret,site2=secret2`, each at least 16 "
        "characters. The shop's server signs its customer id with it (docs/snippet.md, Verified identity). "
        "Keep them apart from `site_secrets`. Empty for a site: its identify calls are kept unverified.",
    ),
    Setting(
        "new_visitors_per_minute",
        60,
        "New visitors one client address may create per site per minute; "
        "beyond it their batches get 429 and the widget retries later. 0: no limit.",
    ),
    Setting("new_visitors_per_hour", 600, "The same, per hour. 0: no limit."),
    Setting(
        "codes_per_day",
        20,
        "Unique or generated coupon codes one client address is handed per site per day; "
        "beyond it coupon rules get no code (as from an empty pool). 0: no limit.",
    ),
    Setting(
        "events_per_visitor_per_minute",
        120,
        "Events one visitor may send per site per minute (counted in their state, no extra round trip); "
        "beyond it their batches get 429 with Retry-After and the widget sends them later. 0: no limit.",
    ),
    Setting(
        "events_per_address_per_minute",
        6000,
        "Events one client address may send per site per minute, all its visitors together (generous: an office "
        "or a mobile carrier's shared address holds many shoppers); beyond it 429 with Retry-After. "
        "Counted in each process and added to the store every `address_flush_interval`. 0: no limit.",
    ),
    Setting(
        "address_flush_interval",
        1.0,
        "Seconds between two writes of a process's events-per-address counts to the store: "
        "how far over its limit an address can get across processes.",
    ),
    Setting(
        "trusted_proxies",
        "",
        "Reverse proxies whose `X-Forwarded-For` is believed, as addresses or networks: "
        "`10.0.0.0/8,192.0.2.7`. Empty: the connection's peer is the client address.",
    ),
    Setting(
        "chat_messages_per_minute",
        20,
        "Chat messages one visitor may send per site per minute; beyond it they get 429 with Retry-After. 0: no limit.",
    ),
    Setting(
        "ticket_ttl",
        900,
        "Seconds a stream ticket (the widget's pass to its live chat channel, renewed by every events reply) is valid.",
    ),
    Setting(
        "console_idle",
        28800,
        "Seconds an operator's console session lasts without use (8 hours); each request restarts it. "
        "Signing out ends it at once.",
    ),
    Setting(
        "webhook_secrets",
        "",
        "Signing secrets of the webhook endpoints (docs/webhooks.md), per endpoint: "
        "`site/endpoint=whsec_…,site/other=whsec_…`; several for one endpoint, space-separated, while "
        "you rotate (every one signs). Each is `whsec_` and base64 of 24 to 64 random bytes.",
    ),
    Setting(
        "webhook_timeout", 15.0, "Seconds a webhook receiver has to answer one delivery before it counts as failed."
    ),
    Setting(
        "webhook_backoff",
        5.0,
        "Seconds before the first retry of a failed webhook delivery; each later wait is about 3 times "
        "longer (at most a day), with jitter, for about 3 days.",
    ),
    Setting(
        "line_secrets",
        "",
        "LINE channel secrets, per site: `site=secret,site2=secret2` (LINE Developers console, the channel's "
        "Basic settings). They check the signature of LINE's webhooks (docs/line.md). Never logged.",
    ),
    Setting(
        "line_tokens",
        "",
        "LINE channel access tokens, per site: `site=token,site2=token2` (the channel's Messaging API tab). "
        "They send operators' replies to LINE users. Never logged.",
    ),
    Setting(
        "line_api",
        "https://api.line.me",
        "Base URL of LINE's Messaging API. Tests point it at a local stand-in (tests/line/).",
    ),
    Setting(
        "line_access",
        "https://access.line.me",
        "Base URL of LINE's account-link dialog, where a shop's link page sends the customer (docs/line.md).",
    ),
)


class Settings(OpsSettings, frozen=True, kw_only=True):
    secret_key: str = ""
    rules_dir: str = "rules"
    redis_url: str = ""
    redis_max_connections: int = 50
    redis_pool_timeout: float = 5.0
    redis_timeout: float = 2.0
    visitor_cache_mb: int = 64
    body_timeout: float = 10.0
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    shop_port: int = 8001
    session_timeout: int = 1800
    reload_interval: float = 1.0
    traffic_flush_interval: float = 5.0
    site_secrets: str = ""
    identity_secrets: str = ""
    new_visitors_per_minute: int = 60
    new_visitors_per_hour: int = 600
    codes_per_day: int = 20
    events_per_visitor_per_minute: int = 120
    events_per_address_per_minute: int = 6000
    address_flush_interval: float = 1.0
    trusted_proxies: str = ""
    chat_messages_per_minute: int = 20
    ticket_ttl: int = 900
    console_idle: int = 28800
    webhook_secrets: str = ""
    webhook_timeout: float = 15.0
    webhook_backoff: float = 5.0
    line_secrets: str = ""
    line_tokens: str = ""
    line_api: str = "https://api.line.me"
    line_access: str = "https://access.line.me"

    def replace(self, **changes: object) -> Settings:
        """A copy with `changes` applied (None values are ignored), validated like the environment."""
        merged = {s.name: getattr(self, s.name) for s in SETTINGS}
        merged.update({k: v for k, v in changes.items() if v is not None})
        return _validate(merged, source=lambda name: FLAGS.get(name, f"--{name.replace('_', '-')}"))

    def secrets_by_site(self) -> dict[str, str]:
        """`site_secrets` as site key -> secret (already validated)."""
        return parse_site_secrets(self.site_secrets, "IRASSHAI_SITE_SECRETS")

    def identity_secrets_by_site(self) -> dict[str, str]:
        """`identity_secrets` as site key -> secret (already validated)."""
        return parse_site_secrets(self.identity_secrets, "IRASSHAI_IDENTITY_SECRETS")

    def webhook_keys(self) -> dict[str, tuple[bytes, ...]]:
        """`webhook_secrets` as "site/endpoint" -> its signing keys, newest first (already validated)."""
        return parse_webhook_secrets(self.webhook_secrets, "IRASSHAI_WEBHOOK_SECRETS")

    def line_secrets_by_site(self) -> dict[str, str]:
        """`line_secrets` as site key -> LINE channel secret (already validated)."""
        return parse_site_secrets(self.line_secrets, "IRASSHAI_LINE_SECRETS")

    def line_tokens_by_site(self) -> dict[str, str]:
        """`line_tokens` as site key -> LINE channel access token (already validated)."""
        return parse_site_secrets(self.line_tokens, "IRASSHAI_LINE_TOKENS")

    def proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """`trusted_proxies` as networks (already validated)."""
        return parse_networks(self.trusted_proxies, "IRASSHAI_TRUSTED_PROXIES")

    def to_env(self) -> dict[str, str]:
        """The environment that reproduces these settings (for worker processes)."""
        return {s.env: str(getattr(self, s.name)) for s in SETTINGS}


FLAGS = {"redis_url": "--redis", "rules_dir": "--rules"}  # where a flag is not the setting's name


def load(environ: Mapping[str, str]) -> Settings:
    """Read every IRASSHAI_* variable from `environ`; raise SettingsError naming the bad one."""
    raw = {s.name: environ[s.env] for s in SETTINGS if s.env in environ}
    values = {s.name: s.default for s in SETTINGS}
    for name, text in raw.items():
        default = values[name]
        env = next(s.env for s in SETTINGS if s.name == name)
        values[name] = _parse(text, type(default), lambda env=env: env)
    return _validate(values, source=lambda name: "IRASSHAI_" + name.upper())


def _parse(text: str, kind: type, env_name) -> object:
    if kind is str:
        return text.strip()
    try:
        return kind(text.strip())
    except ValueError:
        noun = "a whole number" if kind is int else "a number"
        raise SettingsError(f"setting {env_name()} has value {text!r}; expected {noun}") from None


def _validate(values: dict, source) -> Settings:
    if not 1 <= int(values["port"]) <= 65535:
        raise SettingsError(f"setting {source('port')} has value {values['port']!r}; expected a port from 1 to 65535")
    if not 1 <= int(values["shop_port"]) <= 65535:
        raise SettingsError(
            f"setting {source('shop_port')} has value {values['shop_port']!r}; expected a port from 1 to 65535"
        )
    if int(values["workers"]) < 1:
        raise SettingsError(f"setting {source('workers')} has value {values['workers']!r}; expected 1 or more")
    if int(values["session_timeout"]) < 60:
        raise SettingsError(
            f"setting {source('session_timeout')} has value {values['session_timeout']!r}; expected at least 60 seconds"
        )
    if int(values["redis_max_connections"]) < 1:
        raise SettingsError(
            f"setting {source('redis_max_connections')} has value {values['redis_max_connections']!r}; expected 1 or more"
        )
    for name in (
        "redis_pool_timeout",
        "redis_timeout",
        "body_timeout",
        "traffic_flush_interval",
        "address_flush_interval",
    ):
        if not 0 < float(values[name]) < float("inf"):
            raise SettingsError(
                f"setting {source(name)} has value {values[name]!r}; expected a positive number of seconds"
            )
    if not 0 < float(values["reload_interval"]) < float("inf"):
        raise SettingsError(
            f"setting {source('reload_interval')} has value {values['reload_interval']!r}; expected a positive number"
        )
    url = str(values["redis_url"])
    if url and redis_urls.scheme(url) not in redis_urls.SERVER_SCHEMES + redis_urls.CLUSTER_SCHEMES:
        raise SettingsError(
            f"setting {source('redis_url')} has value {redis_urls.redacted(url)!r}; expected a redis://, "
            "rediss:// or unix:// URL, or redis+cluster://host:port,host:port for a Redis Cluster"
        )
    if redis_urls.is_cluster(url):
        try:
            redis_urls.parse_cluster(url)
        except ValueError as error:
            raise SettingsError(
                f"setting {source('redis_url')} has value {redis_urls.redacted(url)!r}, which {error}"
            ) from None
    parse_site_secrets(str(values["site_secrets"]), source("site_secrets"))
    parse_site_secrets(str(values["identity_secrets"]), source("identity_secrets"))
    if int(values["ticket_ttl"]) < 60:
        raise SettingsError(
            f"setting {source('ticket_ttl')} has value {values['ticket_ttl']!r}; expected at least 60 seconds"
        )
    if int(values["console_idle"]) < 60:
        raise SettingsError(
            f"setting {source('console_idle')} has value {values['console_idle']!r}; expected at least 60 seconds"
        )
    if int(values["visitor_cache_mb"]) < 0:
        raise SettingsError(
            f"setting {source('visitor_cache_mb')} has value {values['visitor_cache_mb']!r}; expected 0 (none) or more"
        )
    for name in (
        "new_visitors_per_minute",
        "new_visitors_per_hour",
        "codes_per_day",
        "chat_messages_per_minute",
        "events_per_visitor_per_minute",
        "events_per_address_per_minute",
    ):
        if int(values[name]) < 0:
            raise SettingsError(f"setting {source(name)} has value {values[name]!r}; expected 0 (no limit) or more")
    parse_networks(str(values["trusted_proxies"]), source("trusted_proxies"))
    parse_webhook_secrets(str(values["webhook_secrets"]), source("webhook_secrets"))
    for name in ("webhook_timeout", "webhook_backoff"):
        if not 0 < float(values[name]) < float("inf"):
            raise SettingsError(
                f"setting {source(name)} has value {values[name]!r}; expected a positive number of seconds"
            )
    parse_site_secrets(str(values["line_secrets"]), source("line_secrets"))
    parse_site_secrets(str(values["line_tokens"]), source("line_tokens"))
    for name in ("line_api", "line_access"):
        base = str(values[name])
        if not re.match(r"^https?://[^/?#\s]+/?$", base):
            raise SettingsError(
                f"setting {source(name)} has value {base!r}; expected a base URL such as https://api.line.me"
            )
        values[name] = base.rstrip("/")
    if problem := ops_settings.problem(values, source):
        raise SettingsError(problem)
    return msgspec.convert(values, Settings)
