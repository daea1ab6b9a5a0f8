"""Names and patterns shared by the wire format, rule files, rule test files and the rules schema.

Each is written once here, so that a name the widget may send is exactly a name a rule may
test, and the JSON Schema an editor checks against says the same as the server.
"""

from __future__ import annotations

import re

# A custom event's or a property's name: `add_to_cart`, `cart.value`, `shop:promo`.
EVENT_NAME = r"^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,63}$"
# A language tag as browsers send it: `ja`, `en-US`, `zh-Hant-TW`.
LANGUAGE_TAG = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$"

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # weekday() order: 0 is Monday
DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")  # also accepted

UTM_KEYS = ("source", "medium", "campaign", "term", "content")  # utm_source= … in a landing URL

_event_name = re.compile(EVENT_NAME)
_language_tag = re.compile(LANGUAGE_TAG)


def is_event_name(value: object) -> bool:
    return isinstance(value, str) and _event_name.fullmatch(value) is not None


def is_language_tag(value: object) -> bool:
    return isinstance(value, str) and _language_tag.fullmatch(value) is not None
