"""The server-to-server API's authentication: a site's secret as a Bearer token.

Only the configured secrets are consulted, never the rules, and a site with no secret gets
the same answer as a wrong secret: the reply tells a caller nothing about which sites exist
or have a secret. The server log says when a site has none.
"""

from __future__ import annotations

import logging

from starlette.requests import Request

from server.constant_time import same_secret
from server.web.errors import Refusal
from server.web.services import services

log = logging.getLogger("irasshai.web")

_NO_SECRET = b"no secret is configured for this site"  # compared like a real one: same work, same answer


def require_site_secret(request: Request, site_key: str) -> None:
    """Return when the request carries the site's secret; else raise a 401 Refusal."""
    secret = services(request).site_secrets.get(site_key)
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    matches = same_secret(given.strip(), _NO_SECRET if secret is None else secret)
    if secret is None:
        log.info(
            "refused a server-to-server call for site '%s': it has no secret in IRASSHAI_SITE_SECRETS", site_key[:64]
        )
    if secret is None or scheme.lower() != "bearer" or not matches:
        raise Refusal(
            "missing or wrong secret; send 'Authorization: Bearer <the site's secret>' "
            "(secrets are set in IRASSHAI_SITE_SECRETS on the Irasshai server)",
            401,
            {"www-authenticate": "Bearer"},
        )
