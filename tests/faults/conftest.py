"""A redis-server of the faults tests' own, which they kill, pause and start again, and a server on it.

Not the session's shared Redis (tests/conftest.py): stopping that would break other tests. This one
keeps an append-only file with fsync on every write in its folder, so what it acknowledged
survives a kill (docs/deployment.md#persistence). The server process answers Redis slower than
TIMEOUT seconds as an outage (IRASSHAI_REDIS_TIMEOUT), short here to keep the tests quick.
"""

from __future__ import annotations

import shutil

import pytest

from bench.outage import RedisProcess
from tests.conftest import missing, serve_process
from tests.helpers import write_site

TIMEOUT = 0.5  # IRASSHAI_REDIS_TIMEOUT of the server under test, seconds
OPERATOR_SECRET = "operator-secret-0123456789"


@pytest.fixture(scope="module")
def faulty_redis(tmp_path_factory):
    """A redis-server the test may stop and start again on the same port, with the same data."""
    if shutil.which("redis-server") is None:
        missing("redis-server is not installed (apt-get install redis-server)")
    redis = RedisProcess(tmp_path_factory.mktemp("faulty-redis"))
    redis.start()
    yield redis
    redis.kill()


@pytest.fixture(scope="module")
def server_on_faulty_redis(tmp_path_factory, faulty_redis):
    """`irasshai serve` on :func:`faulty_redis`; yields its URL. Chat messages and events are not rate limited (the load is one address sending without pause)."""
    rules = tmp_path_factory.mktemp("rules")
    write_site(rules)
    environment = {
        "IRASSHAI_REDIS_TIMEOUT": str(TIMEOUT),
        "IRASSHAI_SITE_SECRETS": f"shop={OPERATOR_SECRET}",
        "IRASSHAI_CHAT_MESSAGES_PER_MINUTE": "0",
        "IRASSHAI_EVENTS_PER_ADDRESS_PER_MINUTE": "0",
        "IRASSHAI_EVENTS_PER_VISITOR_PER_MINUTE": "0",
    }
    with serve_process(rules, faulty_redis.url, **environment) as base:
        yield base


@pytest.fixture
def redis_back(faulty_redis):
    """Whatever a test did to the faulty Redis, it is up and answering afterwards."""
    yield faulty_redis
    if faulty_redis.process is None or faulty_redis.process.poll() is not None:
        faulty_redis.start()
