"""The live channel across server processes on one real redis-server.

Two server processes (two `irasshai serve` processes on one Redis, as `serve --workers 2` runs
them, but each on its own port so that the test chooses which one a request goes to): an
operator's message posted through one reaches a visitor whose stream is open on the other,
through Redis pub/sub; and after the stream is cut, replies posted meanwhile through the first
are delivered by the second, on reconnection with Last-Event-ID, each exactly once and in order.
A server process asked to stop (SIGTERM) ends its open streams cleanly, each with a last `bye`
event whose `retry:` makes the browser reconnect elsewhere within two seconds, and exits, rather
than waiting for its visitors to leave.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request

import httpx2 as httpx
import pytest

from tests.conftest import ROOT, free_port, serve_process
from tests.conftest import SECRET as SERVER_SECRET
from tests.helpers import write_site
from tests.web.sse import open_stream, operator_says, say, visitor_and_ticket

pytestmark = pytest.mark.redis
SECRET = "operator-secret-0123456789"


def test_a_reply_through_one_process_reaches_a_stream_on_the_other_and_resumes_exactly_once(tmp_path, redis_url):
    write_site(tmp_path)

    secrets = {"IRASSHAI_SITE_SECRETS": f"shop={SECRET}"}
    with serve_process(tmp_path, redis_url, **secrets) as one, serve_process(tmp_path, redis_url, **secrets) as two:
        token, ticket = visitor_and_ticket(one)
        conversation = say(one, token, "hello", "client-0001")["conversation"]["id"]
        with open_stream(two, ticket) as stream:
            stream.until(lambda e: e["data"].get("author") == "system")
            live = operator_says(one, SECRET, conversation, "from process one")
            arrived = stream.until(lambda e: e.get("id") == live["id"])
            assert arrived[-1]["data"]["text"] == "from process one"
            last = arrived[-1]["id"]
        # The stream is cut; replies keep coming through the other process.
        replies = [operator_says(one, SECRET, conversation, f"reply {n}") for n in range(5)]
        with open_stream(two, ticket, last=last) as stream:
            resumed = stream.until(lambda e: e.get("id") == replies[-1]["id"])
            # Live again: one more through process one arrives right after, nothing in between.
            more = operator_says(one, SECRET, conversation, "and one more")
            after = stream.until(lambda e: e.get("id") == more["id"])
    assert [e["id"] for e in resumed] == [r["id"] for r in replies]
    assert [e["data"]["text"] for e in resumed] == [f"reply {n}" for n in range(5)]
    assert [e["data"]["text"] for e in after] == ["and one more"]


def test_a_stopping_process_ends_its_streams_cleanly_and_exits(tmp_path, redis_url):
    write_site(tmp_path)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IRASSHAI_")} | {
        "IRASSHAI_SECRET_KEY": SERVER_SECRET
    }
    command = [sys.executable, "-m", "server", "serve", "--rules", str(tmp_path), "--port", str(port)]
    log = tmp_path / "serve.log"
    with open(log, "wb") as output:
        process = subprocess.Popen([*command, "--redis", redis_url], env=env, cwd=ROOT, stdout=output, stderr=output)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2).close()
                break
            except OSError:
                assert time.monotonic() < deadline and process.poll() is None, log.read_text()[-2000:]
                time.sleep(0.05)
        _, ticket = visitor_and_ticket(base)
        with open_stream(base, ticket) as stream:
            process.terminate()
            # The last event asks the browser to reconnect (to another process) soon, and has no
            # id, so the browser resumes from the last entry it got.
            bye = stream.next()
            assert bye["event"] == "bye" and "id" not in bye
            assert 250 <= int(bye["retry"]) <= 2000
            with pytest.raises(AssertionError, match="the stream ended"):
                stream.next()  # a clean end: an incomplete chunked body would raise httpx's error
        assert process.wait(15) is not None
    except httpx.HTTPError as error:
        raise AssertionError(f"the stream did not end cleanly: {error!r}") from error
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
