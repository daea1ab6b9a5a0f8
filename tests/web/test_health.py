"""GET /healthz says the process is up; GET /readyz says whether the store answers."""

from __future__ import annotations

from starlette.testclient import TestClient

from server.app import create_app
from server.config import load_config
from server.settings import Settings
from server.store.redis import RedisStore
from tests.conftest import free_port
from tests.helpers import SECRET, make_app, write_site


def test_healthz_is_ok(tmp_path):
    write_site(tmp_path)
    with TestClient(make_app(tmp_path)) as client:
        assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_is_ready_with_a_reachable_redis_and_names_the_rules_version(tmp_path, redis_url):
    write_site(tmp_path)
    with TestClient(make_app(tmp_path, "redis", redis_url)) as client:
        body = client.get("/readyz").json()
    assert body["status"] == "ready"
    assert body["rules"]["version"] == load_config(tmp_path)[0].version


def test_readyz_is_503_with_a_reason_when_redis_is_unreachable(tmp_path):
    write_site(tmp_path)
    config, _ = load_config(tmp_path)
    url = f"redis://127.0.0.1:{free_port()}/0"
    app = create_app(Settings(secret_key=SECRET), config=config, store=RedisStore(url))
    with TestClient(app) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable" and url in response.json()["reason"]


def test_an_unknown_path_is_a_json_404(tmp_path):
    write_site(tmp_path)
    with TestClient(make_app(tmp_path)) as client:
        response = client.get("/nope")
    assert response.status_code == 404 and response.json() == {"error": "Not Found"}
