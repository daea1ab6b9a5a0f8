"""The shop's backend redeems a buyer's coupon code with Irasshai, server to server.

`POST {irasshai}/v1/coupons/redeem` with the site's secret as a Bearer token (docs/coupons.md,
"Redeeming a code"). Its answers come down to four outcomes for the checkout:

- `valid`: 200; the code was marked used (or is a pool's shared code), `pool` says which pool;
- `unknown`: 404 for the code: no pool of the site gave it out;
- `used`: 409: redeemed before;
- `unavailable`: anything else (Irasshai unreachable or slow, no secret configured, a wrong
  secret, the store down): the code could not be checked, and the buyer may order without it.

The call is a blocking urllib request run in a thread: one request per order does not justify an
HTTP client library in the shop's dependencies.
"""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Literal

log = logging.getLogger("demo_shop.coupons")

# Irasshai's limit on a code's length; anything longer is no code it gave out.
MAX_CODE_LENGTH = 64

Outcome = Literal["valid", "unknown", "used", "unavailable"]


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    pool: str = ""


class CouponRedeemer:
    """Redeems codes of `site` at the Irasshai server `irasshai_url` with the site's `secret`."""

    def __init__(self, irasshai_url: str, site: str, secret: str, timeout: float = 5.0) -> None:
        self.url = irasshai_url.rstrip("/") + "/v1/coupons/redeem"
        self.site = site
        self.secret = secret
        self.timeout = timeout

    async def redeem(self, code: str) -> Verdict:
        if len(code) > MAX_CODE_LENGTH:
            return Verdict("unknown")
        if not self.secret:
            log.warning(
                "coupon %r not checked: the shop has no secret for site %r (IRASSHAI_SITE_SECRETS)", code, self.site
            )
            return Verdict("unavailable")
        return await asyncio.to_thread(self._redeem, code)

    def _redeem(self, code: str) -> Verdict:
        request = urllib.request.Request(
            self.url,
            data=json.dumps({"site": self.site, "code": code}).encode(),
            headers={"Authorization": f"Bearer {self.secret}", "Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = json.loads(response.read())
        except urllib.error.HTTPError as error:
            return self._refused(code, error)
        except (OSError, ValueError) as error:  # unreachable, timed out, or not Irasshai's JSON
            log.warning("coupon %r not checked: %s did not answer: %s", code, self.url, error)
            return Verdict("unavailable")
        pool = answer.get("pool") if isinstance(answer, dict) else None
        if not isinstance(pool, str):
            log.warning("coupon %r not checked: %s answered without a pool: %r", code, self.url, answer)
            return Verdict("unavailable")
        return Verdict("valid", pool)

    def _refused(self, code: str, error: urllib.error.HTTPError) -> Verdict:
        try:
            message = str(json.loads(error.read()).get("error", ""))
        except (OSError, ValueError, AttributeError):
            message = ""
        if error.code == 409:
            return Verdict("used")
        # A 404 also answers an unknown site: that is the shop's configuration, not the buyer's code.
        if error.code == 404 and message.startswith("unknown code"):
            return Verdict("unknown")
        log.warning("coupon %r not checked: %s answered %d: %s", code, self.url, error.code, message)
        return Verdict("unavailable")
