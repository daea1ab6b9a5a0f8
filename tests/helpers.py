"""Small builders shared by tests: a rules folder, an app, events as the widget sends them."""

from __future__ import annotations

import itertools
import json
import textwrap
import time
from pathlib import Path

from server.app import create_app
from server.config import load_config
from server.identity import VisitorIds
from server.settings import Settings
from server.store.memory import MemoryStore
from server.store.redis import RedisStore

SHOP = "https://shop.example"
SECRET = "test-secret-key-not-for-production"
_counter = itertools.count()

SITE_YAML = f"""\
origins: [{SHOP}]
timezone: Asia/Tokyo
language: ja
"""


def write_site(rules_dir: Path, key: str = "shop", site_yaml: str = SITE_YAML, **files: str) -> Path:
    folder = rules_dir / key
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "site.yaml").write_text(textwrap.dedent(site_yaml), encoding="utf-8")
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


def make_app(rules_dir: Path, store_kind: str = "memory", redis_url: str = "", clock=time.time, **settings):
    config, problems = load_config(rules_dir)
    assert config is not None, problems.lines()
    store = RedisStore(redis_url) if store_kind == "redis" else MemoryStore(clock=clock)
    return create_app(
        Settings(secret_key=SECRET, rules_dir=str(rules_dir), **settings), config=config, store=store, clock=clock
    )


def event_id() -> str:
    return f"evt-{next(_counter):08d}-{time.time_ns() % 10**9}"


def page_view(path: str, ts: float | None = None, **fields) -> dict:
    return {"type": "page_view", "id": event_id(), "ts": int((ts or time.time()) * 1000), "url": SHOP + path, **fields}


def track(name: str, properties: dict | None = None, ts: float | None = None) -> dict:
    return {
        "type": "track",
        "id": event_id(),
        "ts": int((ts or time.time()) * 1000),
        "name": name,
        "properties": properties or {},
    }


def set_attributes(attributes: dict, ts: float | None = None) -> dict:
    return {"type": "set", "id": event_id(), "ts": int((ts or time.time()) * 1000), "attributes": attributes}


def batch(*events: dict, visitor: str | None = None, language: str = "ja-JP", seed: str | None = None) -> bytes:
    body = {"visitor": visitor, "context": {"language": language}, "events": list(events)}
    if seed is not None:
        body["seed"] = seed
    return json.dumps(body).encode()


def post(client, body: bytes, site: str = "shop", origin: str | None = SHOP, **headers):
    if origin is not None:
        headers["origin"] = origin
    headers.setdefault("content-type", "text/plain;charset=UTF-8")
    return client.post(f"/v1/sites/{site}/events", content=body, headers=headers)


def stored_profile(client, token: str, site: str = "shop"):
    """The visitor's stored state, read through the app's own store."""
    visitor_id = VisitorIds(SECRET).verify(site, token)
    assert visitor_id is not None
    app = client.app
    return client.portal.call(app.state.services.ingest.profile, app.state.services.live.config.sites[site], visitor_id)
