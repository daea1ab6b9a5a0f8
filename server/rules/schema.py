"""The JSON Schema of a rule file, for editors: ``irasshai rules schema > rules.schema.json``.

VS Code's YAML extension (and any editor speaking the YAML language server) uses it to
complete keys and flag mistakes while a marketer types. It describes the same language as
:mod:`server.rules.read` and :mod:`server.rules.compile`, built from the same tables (conditions,
rule keys, actions, operators, devices, names), so a key added there without a shape here fails the tests. The checker
stays the judge: it also knows the site (coupon pools, business hours) and what no schema
can say (``at_least`` not above ``at_most``, a template that compiles).
"""

from __future__ import annotations

from typing import Any

from server.coupons.pools import POOL_NAME
from server.devices import DEVICES
from server.names import DAY_NAMES, DAYS, EVENT_NAME, LANGUAGE_TAG, UTM_KEYS
from server.rules.actions import ACTION_TYPES, MAX_TEXT, REQUIRED, SPEC, STYLES
from server.rules.compile import CONDITIONS
from server.rules.matchers import OPERATORS
from server.rules.model import RULE_ID
from server.sites import PLACEMENTS

SCHEMA_URI = "http://json-schema.org/draft-07/schema#"
DURATION = r"^\d*[1-9]\d*[smhdw]$"  # 0s is refused too: a duration of 0 never passes
PERCENT = r"^(100(\.0+)?|\d{1,2}(\.\d+)?)%$"
HOLDOUT = r"^(90(\.0+)?|[0-8]?\d(\.\d+)?)%$"  # 0% to 90%, written with its %
PAGE_PATTERN = r"^(/|\*|re:)"
URL = r"^(/(?!/)|[Hh][Tt][Tt][Pp][Ss]?://[^/?#\s]+)"
CLOCK = r"^([01]?\d|2[0-3]):[0-5]\d$|^24:00$"
DATE = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$"


def _ref(name: str, description: str) -> dict:
    return {"$ref": f"#/definitions/{name}", "description": description}


def _one_or_list(item: dict, description: str) -> dict:
    return {"description": description, "anyOf": [item, {"type": "array", "items": item, "minItems": 1}]}


def _duration(description: str) -> dict:
    return {
        "type": "string",
        "pattern": DURATION,
        "examples": ["30s", "2m", "7d"],
        "description": description + " A number and a unit: 30s, 10m, 2h, 7d, 4w.",
    }


def _percent(description: str) -> dict:
    return {
        "description": description,
        "anyOf": [
            {"type": "string", "pattern": PERCENT, "examples": ["50%"]},
            {"type": "number", "minimum": 0, "maximum": 100},
        ],
    }


def _any_case(word: str) -> str:
    return "".join(f"[{letter}{letter.upper()}]" for letter in word)


def _counted(what: str, extra: dict, required: tuple[str, ...] = ()) -> dict:
    return {
        "type": "object",
        "additionalProperties": False,
        "description": what,
        "properties": {
            **extra,
            "at_least": {"type": "integer", "minimum": 0, "description": "Holds when the count is at least this."},
            "at_most": {
                "type": "integer",
                "minimum": 0,
                "description": "Holds when the count is at most this (0: none at all).",
            },
            "within": _duration("Count only the last period, e.g. 7d. Without it, count all that is remembered."),
        },
        "required": list(required),
        "anyOf": [{"required": ["at_least"]}, {"required": ["at_most"]}],
    }


def _hours() -> dict:
    clock = {
        "anyOf": [
            {"type": "string", "pattern": CLOCK},
            {"type": "integer", "minimum": 0, "maximum": 1440},
        ],  # YAML 1.1 reads 09:00 as 540
        "description": 'A time of day "HH:MM" in the site\'s timezone; quote it: "09:00".',
    }
    any_case = "|".join(_any_case(day) for day in DAYS + DAY_NAMES)
    day = {"anyOf": [{"enum": list(DAYS)}, {"type": "string", "pattern": f"^({any_case})$"}]}
    return {
        "description": "Now is within these hours, in the site's timezone. 'business' means business_hours "
        "in site.yaml; outside them: not: {hours: business}. 'to' may pass midnight.",
        "anyOf": [
            {"const": "business"},
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["from", "to"],
                "properties": {
                    "days": _one_or_list(day, "Days: mon, tue, wed, thu, fri, sat, sun (default: every day)."),
                    "from": {**clock, "description": 'Opening time, e.g. "09:00".'},
                    "to": {
                        **clock,
                        "description": 'Closing time (not included), e.g. "18:00"; '
                        '"02:00" after "22:00" passes midnight.',
                    },
                },
            },
        ],
    }


_CONDITIONS: dict[str, dict] = {
    "page": _one_or_list(
        {"type": "string", "minLength": 1, "pattern": PAGE_PATTERN},
        "The current page's path matches: a glob anchored on the whole path ('*' crosses '/', e.g. /products/*), "
        "or 're:' and a regex matched against the whole path. A list matches any of them.",
    ),
    "event": _one_or_list(
        {"type": "string", "pattern": EVENT_NAME},
        "The current event is this custom event (irasshai('track', name)); a list: any of them.",
    ),
    "page_views": _counted(
        "Views of pages (the current view included), counted.",
        {
            "page": _one_or_list(
                {"type": "string", "minLength": 1, "pattern": PAGE_PATTERN},
                "Count views of pages matching this (default: every page).",
            ),
        },
    ),
    "sessions": _counted(
        "The visitor's sessions, counted (the current one included).",
        {
            "page": _one_or_list(
                {"type": "string", "minLength": 1, "pattern": PAGE_PATTERN},
                "Count only sessions in which such a page was viewed.",
            ),
        },
    ),
    "events": _counted(
        "Custom events this visitor sent, counted (the current one included).",
        {
            "name": {
                "type": "string",
                "pattern": EVENT_NAME,
                "description": "The custom event to count, e.g. add_to_cart.",
            },
            "where": _ref("valueTests", "Count only events whose properties pass these tests."),
        },
        required=("name",),
    ),
    "visitor": {
        "type": "object",
        "description": "Tests on the visitor's attributes (irasshai('set', …) and identify). "
        "A missing attribute passes only 'ne' and 'exists: false'.",
        # A pattern, not "properties": the mapping is open (any attribute name), one name is reserved.
        "patternProperties": {
            "^verified$": {
                "type": "boolean",
                "description": "true: the shop's server proved who the visitor is (identify with hash or jwt); "
                "false: it did not.",
            }
        },
        "additionalProperties": {"$ref": "#/definitions/valueTest"},
    },
    "properties": _ref("valueTests", "Tests on the current custom event's properties; use with 'event'."),
    "returning": {
        "type": "boolean",
        "description": "true: the visitor is in their second session or later; false: their first.",
    },
    "device": _one_or_list(
        {"enum": list(DEVICES)}, "The visitor's device: mobile, tablet or desktop; a list: any of them."
    ),
    "language": _one_or_list(
        {"type": "string", "pattern": LANGUAGE_TAG},
        "The visitor's language starts with this tag: ja matches ja and ja-JP.",
    ),
    "referrer": {
        "type": "string",
        "description": "The referrer of this session's landing page matches this glob "
        "(case-insensitive, whole URL), e.g. '*google.*'.",
    },
    "utm": {
        "type": "object",
        "additionalProperties": False,
        "minProperties": 1,
        "description": "UTM parameters of this session's landing page; each value a glob (case-insensitive).",
        "properties": {
            key: {"type": ["string", "number"], "description": f"utm_{key} matches this glob."} for key in UTM_KEYS
        },
    },
    "hours": _hours(),
    "dates": {
        "type": "object",
        "additionalProperties": False,
        "minProperties": 1,
        "description": "Now is within these dates, in the site's timezone.",
        "properties": {
            "from": {"type": "string", "pattern": DATE, "description": "From this date (or 'YYYY-MM-DD HH:MM') on."},
            "until": {
                "type": "string",
                "pattern": DATE,
                "description": "Until this date, the whole day included (or until 'YYYY-MM-DD HH:MM', not included).",
            },
        },
    },
    "time_on_page": _duration("The visitor has been on this page at least this long (watched by the widget)."),
    "time_on_site": _duration("This session started at least this long ago (measured by the server)."),
    "idle": _duration("The visitor has done nothing on this page for this long (watched by the widget)."),
    "scroll": _percent("The visitor has scrolled at least this far down this page, e.g. 50% (watched by the widget)."),
    "exit_intent": {
        "const": True,
        "description": "The visitor seems about to leave the page (watched by the widget). Only true.",
    },
    "sample": _percent("A stable share of visitors, e.g. 50%; not: {sample: 50%} is the other half."),
    "all": {
        "type": "array",
        "minItems": 1,
        "items": {"$ref": "#/definitions/conditions"},
        "description": "Every one of these condition mappings holds.",
    },
    "any": {
        "type": "array",
        "minItems": 1,
        "items": {"$ref": "#/definitions/conditions"},
        "description": "At least one of these condition mappings holds.",
    },
    "not": _ref("conditions", "This condition mapping does not hold."),
}

_OPERATORS: dict[str, dict] = {
    "eq": {"description": "Equal to this value (a plain value means the same)."},
    "ne": {"description": "Not equal to this value; also holds when the value is missing."},
    "gt": {"type": ["number", "string"], "description": "Greater than (numbers with numbers, text with text)."},
    "gte": {"type": ["number", "string"], "description": "Greater than or equal to."},
    "lt": {"type": ["number", "string"], "description": "Less than."},
    "lte": {"type": ["number", "string"], "description": "Less than or equal to."},
    "in": {"type": "array", "description": "Equal to one of these values."},
    "contains": {"description": "Text that contains this text, or a list that contains this value."},
    "exists": {"type": "boolean", "description": "true: the value is present; false: it is missing."},
}

_ACTION_HELP: dict[str, str] = {
    "chat": "A chat prompt. Short form: chat: 'Can I help?'.",
    "coupon": "A coupon offer with a code from one of the site's coupon pools.",
    "message": "A message: a toast, a banner or a modal.",
    "text": "The text (a template, e.g. {{ visitor.name | default('お客') }}さま).",
    "title": "The title (a template).",
    "agent": "Who speaks.",
    "name": "The agent's name (a template).",
    "avatar": "The agent's picture: an https:// URL or a path such as /img/staff.png.",
    "button": "A button: its label, or {label, url}.",
    "label": "The button's label (a template).",
    "url": "Where the button goes: an https:// URL or a path such as /category/bottoms.",
    "pool": "A coupon pool declared under 'coupons' in site.yaml.",
    "style": "toast (default), banner or modal.",
    "placement": "Where it shows on a wide screen: bottom-right, bottom-left, top or bottom "
    "(default: the site's placement). On a phone it is always at the bottom.",
    "image": "A picture: an https:// URL or a path.",
}


def _action_value(shape: Any, key: str) -> dict:
    help_text = _ACTION_HELP[key]
    if isinstance(shape, dict):
        mapping = {
            "type": "object",
            "additionalProperties": False,
            "properties": {k: _action_value(v, k) for k, v in shape.items()},
        }
        if key == "button":
            return {"description": help_text, "anyOf": [{"type": "string", "maxLength": MAX_TEXT}, mapping]}
        return {"description": help_text, **mapping}
    if shape == "text":
        return {"type": ["string", "number"], "maxLength": MAX_TEXT, "description": help_text}
    if shape == "url":
        return {"type": "string", "pattern": URL, "description": help_text}
    if shape == "style":
        return {"enum": list(STYLES), "default": "toast", "description": help_text}
    if shape == "pool":
        return {"type": "string", "pattern": POOL_NAME.pattern, "description": help_text}
    if shape == "placement":
        return {"enum": list(PLACEMENTS), "description": help_text}
    raise ValueError(f"no schema for action value shape {shape!r} (key {key!r})")


def _action(action_type: str) -> dict:
    body = _action_value(SPEC[action_type], action_type)
    body["required"] = list(REQUIRED[action_type])
    if action_type == "message":
        body["anyOf"] = [{"required": ["title"]}, {"required": ["text"]}]
    if action_type == "chat":
        return {"description": body.pop("description"), "anyOf": [{"type": "string", "maxLength": MAX_TEXT}, body]}
    return body


def rule_file_schema() -> dict:
    """The JSON Schema (draft-07) of one rule file, ``rules/<site>/<name>.yaml``."""
    rule = {
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "show"],
        "properties": {
            "id": {
                "type": "string",
                "pattern": RULE_ID.pattern,
                "description": "Unique in the site: letters, digits, '-', '_' or '.', up to 64.",
            },
            "description": {"type": "string", "description": "What the rule is for, for the people who read it."},
            "enabled": {"type": "boolean", "default": True, "description": "false: checked, but not live."},
            "priority": {
                "type": "integer",
                "default": 0,
                "description": "When several rules could show, the highest wins; ties go to the rule written first.",
            },
            "when": _ref("conditions", "Conditions that must all hold (none: always)."),
            "show": {
                "type": "object",
                "additionalProperties": False,
                "minProperties": 1,
                "maxProperties": 1,
                "description": "What to show: exactly one of chat, coupon, message.",
                "properties": {action_type: _action(action_type) for action_type in ACTION_TYPES},
            },
            "limit": {
                "type": "object",
                "additionalProperties": False,
                "description": "How often the rule may show (default: once per session).",
                "anyOf": [{"required": ["per_visitor"]}, {"required": ["per_session"]}],
                "dependencies": {"within": ["per_visitor"]},
                "properties": {
                    "per_visitor": {
                        "type": "integer",
                        "minimum": 1,
                        "description": "At most this many times per visitor.",
                    },
                    "within": _duration("With per_visitor: count only the shows in this period."),
                    "per_session": {
                        "type": "integer",
                        "minimum": 1,
                        "description": "At most this many times per session.",
                    },
                },
            },
            "holdout": {
                "type": "string",
                "pattern": HOLDOUT,
                "examples": ["10%"],
                "description": "The share of visitors (0% to 90%) for whom the rule is decided but not shown: "
                "its control group, to measure what showing it changes. Default: site.yaml's holdout, else 0%.",
            },
            "goal": {
                "type": "string",
                "minLength": 1,
                "description": "The site.yaml goal this rule's conversions count for. Default: the first goal.",
            },
        },
    }
    return {
        "$schema": SCHEMA_URI,
        "title": "Irasshai rule file",
        "description": "Trigger rules of one site (rules/<site>/*.yaml). See docs/rules.md.",
        "type": "object",
        "additionalProperties": False,
        "required": ["rules"],
        "properties": {"rules": {"type": "array", "items": rule, "description": "The rules in this file."}},
        "definitions": {
            "conditions": {
                "type": "object",
                "additionalProperties": False,
                "description": "Conditions; all of them must hold.",
                "properties": {key: _CONDITIONS[key] for key in CONDITIONS},
            },
            "valueTests": {
                "type": "object",
                "description": "Name → a value (equal), a list (one of) or operators.",
                "additionalProperties": {"$ref": "#/definitions/valueTest"},
            },
            "valueTest": {
                "anyOf": [
                    {"type": ["string", "number", "boolean", "null"], "description": "Equal to this value."},
                    {"type": "array", "description": "Equal to one of these values."},
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "minProperties": 1,
                        "properties": {op: _OPERATORS[op] for op in (*OPERATORS, "exists")},
                    },
                ],
            },
        },
    }
