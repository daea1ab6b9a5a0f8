"""A coupon as a visitor gets it: the code, the discount text and when it expires."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Coupon:
    code: str
    discount: str = ""
    expires_at: int = 0  # seconds since the epoch; 0: no expiry
    # Handed to the visitor just now, not shown to them again (a coupon.claimed webhook event); not
    # part of what the coupon is, so the same code shown later is an equal Coupon.
    new: bool = field(default=False, compare=False)
