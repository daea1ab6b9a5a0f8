"""`irasshai operators add|list|remove|passwd`: the console's accounts, from the command line.

Operators live in the store, so these commands need Redis (--redis or IRASSHAI_REDIS_URL): with
the in-memory store a running server's accounts are in that server's own memory, out of reach
(`irasshai demo` creates its demo operator in its own process instead). Sites are the folders of
the rules folder. Every failure is one line on stderr and exit code 1.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from pathlib import Path

from server.console.accounts import ROLES, AccountError, Accounts, normal_email
from server.constant_time import same_secret
from server.sites import SITE_FILE, SITE_KEY, load_site
from server.store.base import StoreUnavailable
from server.yamlsource import Problems


class CommandError(Exception):
    """One line for stderr; the command exits 1."""


def add_parser(commands) -> None:
    operators = commands.add_parser("operators", help="add, list, remove operators of the console, or set a password")
    operators.add_argument("--redis", dest="redis_url", metavar="URL", help="Redis URL (IRASSHAI_REDIS_URL)")
    operators.add_argument("--rules", dest="rules_dir", metavar="DIR", help="rules folder (IRASSHAI_RULES_DIR)")
    actions = operators.add_subparsers(dest="operators_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add an operator to a site (a new account, or a site for an existing one)")
    add.add_argument("site")
    add.add_argument("email")
    add.add_argument("--name", default="", help="the name shown to colleagues and visitors")
    add.add_argument("--role", choices=ROLES, default=None, help="operator (default) or admin")
    add.add_argument(
        "--language", choices=("ja", "en"), default=None, help="the console's language (default: the site's)"
    )
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    listing = actions.add_parser("list", help="the operators of a site")
    listing.add_argument("site")
    remove = actions.add_parser("remove", help="take an operator off a site (the account goes with its last site)")
    remove.add_argument("site")
    remove.add_argument("email")
    passwd = actions.add_parser("passwd", help="set an operator's password")
    passwd.add_argument("site")
    passwd.add_argument("email")
    passwd.add_argument("--password-stdin", action="store_true", help="read the password from standard input")


def run(args: argparse.Namespace, settings) -> int:
    """Run `irasshai operators …` with `settings` (the --redis and --rules flags applied)."""
    try:
        if not settings.redis_url:
            raise CommandError(
                "operators are kept in the store and the in-memory store lives inside a running server; "
                "pass --redis redis://HOST:6379/0 or set IRASSHAI_REDIS_URL"
            )
        return asyncio.run(_run(args, settings))
    except (CommandError, AccountError, StoreUnavailable) as error:
        print(f"irasshai: {error}", file=sys.stderr)
        return 1


def _site_language(rules_dir: str, key: str) -> str:
    folder = Path(rules_dir) / key
    if not SITE_KEY.match(key) or not (folder / SITE_FILE).is_file():
        raise CommandError(f"unknown site '{key[:64]}': there is no {Path(rules_dir) / key[:64] / SITE_FILE}")
    site = load_site(folder, Problems())
    return site.language if site is not None else "ja"


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if password and not same_secret(getpass.getpass("Again: "), password):
            raise CommandError("the two passwords differ; nothing changed")
    if not password:
        raise CommandError("the password is empty; nothing changed")
    return password


async def _run(args: argparse.Namespace, settings) -> int:
    from server.store.redis import RedisStore

    language = _site_language(settings.rules_dir, args.site)
    store = RedisStore(settings.redis_url)
    accounts = Accounts(store)
    try:
        await store.ping()
        command = args.operators_command
        if command == "list":
            for operator in await accounts.of_site(args.site):
                print(f"{operator.email}\t{operator.name}\t{operator.role}\t{operator.language}")
        elif command == "add":
            email = normal_email(args.email)
            existing = await accounts.get(email)
            password = "" if existing is not None else _password(args)
            operator, new = await accounts.add(
                args.site,
                email,
                name=args.name,
                role=args.role,
                language=args.language or language,
                password=password,
            )
            what = "added" if new else "added to this site (existing account: password unchanged)"
            print(f"{operator.email} {what}: site {args.site}, role {operator.role}")
        elif command == "remove":
            operator = await accounts.remove(args.site, args.email)
            print(f"{operator.email} removed from site {args.site}")
        elif command == "passwd":
            email = normal_email(args.email)
            if (await accounts.get(email)) is None:
                raise CommandError(f"no operator {email} on site {args.site}")
            await accounts.set_password(args.site, email, _password(args))
            print(f"password of {email} changed")
        return 0
    finally:
        await store.close()
