"""The `irasshai` command: serve, demo, and (later) rules check/test/schema.

This module and :mod:`server.settings` are the only places that see the environment.
Every failure is one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging.config
import os
import secrets
import shutil
import sys
import tempfile
from pathlib import Path

from server.logs import logging_config
from server.settings import Settings, SettingsError, load

EXIT_USAGE = 2
DEMO_OPERATOR = "staff@example.com"


def fail(message: str, code: int = EXIT_USAGE) -> None:
    print(f"irasshai: {message}", file=sys.stderr)
    raise SystemExit(code)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="irasshai", description="Proactive engagement for online shops.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the server")
    serve.add_argument("--rules", dest="rules_dir", metavar="DIR", help="rules folder (IRASSHAI_RULES_DIR)")
    serve.add_argument("--host", help="listen address (IRASSHAI_HOST)")
    serve.add_argument("--port", type=int, help="listen port (IRASSHAI_PORT)")
    serve.add_argument("--redis", dest="redis_url", metavar="URL", help="Redis URL (IRASSHAI_REDIS_URL)")
    serve.add_argument("--workers", type=int, help="server processes; >1 needs Redis (IRASSHAI_WORKERS)")
    serve.add_argument(
        "--log-format",
        dest="log_format",
        choices=("text", "json"),
        help="log lines as text or JSON (IRASSHAI_LOG_FORMAT)",
    )
    serve.add_argument(
        "--metrics-port",
        dest="metrics_port",
        type=int,
        metavar="P",
        help="serve the metrics on this port of IRASSHAI_METRICS_HOST, 127.0.0.1 by default (IRASSHAI_METRICS_PORT)",
    )

    demo = commands.add_parser("demo", help="run the server and the demo shop, in memory")
    demo.add_argument("--rules", dest="rules_dir", metavar="DIR", help="rules folder (default: rules)")
    demo.add_argument("--host", help="listen address of both (default 127.0.0.1)")
    demo.add_argument("--port", type=int, help="server port (default 8000)")
    demo.add_argument("--shop-port", dest="shop_port", type=int, help="demo shop port (default 8001)")

    rules = commands.add_parser("rules", help="check, test or describe rule files")
    rule_commands = rules.add_subparsers(dest="rules_command", required=True, metavar="ACTION")
    check = rule_commands.add_parser("check", help="report every mistake in every site, as path:line:col")
    check.add_argument("rules_dir", metavar="DIR")
    test = rule_commands.add_parser("test", help="run every *.test.yaml")
    test.add_argument("rules_dir", metavar="DIR")
    rule_commands.add_parser("schema", help="print the JSON Schema of rule files (for editors)")

    from server.console import cli as console_cli

    console_cli.add_parser(commands)
    from server.privacy import cli as privacy_cli

    privacy_cli.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.command == "rules":
        raise SystemExit(rules_command(args))
    if args.command in ("operators", "privacy"):
        from server.console import cli as console_cli
        from server.privacy import cli as privacy_cli

        try:
            settings = load(os.environ).replace(redis_url=args.redis_url, rules_dir=args.rules_dir)
        except SettingsError as error:
            fail(str(error), 1)
        raise SystemExit((console_cli if args.command == "operators" else privacy_cli).run(args, settings))
    overrides = {k: v for k, v in vars(args).items() if k != "command"}
    try:
        settings = load(os.environ).replace(**overrides)
    except SettingsError as error:
        fail(str(error))
    logging.config.dictConfig(logging_config(settings.log_format, settings.log_level))
    if args.command == "serve":
        serve(settings)
    elif args.command == "demo":
        demo(settings)


def _create_app(settings: Settings, **kwargs):
    from server.app import ConfigError, create_app

    try:
        return create_app(settings, **kwargs)
    except ConfigError as error:
        for line in error.lines:
            print(line, file=sys.stderr)
        fail(f"{len(error.lines)} problem(s) in {settings.rules_dir}; fix them and start again", 1)


def serve(settings: Settings) -> None:
    import uvicorn

    if not settings.secret_key:
        fail(
            "no secret key: set IRASSHAI_SECRET_KEY to a long random string, e.g. the output of "
            "`python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`"
        )
    if settings.workers > 1 and not settings.redis_url:
        fail(
            f"--workers {settings.workers} needs Redis: with the in-memory store each process would keep "
            "its own visitors; pass --redis redis://HOST:6379/0 or use --workers 1"
        )
    options = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "log_config": logging_config(settings.log_format, settings.log_level),
        "proxy_headers": True,
        "server_header": False,
        # In flight when SIGTERM comes: finished (and acknowledged) within this, else cancelled.
        "timeout_graceful_shutdown": settings.shutdown_timeout,
    }
    if settings.workers == 1:
        app = _create_app(settings)
        metrics_listener(settings)
        uvicorn.run(app, **options)
        return
    # Each worker writes its metrics to files in this folder, which any of them (or the metrics
    # listener, in this process) sums; the client library reads the variable when first imported,
    # so it is set before anything imports it, and the folder is new, so no earlier run counts.
    folder = tempfile.mkdtemp(prefix="irasshai-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    try:
        _create_app(settings)  # fail fast, in this process, on a bad rules folder
        os.environ.update(settings.to_env())
        metrics_listener(settings)
        uvicorn.run("server.cli:worker_app", factory=True, workers=settings.workers, **options)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def metrics_listener(settings: Settings) -> None:
    """With IRASSHAI_METRICS_PORT, the metrics on a port of their own, from a thread of this process."""
    if not settings.metrics_port:
        return
    from prometheus_client import start_http_server

    from server.metrics import registry

    try:
        start_http_server(settings.metrics_port, settings.metrics_host, registry())
    except OSError as error:
        fail(f"cannot serve metrics on {settings.metrics_host}:{settings.metrics_port}: {error.strerror}", 1)
    logging.getLogger("irasshai").info("metrics at http://%s:%d/metrics", settings.metrics_host, settings.metrics_port)


def worker_app():
    """The app of one worker process when `serve` runs several (settings come through the environment)."""
    return _create_app(load(os.environ))


def demo(settings: Settings) -> None:
    import uvicorn

    from demo_shop.app import create_shop_app

    if not settings.secret_key:
        settings = settings.replace(secret_key=secrets.token_urlsafe(32))
    if "demo" not in settings.identity_secrets_by_site():
        # The demo shop's login proves its customer to the server: both get this made-up secret.
        extra = f"demo={secrets.token_urlsafe(32)}"
        settings = settings.replace(identity_secrets=",".join(filter(None, (settings.identity_secrets, extra))))
    if "demo" not in settings.secrets_by_site():
        # The shop's checkout redeems coupon codes with it (docs/coupons.md), and whoever tries the
        # demo can answer its chats through the operator API (docs/chat.md).
        extra = f"demo={secrets.token_urlsafe(24)}"
        settings = settings.replace(site_secrets=",".join(filter(None, (settings.site_secrets, extra))))
    server_url = f"http://{settings.host}:{settings.port}"
    shop_url = f"http://{settings.host}:{settings.shop_port}"
    app = _create_app(settings, transform=lambda loaded: allow_shop(loaded, settings))
    if "demo" not in app.state.services.live.config.sites:
        fail(f"the demo shop embeds site 'demo', but {settings.rules_dir}/demo/site.yaml does not exist")
    shop = create_shop_app(
        server_url,
        site="demo",
        identity_secret=settings.identity_secrets_by_site()["demo"],
        site_secret=settings.secrets_by_site()["demo"],
    )

    operator_password = secrets.token_urlsafe(12)

    async def run() -> None:
        # The demo's store is this process's own, so its operator is made here (docs/console.md).
        await app.state.console.accounts.add(
            "demo", DEMO_OPERATOR, name="Staff", role="admin", password=operator_password
        )
        servers = [
            uvicorn.Server(
                uvicorn.Config(app, host=settings.host, port=settings.port, log_level="warning", server_header=False)
            ),
            uvicorn.Server(
                uvicorn.Config(
                    shop, host=settings.host, port=settings.shop_port, log_level="warning", server_header=False
                )
            ),
        ]
        print(f"Irasshai server: {server_url}  (in-memory store; rules from {Path(settings.rules_dir).resolve()})")
        print(f"Demo shop:       {shop_url}  <- open this in your browser")
        print(f"Operator API:    Authorization: Bearer {settings.secrets_by_site()['demo']}  (docs/chat.md)")
        print(f"Console:         {server_url}/console  sign in as {DEMO_OPERATOR} / {operator_password}")
        print("Press Ctrl+C to stop.", flush=True)
        await asyncio.gather(*(s.serve() for s in servers))

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


def rules_command(args) -> int:
    """`irasshai rules check|test|schema`: exit 0 when all is well, 1 when not."""
    if args.rules_command == "schema":
        import json

        from server.rules.schema import rule_file_schema

        print(json.dumps(rule_file_schema(), indent=2, ensure_ascii=False))
        return 0
    from server.config import load_config

    config, problems = load_config(args.rules_dir)
    if args.rules_command == "check" or config is None:
        for line in problems.lines():
            print(line)
        if config is None:
            print(f"{len(problems)} problem(s) in {args.rules_dir}", file=sys.stderr)
            return 1
        counts = ", ".join(f"{key}: {len(rules)} rule(s)" for key, rules in config.rules.items())
        print(f"ok: {len(config.sites)} site(s) ({counts})")
        return 0
    from server.rule_tests import run_tests

    return run_tests(Path(args.rules_dir), config, out=sys.stdout)


def allow_shop(config, settings: Settings):
    """The demo site also accepts events from the demo shop's address, whatever port it runs on."""
    from dataclasses import replace

    site = config.sites.get("demo")
    if site is None:
        return config
    extra = {
        f"http://{settings.host}:{settings.shop_port}",
        f"http://localhost:{settings.shop_port}",
        f"http://127.0.0.1:{settings.shop_port}",
    }
    sites = {**config.sites, "demo": replace(site, origins=site.origins | extra)}
    return replace(config, sites=sites)


if __name__ == "__main__":
    main()
