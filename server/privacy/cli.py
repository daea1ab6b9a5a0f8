"""`irasshai privacy export|delete`: one visitor's or customer's data, from the command line (docs/privacy.md).

The same as the API (server/web/privacy.py) without HTTP: the data is in the store, so these
commands need Redis (--redis or IRASSHAI_REDIS_URL); the site comes from the rules folder (its
coupon pools say where a visitor's codes may be). `export` prints the JSON the API answers;
`delete` prints what it deleted. Every failure is one line on stderr and exit code 1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from server.sites import SITE_FILE, SITE_KEY, Site, load_site
from server.store.base import StoreUnavailable
from server.yamlsource import Problems


class CommandError(Exception):
    """One line for stderr; the command exits 1."""


def add_parser(commands) -> None:
    privacy = commands.add_parser("privacy", help="export or delete one visitor's or customer's data")
    privacy.add_argument("action", choices=("export", "delete"))
    privacy.add_argument("--site", required=True, help="the site key (its folder in the rules folder)")
    who = privacy.add_mutually_exclusive_group(required=True)
    who.add_argument("--visitor", help="a visitor id (as the console and the API show it)")
    who.add_argument("--customer", help="a customer id: every visitor a verified identify proved to be them")
    privacy.add_argument("--redis", dest="redis_url", metavar="URL", help="Redis URL (IRASSHAI_REDIS_URL)")
    privacy.add_argument("--rules", dest="rules_dir", metavar="DIR", help="rules folder (IRASSHAI_RULES_DIR)")


def run(args: argparse.Namespace, settings) -> int:
    """Run `irasshai privacy …` with `settings` (the --redis and --rules flags applied)."""
    try:
        if not settings.redis_url:
            raise CommandError(
                "visitors' data is kept in the store and the in-memory store lives inside a running server; "
                "pass --redis redis://HOST:6379/0 or set IRASSHAI_REDIS_URL (or use the API: docs/privacy.md)"
            )
        return asyncio.run(_run(args, settings))
    except (CommandError, StoreUnavailable) as error:
        print(f"irasshai: {error}", file=sys.stderr)
        return 1


def _site(rules_dir: str, key: str) -> Site:
    folder = Path(rules_dir) / key
    if not SITE_KEY.match(key) or not (folder / SITE_FILE).is_file():
        raise CommandError(f"unknown site '{key[:64]}': there is no {Path(rules_dir) / key[:64] / SITE_FILE}")
    problems = Problems()
    site = load_site(folder, problems)
    if site is None:
        raise CommandError(f"{folder / SITE_FILE} has mistakes; run 'irasshai rules check {rules_dir}'")
    return site


async def _run(args: argparse.Namespace, settings) -> int:
    # Imported here, not at the top: `irasshai serve` builds this parser too, and must set up
    # the metrics' multiprocess folder before anything imports prometheus_client.
    from server.privacy.data import VisitorData
    from server.store.redis import RedisStore

    site = _site(settings.rules_dir, args.site)
    store = RedisStore(settings.redis_url)
    data = VisitorData(store)
    try:
        await store.ping()
        if args.action == "export":
            found = (
                await data.export_visitor(site, args.visitor)
                if args.visitor
                else await data.export_customer(site, args.customer)
            )
            print(json.dumps({"site": site.key, **found}, ensure_ascii=False, indent=2))
        else:
            forgotten = (
                await data.forget_visitor(site, args.visitor)
                if args.visitor
                else await data.forget_customer(site, args.customer)
            )
            who = f"visitor {args.visitor}" if args.visitor else f"customer {args.customer}"
            print(f"deleted the data of {who} on site {site.key}: visitors {', '.join(forgotten) or '(none)'}")
        return 0
    finally:
        await store.close()
