"""Sending one webhook delivery over HTTP, with a timeout, to public addresses only.

The client is httpcore2 (the HTTP core of httpx2, which the tests already use): asynchronous,
maintained, with timeouts per phase and, what decided it, a public hook for the network layer.
:class:`PublicOnly` resolves the URL's host itself, refuses when any address it finds is not
public (server.webhooks.addresses) and connects to exactly the address it checked, so a name
that passed the check of site.yaml and later resolves to a private address (DNS rebinding)
reaches nothing; TLS still verifies the certificate for the URL's host name. An endpoint with
``allow_private: true`` goes through a second pool without that check. Redirects are not
followed (a 3xx is a failure, as Standard Webhooks advises), and no proxy settings are read.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterable
from dataclasses import dataclass

import httpcore2

from server.webhooks.addresses import literal, refused_among
from server.webhooks.config import Endpoint

MAX_ANSWER = 1024  # bytes of a receiver's answer kept for the console's last error


class Refused(httpcore2.ConnectError):
    """The URL's host is not public (and the endpoint does not allow private addresses)."""


@dataclass(frozen=True)
class Answer:
    status: int  # the receiver's HTTP status; 0 when there was none
    error: str = ""  # one line; empty for a 2xx
    retry_after: float = 0.0  # seconds the receiver asked us to wait (429, 503), 0 if it did not


class PublicOnly(httpcore2.AsyncNetworkBackend):
    """Connects only to public addresses, checked after resolving, at every new connection."""

    def __init__(self) -> None:
        self._inner = httpcore2.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        if literal(host) is not None:
            addresses = [host]
        else:
            try:
                async with asyncio.timeout(timeout):
                    found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except (OSError, UnicodeError) as error:
                raise httpcore2.ConnectError(f"cannot resolve {host}: {error}") from None
            except TimeoutError:
                raise httpcore2.ConnectTimeout(f"resolving {host} took over {timeout:g} s") from None
            addresses = list(dict.fromkeys(info[4][0] for info in found))
        refused = refused_among(host, addresses)
        if refused is not None:
            raise Refused(f"refused: {refused}; only public addresses are allowed (allow_private: true allows others)")
        failure: Exception = httpcore2.ConnectError(f"{host} has no address")
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore2.ConnectError, httpcore2.ConnectTimeout) as error:
                failure = error
        raise failure

    async def connect_unix_socket(self, path, timeout=None, socket_options=None):  # never asked for: no uds
        raise httpcore2.ConnectError("unix sockets are not webhook endpoints")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class Sender:
    def __init__(self, timeout: float):
        self.timeout = timeout
        limits = {"max_connections": 100, "keepalive_expiry": 30.0, "retries": 0}
        self._public = httpcore2.AsyncConnectionPool(network_backend=PublicOnly(), **limits)
        self._private = httpcore2.AsyncConnectionPool(**limits)

    async def send(self, endpoint: Endpoint, headers: list[tuple[bytes, bytes]], body: bytes) -> Answer:
        """POST `body` to the endpoint; the answer, never an exception for what the network does."""
        pool = self._private if endpoint.allow_private else self._public
        seconds = self.timeout
        timeouts = {"connect": seconds, "read": seconds, "write": seconds, "pool": seconds}
        try:
            async with asyncio.timeout(seconds):  # a receiver that drips its answer byte by byte, too
                async with pool.stream(
                    "POST", endpoint.url, headers=headers, content=body, extensions={"timeout": timeouts}
                ) as response:
                    answer = b""
                    async for chunk in response.aiter_stream():
                        answer += chunk
                        if len(answer) >= MAX_ANSWER:
                            break
                    status, response_headers = response.status, response.headers
        except Refused as error:
            return Answer(0, str(error))
        except (TimeoutError, httpcore2.TimeoutException):
            return Answer(0, f"no answer within {seconds:g} s")
        except httpcore2.ConnectError as error:
            return Answer(0, f"could not connect: {_line(str(error)) or type(error).__name__}")
        except (httpcore2.NetworkError, httpcore2.ProtocolError, httpcore2.UnsupportedProtocol, OSError) as error:
            return Answer(0, f"{type(error).__name__}: {_line(str(error))}")
        if 200 <= status < 300:
            return Answer(status)
        text = _line(answer[:MAX_ANSWER].decode("utf-8", "replace"))[:200]
        return Answer(status, f"HTTP {status}" + (f": {text}" if text else ""), _retry_after(response_headers))

    async def close(self) -> None:
        await self._public.aclose()
        await self._private.aclose()


def _line(text: str) -> str:
    return " ".join(text.split())


def _retry_after(headers: list[tuple[bytes, bytes]]) -> float:
    for name, value in headers:
        if name.lower() == b"retry-after":
            text = value.decode("latin-1").strip()
            return float(text) if text.isdigit() else 0.0  # an HTTP date: ignored, the backoff decides
    return 0.0
