"""`irasshai privacy export|delete` as whoever runs the server uses it (docs/privacy.md), on a real Redis.

export prints the same JSON as the API; delete deletes a visitor, or every visitor a verified
identify proved to be a customer, and says which; mistakes (no Redis, unknown site, neither or
both of --visitor and --customer) are one line on stderr and a non-zero exit.
"""

from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient

from tests.test_cli import irasshai, one_line_error
from tests.web.test_privacy import CUSTOMER, _app, a_visitor_with_everything, api

pytestmark = pytest.mark.redis


def privacy(redis_url, rules_dir, *args):
    return irasshai("privacy", *args, "--redis", redis_url, "--rules", str(rules_dir))


def test_export_then_delete_a_visitor_and_a_customer(tmp_path, redis_url):
    with TestClient(_app(tmp_path, kind="redis", redis_url=redis_url)) as client:
        _, visitor = a_visitor_with_everything(client)
        _, other = a_visitor_with_everything(client)

        exported = privacy(redis_url, tmp_path, "export", "--site", "shop", "--visitor", visitor)
        assert exported.returncode == 0, exported.stderr
        data = json.loads(exported.stdout)
        assert data["visitor"] == visitor and data["state"]["customer"] == CUSTOMER
        assert data["coupons"]["vip"]["code"].startswith("VIP-")

        by_customer = json.loads(
            privacy(redis_url, tmp_path, "export", "--site", "shop", "--customer", CUSTOMER).stdout
        )
        assert sorted(v["visitor"] for v in by_customer["visitors"]) == sorted([visitor, other])

        deleted = privacy(redis_url, tmp_path, "delete", "--site", "shop", "--visitor", visitor)
        assert deleted.returncode == 0, deleted.stderr
        assert deleted.stdout == f"deleted the data of visitor {visitor} on site shop: visitors {visitor}\n"
        assert api(client, "GET", f"visitors/{visitor}").json()["state"] is None
        assert api(client, "GET", f"visitors/{other}").json()["state"] is not None

        deleted = privacy(redis_url, tmp_path, "delete", "--site", "shop", "--customer", CUSTOMER)
        assert deleted.returncode == 0 and f"visitors {other}" in deleted.stdout
        assert api(client, "GET", f"visitors/{other}").json()["state"] is None


def test_mistakes_are_one_line(tmp_path, redis_url):
    _app(tmp_path)  # writes the site
    unknown = privacy(redis_url, tmp_path, "export", "--site", "nope", "--visitor", "v")
    assert unknown.returncode == 1 and "unknown site 'nope'" in one_line_error(unknown)
    no_redis = irasshai("privacy", "delete", "--site", "shop", "--visitor", "v", "--rules", str(tmp_path))
    assert no_redis.returncode == 1 and "--redis" in one_line_error(no_redis)
    neither = privacy(redis_url, tmp_path, "export", "--site", "shop")
    assert neither.returncode == 2 and "--visitor" in neither.stderr
