"""One server under test, started the same way for all three: uvicorn, uvloop, httptools, one
worker, no access log.

    python -m bench.serve bare --port 9001
    python -m bench.serve irasshai --port 9002 --rules DIR --secret KEY [--redis URL] [--site-secrets S]

`bare` is the baseline: a Starlette endpoint at the same path that reads the body and
returns a fixed JSON reply. `irasshai` is the real app from server.app.create_app, with its
production defaults (rules hot reload on).
"""

from __future__ import annotations

import argparse

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

FIXED_REPLY = b'{"visitor":"bench","acked":[]}'


def bare_app() -> Starlette:
    async def post_events(request: Request) -> Response:
        await request.body()
        return Response(FIXED_REPLY, media_type="application/json")

    return Starlette(routes=[Route("/v1/sites/{site}/events", post_events, methods=["POST"])])


def irasshai_app(rules_dir: str, secret: str, redis_url: str, site_secrets: str = ""):
    from server.app import create_app
    from server.settings import Settings

    return create_app(
        Settings(
            secret_key=secret,
            rules_dir=rules_dir,
            redis_url=redis_url,
            site_secrets=site_secrets,
            log_level="warning",
            # wrk is one address sending as fast as the server answers, each of the bench's visitors
            # many times a minute: the per-address and per-visitor event limits would answer 429s,
            # and the bench would measure refusals. A real shop's traffic stays far below them.
            events_per_address_per_minute=0,
            events_per_visitor_per_minute=0,
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.serve")
    parser.add_argument("kind", choices=("bare", "irasshai"))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--rules", default="rules")
    parser.add_argument("--secret", default="")
    parser.add_argument("--redis", default="")
    parser.add_argument("--site-secrets", default="", help="site=secret,… for the operator API (bench/chat.py)")
    args = parser.parse_args()
    app = bare_app() if args.kind == "bare" else irasshai_app(args.rules, args.secret, args.redis, args.site_secrets)
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        workers=1,
        access_log=False,
        log_level="warning",
        server_header=False,
    )


if __name__ == "__main__":
    main()
