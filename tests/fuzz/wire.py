"""Hypothesis strategies for what reaches the server from outside: text, URLs, numbers, JSON.

Values are plain Python data plus two markers the encoder understands: :class:`Raw` (bytes
put into the JSON text as they are: deep nesting, numbers Python cannot print, invalid UTF-8)
and :data:`TOKEN` (the known visitor's token, filled in when the body is written, since it
exists only once the test's app runs). :func:`encode` writes a value as JSON bytes, with
non-ASCII escaped (lone surrogates become ``\\ud800`` escapes, as JSON.stringify sends them)
or raw (lone surrogates become bytes that are not UTF-8).
"""

from __future__ import annotations

import copy
import json
import time

from hypothesis import settings
from hypothesis import strategies as st

from server.names import EVENT_NAME


def scaled(fraction: float) -> int:
    """A test's number of examples: `fraction` of the profile's (tests/conftest.py), at least 5."""
    return max(5, int(settings.default.max_examples * fraction))


class Raw:
    """JSON text (or not) written into the body as it is. (Not a dataclass: Hypothesis would
    print its fields whole, and this class's repr is short.)"""

    def __init__(self, text: bytes):
        self.text = text

    def __repr__(self) -> str:  # short: a failing example is printed, and some are 120 KB
        return f"Raw({self.text[:40]!r}{'…' if len(self.text) > 40 else ''} {len(self.text)} bytes)"


class _Token:
    def __repr__(self) -> str:
        return "TOKEN"

    def __deepcopy__(self, memo) -> _Token:  # one marker, found by identity
        return self


TOKEN = _Token()


def encode(value, token: str = "", ascii_only: bool = True) -> bytes:
    """`value` as JSON bytes; TOKEN becomes `token`."""
    if isinstance(value, Raw):
        return value.text
    if value is TOKEN:
        return json.dumps(token).encode()
    if isinstance(value, dict):
        items = (encode(str(k), token, ascii_only) + b":" + encode(v, token, ascii_only) for k, v in value.items())
        return b"{" + b",".join(items) + b"}"
    if isinstance(value, list | tuple):
        return b"[" + b",".join(encode(v, token, ascii_only) for v in value) + b"]"
    if isinstance(value, str):
        # surrogatepass: a lone surrogate written raw is the three bytes no UTF-8 decoder accepts.
        return json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    return json.dumps(value).encode()  # floats may come out as NaN or Infinity: not JSON, on purpose


# -- text ----------------------------------------------------------------------------------------

CONTROLS = "".join(map(chr, [*range(0x00, 0x20), 0x7F, 0x80, 0x85, 0x9F]))
BIDI_AND_INVISIBLE = (
    "\u061c\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2066\u2067\u2068\u2069\ufeff"
)
LINE_BREAKS = "\n\r\u2028\u2029\u000b\u000c"
NONCHARACTERS = "\ufffd\ufffe\uffff\U0010ffff\U0001fffe"
FULL_WIDTH = "".join(map(chr, range(0xFF01, 0xFF5F))) + "\u3000"
# Compatibility characters NFKC changes (some into '/', ':', '@' or '.': the netloc check of urlsplit)
COMPATIBILITY = "\u2100\u2101\u2105\u2106\u2116\u2122\u212a\u212b\ufb00\ufb01\ufb03\u2460\u2474\u2488\u2160\u00b9\u00b2\u1d43\u3231\u337f\u3300\ufe13\ufe55\ufe6b\uff0f\uff1a\uff20\u2024\u2025\u2044\u0130\u0131\u00df"
SURROGATES = "\ud800\udbff\udc00\udfff\ud83d\ude00"
COMBINING = "\u0301\u0308\u20dd\u0e47\u093f\u3099"
ASTRAL = "\U0001f600\U0001f1ef\U0001f1f5\U0001f9d1\u200d\U0001f4bb\U00020bb7\U0001d400"
SYNTAX = "\"\\/:?#[]@!$&'()*+,;=%<>{}|^`~ ."
HOSTILE = CONTROLS + BIDI_AND_INVISIBLE + LINE_BREAKS + NONCHARACTERS + FULL_WIDTH + COMPATIBILITY + SURROGATES
HOSTILE += COMBINING + ASTRAL + SYNTAX

hostile_char = st.one_of(st.sampled_from(HOSTILE), st.characters(codec="utf-8"), st.characters())
# Any text: surrogates, controls, bidi marks and full-width and compatibility characters among
# ordinary ones, and sometimes one of the sizes right at or past a cap.
_short = st.text(st.sampled_from("ab_"), max_size=2)
text = st.one_of(
    st.text(hostile_char, max_size=40),
    st.builds(lambda a, b, c: a + b + c, _short, st.sampled_from(LINE_BREAKS + BIDI_AND_INVISIBLE + CONTROLS), _short),
    st.sampled_from(["", " ", "null", "0", "-1", "true", "__proto__", "constructor", "{{ 7*7 }}", "<script>"]),
    st.builds(lambda char, n: char * n, hostile_char, st.sampled_from([120, 121, 511, 512, 513, 1025, 2049, 9000])),
)

# -- numbers ----------------------------------------------------------------------------------------

EDGE_INTEGERS = [0, -1, 1, 2**31, 2**53 + 1, 2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1, 10**300]
NUMBER_LITERALS = [b"1e400", b"-1e400", b"1e-400", b"-0", b"0.0", b"1E+2", b"1" + b"0" * 5000, b"-" + b"9" * 400]
numbers = st.one_of(
    st.integers(),
    st.sampled_from(EDGE_INTEGERS),
    st.floats(),  # NaN and infinities included: they are written as NaN and Infinity, which are not JSON
    st.sampled_from(NUMBER_LITERALS).map(Raw),
)

# -- nesting -------------------------------------------------------------------------------------------


def _nested(depth: int, kind: str) -> Raw:
    if kind == "list":
        return Raw(b"[" * depth + b"]" * depth)
    if kind == "object":
        return Raw(b'{"a":' * depth + b"1" + b"}" * depth)
    return Raw(b"[" * depth)  # never closed


deep = st.builds(_nested, st.sampled_from([50, 200, 1000, 5000, 60_000]), st.sampled_from(["list", "object", "open"]))

# -- JSON of any shape ------------------------------------------------------------------------------

scalars = st.one_of(st.none(), st.booleans(), numbers, text)
any_json = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
    max_leaves=12,
)

# -- URLs ---------------------------------------------------------------------------------------------

SCHEMES = ["https", "http", "HTTPS", "", "javascript", "data", "ftp", "1http", "ht tp", "\u0130http"]
HOSTS = [
    "shop.example",
    "127.0.0.1:8001",
    "[::1]",
    "[::1",
    "[shop]",
    "[::1]:80x",
    "shop.example:99999999999",
    "shop.example:-1",
    "user:pass@shop.example",
    "a@b@c",
    "ｓｈｏｐ．ｅｘａｍｐｌｅ",
    "shop\u2100.example",
    "shop\uff03.example",
    "shop\u2488example",
    "xn--",
    "ex\u0301ample",
    "",
]
UTM = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "utm_", "q"]


@st.composite
def urls(draw) -> str:
    """A URL made of hostile parts, or any text at all."""
    if draw(st.integers(0, 4)) == 0:
        return draw(text)
    scheme = draw(st.sampled_from(SCHEMES))
    host = draw(st.one_of(st.sampled_from(HOSTS), text))
    path = "/" + draw(text)
    query = "&".join(
        f"{draw(st.one_of(st.sampled_from(UTM), text))}={draw(text)}" for _ in range(draw(st.integers(0, 3)))
    )
    fragment = draw(st.one_of(st.just(""), text))
    url = f"{scheme}://{host}{path}" if scheme or host else path
    return url + (f"?{query}" if query else "") + (f"#{fragment}" if fragment else "")


# -- the wire format ---------------------------------------------------------------------------------

names = st.one_of(
    st.from_regex(EVENT_NAME, fullmatch=True),
    st.sampled_from(["add_to_cart", "purchase", "view_product", "cart_value", "name", "value", "category"]),
)
# Unique ids, mostly (a repeated id is a duplicate, acknowledged and not applied again).
event_ids = st.one_of(st.uuids().map(lambda u: u.hex), st.from_regex(r"[A-Za-z0-9_-]{8,64}", fullmatch=True))
prop_values = st.one_of(scalars, st.lists(scalars, max_size=4))
properties = st.dictionaries(names, prop_values, max_size=5)


def _now_ms(offset: int) -> int:
    return int(time.time() * 1000) - offset


timestamps = st.integers(0, 3_600_000).map(_now_ms)  # within the last hour: applied, not expired
SIGNALS = ["time_on_page", "time_on_site", "scroll", "exit_intent", "idle"]
signal_values = st.floats(min_value=0, max_value=1e12, allow_nan=False)


def _event(kind: str, required: dict, optional: dict | None = None):
    return st.fixed_dictionaries(
        {"type": st.just(kind), "id": event_ids, "ts": timestamps, **required}, optional=optional
    )


page_views = _event("page_view", {"url": urls()}, {"title": text, "referrer": urls()})
tracks = _event("track", {"name": names}, {"properties": properties, "url": urls()})
sets = _event("set", {"attributes": properties})
identifies = _event(
    "identify",
    {"customer": st.text(hostile_char, min_size=1, max_size=40)},
    {"attributes": properties, "hash": st.text(max_size=10)},
)
signals = _event(
    "signal",
    {"signal": st.sampled_from(SIGNALS), "url": urls()},
    {"value": signal_values, "reached": st.dictionaries(st.sampled_from(SIGNALS), signal_values, max_size=5)},
)
feedbacks = _event("feedback", {"rule": names, "action": st.sampled_from(["shown", "clicked", "dismissed", "copied"])})
valid_events = st.one_of(page_views, tracks, sets, identifies, signals, feedbacks)
seeds = st.from_regex(r"[A-Za-z0-9_-]{22,64}", fullmatch=True)


@st.composite
def valid_batches(draw) -> dict:
    """A batch the wire format allows, mostly from the known visitor (TOKEN)."""
    batch = {"events": draw(st.lists(valid_events, min_size=1, max_size=4))}
    who = draw(st.sampled_from(["token", "token", "token", "null", "seed", "absent"]))
    if who == "token":
        batch["visitor"] = TOKEN
    elif who == "null":
        batch["visitor"] = None
    elif who == "seed":
        batch["visitor"], batch["seed"] = None, draw(seeds)
    if draw(st.booleans()):
        batch["context"] = {"language": draw(st.one_of(st.sampled_from(["ja-JP", "en", ""]), text))}
    return batch


def _paths(value, prefix=()):
    """Every place in `value` a mutation can hit, the root included."""
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*prefix, index))


replacements = st.one_of(any_json, text, numbers, deep, urls(), st.just(TOKEN))


class Mutated:
    """A document (a batch, a chat request…) and what was changed in it to make it."""

    def __init__(self, document: object, what: str):
        self.document, self.what = document, what

    def __repr__(self) -> str:  # short: Hypothesis prints every example it reports
        body = encode(self.document, "TOKEN")
        return f"Mutated({self.what}, {body[:200]!r}{'…' if len(body) > 200 else ''})"


def mutated_batches():
    return mutations(valid_batches())


@st.composite
def mutations(draw, documents) -> Mutated:
    """A document of `documents` with one value replaced, removed or extended (or replaced whole)."""
    document = copy.deepcopy(draw(documents))  # a strategy may hand out the same object twice (st.just)
    path = draw(st.sampled_from(list(_paths(document))))
    if not path:
        return Mutated(draw(replacements), "replace the whole document")
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    key, kind = path[-1], draw(st.sampled_from(["replace", "delete", "extra field"]))
    if kind == "replace":
        parent[key] = draw(replacements)
    elif kind == "delete":
        del parent[key]
    elif isinstance(parent[key], dict):
        parent[key][draw(text)] = draw(any_json)
    elif isinstance(parent[key], list):
        parent[key].append(draw(any_json))
    else:
        parent[key] = [parent[key], draw(any_json)]
    return Mutated(document, f"{kind} at {'/'.join(map(str, path))}")


class ByteMutation:
    """A valid batch whose encoding gets `insert` at `at` (modulo its length), `remove` bytes removed."""

    def __init__(self, batch: object, at: int, insert: bytes, remove: int):
        self.batch, self.at, self.insert, self.remove = batch, at, insert, remove

    def body(self, token: str, ascii_only: bool) -> bytes:
        body = encode(self.batch, token, ascii_only)
        at = self.at % (len(body) + 1)
        return body[:at] + self.insert + body[at + self.remove :]

    def __repr__(self) -> str:
        return f"ByteMutation(at {self.at}: {self.insert!r} for {self.remove} bytes, {encode(self.batch)[:200]!r})"


@st.composite
def byte_mutations(draw) -> ByteMutation:
    batch = draw(valid_batches())
    insert = draw(
        st.one_of(
            st.binary(max_size=8),
            st.sampled_from([b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\x80", b"\\", b'"', b"\\u", b"\\ud800", b"\x00"]),
        )
    )
    return ByteMutation(batch, draw(st.integers(0, 10_000)), insert, draw(st.integers(0, 3)))
