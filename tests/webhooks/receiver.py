"""A shop's webhook receiver for the tests: a real HTTP server on a free port of 127.0.0.1.

It keeps every request (headers, body) and answers each with the next status of `answers`
(then 204), or holds it until `release()` while `hold` is set, so a test can see what a slow
receiver does to the rest of the server.
"""

from __future__ import annotations

import json
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook


class Receiver:
    def __init__(self, answers: list[int] | None = None, hold: bool = False):
        self.answers = list(answers or [])
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.holding = threading.Event()  # set while a request is held
        self._release = threading.Event()
        if not hold:
            self._release.set()
        self._lock = threading.Condition()

    def release(self) -> None:
        self._release.set()

    def record(self, headers: dict[str, str], body: bytes) -> int:
        with self._lock:
            self.requests.append((headers, body))
            status = self.answers.pop(0) if self.answers else 204
            self._lock.notify_all()
        if not self._release.is_set():
            self.holding.set()
            self._release.wait(30)
        return status

    def wait_for(self, count: int, timeout: float = 15.0) -> list[tuple[dict[str, str], bytes]]:
        """The first `count` requests, once they have arrived."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    types = [json.loads(body).get("type") for _, body in self.requests]
                    raise AssertionError(f"the receiver got {len(self.requests)} requests, expected {count}: {types}")
                self._lock.wait(left)
            return list(self.requests[:count])

    def events(self, secret: str) -> list[dict]:
        """Every request's payload, each verified with the Standard Webhooks library."""
        verifier = Webhook(secret)
        return [verifier.verify(body, headers) for headers, body in list(self.requests)]


@contextmanager
def serving(receiver: Receiver):
    """Serve `receiver`; yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            status = receiver.record({k.lower(): v for k, v in self.headers.items()}, body)
            answer = json.dumps({"status": status}).encode()
            try:
                self.send_response(status)
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the sender gave up waiting (its timeout): as a real receiver would see it

        def log_message(self, *args):
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks"
    finally:
        receiver.release()
        server.shutdown()
        server.server_close()
