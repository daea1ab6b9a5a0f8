"""Helpers for the console's browser tests: an operator account in the test Redis, and signing in."""

from __future__ import annotations

import asyncio
import concurrent.futures

from server.console.accounts import Accounts
from server.store.redis import RedisStore


def add_operator(redis_url: str, site: str, email: str, password: str, **fields) -> None:
    async def add() -> None:
        store = RedisStore(redis_url)
        try:
            await Accounts(store).add(site, email, password=password, **fields)
        finally:
            await store.close()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # Playwright holds this thread's event loop
        pool.submit(asyncio.run, add()).result()


def sign_in(page, base_url: str, email: str, password: str) -> None:
    """Sign in through the login form (Japanese labels: the tests' operators speak ja)."""
    page.goto(base_url + "/console/login")
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("button", name="サインイン").click()
