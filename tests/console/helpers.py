"""A console app on two sites (shop-a, shop-b) with a fake clock, and a signed-in client."""

from __future__ import annotations

import asyncio
import concurrent.futures
import re

from starlette.testclient import TestClient

from server.app import create_app
from server.config import load_config
from server.console.accounts import Accounts
from server.settings import Settings
from server.store.memory import MemoryStore
from tests.conftest import SECRET
from tests.helpers import write_site


class Clock:
    def __init__(self, now: float = 1_800_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def console_app(tmp_path, clock: Clock | None = None, **settings):
    clock = clock or Clock()
    write_site(tmp_path, "shop-a")
    write_site(tmp_path, "shop-b")
    config, problems = load_config(tmp_path)
    assert config is not None, problems.lines()
    store = MemoryStore(clock=clock)
    app = create_app(
        Settings(secret_key=SECRET, rules_dir=str(tmp_path), **settings),
        config=config,
        store=store,
        clock=clock,
        reload=False,
    )
    return app, store, clock


def add_operator(store, site: str, email: str, password: str, **fields) -> None:
    # In a thread of its own: the browser tests' Playwright holds an event loop in this one.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, Accounts(store).add(site, email, password=password, **fields)).result()


def login_token(client: TestClient) -> str:
    page = client.get("/console/login")
    assert page.status_code == 200
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def sign_in(client: TestClient, email: str, password: str, token: str | None = None):
    token = token or login_token(client)
    return client.post(
        "/console/login", data={"email": email, "password": password, "csrf": token}, follow_redirects=False
    )


def csrf_of(page_text: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page_text).group(1)
