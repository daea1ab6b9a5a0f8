"""A coupon as a visitor gets it: the code, the discount text and when it expires."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Coupon:
    code: str
    discount: str = ""
    expires_at: int = 0  # seconds since the epoch; 0: no expiry
    new: bool = False  # handed to the visitor just now, not shown to them again (a coupon.claimed webhook event)
