"""Generated chat actions (POST /v1/sites/{site}/chat) and operator API calls
(/v1/sites/{site}/conversations…, /visitors/{visitor}/message), against the real app (docs/chat.md).

Contract, whatever the body, path or query: never a 5xx; a refusal (4xx) is one line of JSON
naming what is wrong. Requests are valid ones with any text in their texts and ids, the same
with one value replaced, removed or extended, their bytes mutated, and anything at all; the
operator API gets them with the site's secret (and sometimes a wrong one), on paths holding
any text, percent-encoded, including bytes that are not UTF-8.
"""

from __future__ import annotations

from contextlib import contextmanager
from urllib.parse import quote

from hypothesis import given, note
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from server.identity import VisitorIds
from tests.fuzz.checks import check_answer
from tests.fuzz.wire import TOKEN, Mutated, any_json, deep, encode, event_ids, mutations, scaled, text
from tests.helpers import SECRET, SHOP, make_app, page_view, post, write_site

SITE_SECRET = "fuzz-site-secret-0123456789"
languages = st.one_of(st.sampled_from(["ja", "en", "", "fr", "en-US"]), text)
entry_ids = st.one_of(
    st.sampled_from(["0-0", "1-1", "99999999999999999999-0", "1-99999999999999999999", "-1-0", "1-", "１-１"]),
    st.from_regex(r"[0-9]{1,22}-[0-9]{1,22}", fullmatch=True),
    text,
)
chat_actions = st.one_of(
    st.fixed_dictionaries({"type": st.just("open")}, optional={"rule": text, "language": languages}),
    st.fixed_dictionaries(
        {"type": st.just("say"), "id": event_ids, "text": st.one_of(text, st.just("x" * 2001))},
        optional={"rule": text, "language": languages},
    ),
    st.fixed_dictionaries({"type": st.just("choose"), "id": event_ids, "choice": st.one_of(st.just("handoff"), text)}),
    st.just({"type": "typing"}),
    st.fixed_dictionaries({"type": st.just("read"), "up_to": entry_ids}),
)
chat_requests = st.fixed_dictionaries({"visitor": st.just(TOKEN), "do": chat_actions})


@contextmanager
def chat_client(tmp_path):
    """The app with a site secret and no chat rate limit, a known visitor and its conversation:
    (client, the visitor's token, its id, its conversation's id)."""
    write_site(tmp_path)
    app = make_app(tmp_path, site_secrets=f"shop={SITE_SECRET}", chat_messages_per_minute=0)
    with TestClient(app) as client:
        token = post(client, encode({"events": [page_view("/")]})).json()["visitor"]
        opened = chat(client, encode({"visitor": token, "do": {"type": "say", "id": "first-message", "text": "hi"}}))
        assert opened.status_code == 200, opened.text
        yield client, token, VisitorIds(SECRET).verify("shop", token), opened.json()["conversation"]["id"]


def chat(client, body: bytes):
    headers = {"origin": SHOP, "content-type": "text/plain;charset=UTF-8"}
    return client.post("/v1/sites/shop/chat", content=body, headers=headers)


def test_generated_chat_actions_never_get_a_5xx(tmp_path):
    with chat_client(tmp_path) as (client, token, _, _):

        @hypothesis_settings(max_examples=scaled(2))
        @given(
            st.one_of(
                chat_requests.map(lambda r: Mutated(r, "valid")),
                mutations(chat_requests),
                mutations(chat_requests),
                st.one_of(any_json, deep).map(lambda b: Mutated(b, "anything")),
            ),
            st.booleans(),
            st.one_of(st.none(), st.integers(0, 400), st.binary(max_size=4)),
        )
        def run(mutated: Mutated, ascii_only: bool, cut: int | bytes | None) -> None:
            body = encode(mutated.document, token, ascii_only)
            if isinstance(cut, int):
                body = body[:cut]
            elif isinstance(cut, bytes):
                body = body.replace(b'"', b'"' + cut, 1)
            note(f"{mutated.what}: {body[:2000]!r}")
            check_answer(chat(client, body), "POST /chat", f"body {body[:300]!r}")

        run()


def _segment(value: str | bytes) -> str:
    """A path segment holding `value`, percent-encoded (bytes: as they are, UTF-8 or not), cut at
    2,000 bytes (the test client refuses URLs over 64 KB; browsers and proxies stop far sooner)."""
    raw = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
    return quote(raw[:2000], safe="")


OPERATOR_BODIES = {
    "messages": st.fixed_dictionaries({"text": text}, optional={"author": text}),
    "status": st.fixed_dictionaries(
        {"status": st.one_of(st.sampled_from(["open", "waiting", "resolved", "bot"]), text)},
        optional={"assignee": st.one_of(st.none(), text)},
    ),
    "read": st.fixed_dictionaries({}, optional={"up_to": entry_ids}),
    "typing": st.fixed_dictionaries({}, optional={"author": text}),
}


class Call:
    """One operator API call (not a tuple: Hypothesis would print its 30 KB paths whole)."""

    def __init__(self, method: str, path: str, headers: dict[str, str], body: bytes):
        self.method, self.path, self.headers, self.body = method, path, headers, body

    def __repr__(self) -> str:
        return f"Call({self.method} {self.path[:200]} {self.headers} {self.body[:200]!r})"


@st.composite
def operator_calls(draw, conversation: str, visitor: str) -> Call:
    """(method, path with query, headers, body) of an operator API call, most with a real id."""
    ids = st.one_of(
        st.just(conversation),
        st.just(conversation).map(lambda c: c.rpartition(".")[0] + "." + draw(text)),
        text,
        st.binary(max_size=6),
    )
    secret = draw(st.sampled_from([SITE_SECRET] * 6 + ["", "wrong", SITE_SECRET + "\x00"]))
    headers = {"authorization": f"Bearer {secret}"} if secret else {}
    kind = draw(st.sampled_from(["list", "get", "messages", "status", "read", "typing", "proactive"]))
    base = "/v1/sites/shop"
    if kind == "list":
        status = draw(st.one_of(st.sampled_from(["waiting,open", "", ",,,", "resolved"]), text))
        return Call("GET", f"{base}/conversations?status={_segment(status)}", headers, b"")
    if kind == "get":
        return Call("GET", f"{base}/conversations/{_segment(draw(ids))}", headers, b"")
    body_kind = "messages" if kind == "proactive" else kind
    body = draw(st.one_of(OPERATOR_BODIES[body_kind], mutations(OPERATOR_BODIES[body_kind]), any_json, deep))
    document = body.document if isinstance(body, Mutated) else body
    data = encode(document, ascii_only=draw(st.booleans()))
    if draw(st.integers(0, 9)) == 0:
        data = data[: draw(st.integers(0, len(data)))]
    if kind == "proactive":
        who = draw(st.one_of(st.just(visitor), text, st.binary(max_size=6)))
        return Call("POST", f"{base}/visitors/{_segment(who)}/message", headers, data)
    return Call("POST", f"{base}/conversations/{_segment(draw(ids))}/{kind}", headers, data)


def test_generated_operator_api_calls_never_get_a_5xx(tmp_path):
    with chat_client(tmp_path) as (client, _, visitor, conversation):

        @hypothesis_settings(max_examples=scaled(2))
        @given(operator_calls(conversation, visitor))
        def run(call: Call) -> None:
            note(f"{call.method} {call.path[:2000]} {call.body[:2000]!r}")
            response = client.request(call.method, call.path, headers=call.headers, content=call.body or None)
            check_answer(response, "operator API", f"{call.method} {call.path[:300]} {call.body[:300]!r}")

        run()
