"""Redis gone or too slow under load: the server answers 503 with Retry-After, never 500, never
hangs; /readyz follows; it recovers by itself; nothing acknowledged is lost.

Each test runs visitors posting events (and resending what was refused, as the widget does), a
visitor chatting with an operator, and a /readyz poller against one `irasshai serve` process, then
does one fault to its Redis: killed (SIGKILL) or shut down and started again on its port with its
data, ``DEBUG SLEEP``, ``CLIENT PAUSE`` of every command or of writes only. The server is the same
process throughout, never restarted. bench/faults.py reports the same runs as figures.
"""

from __future__ import annotations

import asyncio

import pytest

from bench.outage import run_fault
from tests.conftest import SECRET
from tests.faults.conftest import OPERATOR_SECRET, TIMEOUT

pytestmark = pytest.mark.redis
OUTAGE = 3 * TIMEOUT  # seconds of each fault: several timeouts long
HANG = 2 * TIMEOUT + 5  # seconds no request may reach: a hang detector (on a busy machine), not a speed check


@pytest.mark.parametrize("fault", ["kill", "shutdown", "sleep", "pause", "pause-write"])
def test_during_an_outage_requests_get_503_and_afterwards_nothing_acknowledged_is_missing(
    fault, server_on_faulty_redis, redis_back
):
    found = asyncio.run(
        run_fault(
            fault, redis_back, server_on_faulty_redis, SECRET, OUTAGE, visitors=4, chats=1, secret=OPERATOR_SECRET
        )
    )
    assert found.errors_500 == 0
    assert found.unexpected == {}, "every answer is 200, 204 or 503, and every request got one"
    assert found.bad_503s == 0, "every 503 has Retry-After and (for the widget) CORS headers"
    assert found.slowest < HANG
    # The outage was noticed by each kind of request, and by /readyz.
    for kind in ("events", "chat", "reply"):
        assert 503 in found.during.get(kind, {}), found.during
    assert 503 in found.readyz_during, found.readyz_during
    # Recovered by itself: batches stored and /readyz ready again, the same server process.
    assert found.recovered is not None
    assert found.ready_again is not None
    stored = found.stored
    assert stored.acked > 0
    assert stored.lost == 0, f"{stored.lost} acknowledged events are not in Redis"
    assert stored.counted == stored.found, "an event was stored twice"
    assert stored.never_acked == 0, "what was refused during the outage went through afterwards"
