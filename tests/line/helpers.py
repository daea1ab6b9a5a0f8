"""A site with a LINE channel, an app that talks to the local LINE stand-in, and waiting for the background."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import contextmanager

from server.app import create_app
from server.config import load_config
from server.line.signature import sign
from server.settings import Settings
from server.store.memory import MemoryStore
from tests.conftest import SECRET, live_server
from tests.helpers import SHOP, write_site
from tests.line.standin import LineStandIn

CHANNEL_SECRET = "0123456789abcdef0123456789abcdef"  # LINE's are 32 hex characters
ACCESS_TOKEN = "stand-in-access-token-" + "x" * 100  # LINE's long-lived tokens are about 170 characters
IDENTITY_SECRET = "identity-secret-for-tests-0001"
LINE_SITE = f"""\
origins: [{SHOP}]
timezone: Asia/Tokyo
language: ja
line:
  channel_id: "2001234567"
  link: true
  link_page: {SHOP}/line-link
"""
WEBHOOK = "/v1/sites/shop/line/webhook"


def line_settings(api: str) -> dict[str, str]:
    """The IRASSHAI_* variables of a server whose site `shop` talks to the stand-in at `api`."""
    return {
        "IRASSHAI_LINE_SECRETS": f"shop={CHANNEL_SECRET}",
        "IRASSHAI_LINE_TOKENS": f"shop={ACCESS_TOKEN}",
        "IRASSHAI_LINE_API": api,
        "IRASSHAI_LINE_ACCESS": api,
        "IRASSHAI_IDENTITY_SECRETS": f"shop={IDENTITY_SECRET}",
    }


@contextmanager
def stand_in():
    """The LINE stand-in, served on a free port; yields (stand-in, its base URL)."""
    line = LineStandIn(token=ACCESS_TOKEN, secret=CHANNEL_SECRET)
    with live_server(line.app) as url:
        yield line, url


def line_app(tmp_path, api: str, clock=time.time, **settings):
    write_site(tmp_path, "shop", LINE_SITE)
    config, problems = load_config(tmp_path)
    assert config is not None, problems.lines()
    values = {name.removeprefix("IRASSHAI_").lower(): value for name, value in line_settings(api).items()}
    store = MemoryStore(clock=clock)
    app = create_app(
        Settings(secret_key=SECRET, rules_dir=str(tmp_path), **{**values, **settings}),
        config=config,
        store=store,
        clock=clock,
        reload=False,
    )
    return app, store


def post_webhook(client, line: LineStandIn, events: list[dict], site: str = "shop", signature: str | None = None):
    """Deliver a webhook through a TestClient as LINE would: the raw body, signed."""
    body = line.body(events)
    return client.post(
        f"/v1/sites/{site}/line/webhook",
        content=body,
        headers={
            "content-type": "application/json",
            "x-line-signature": sign(CHANNEL_SECRET, body) if signature is None else signature,
        },
    )


def eventually(check: Callable[[], object], what: str, seconds: float = 10.0):
    """The first truthy result of `check`, polled until `seconds` pass (then the test fails saying `what`)."""
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting after {seconds:g} s: {what}")
        time.sleep(0.02)
