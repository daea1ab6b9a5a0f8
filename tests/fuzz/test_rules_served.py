"""Generated rule files and site.yaml that pass `irasshai rules check`, then served (docs/rules.md).

Contract: what the checker lets through, the server can run. Each example changes one value
of one of the demo's rules (or of its site.yaml); when the folder passes the checker, the app
is built on it (in-memory store, a clock the test moves) and a visitor browses as the demo's
rules expect (pages, a cart, custom events, signals, leaving): no answer is a 5xx.
"""

from __future__ import annotations

import copy
import io
import shutil
from contextlib import redirect_stdout
from pathlib import Path

from hypothesis import example, given, note
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from server.config import load_config
from tests.fuzz.checks import TALLY, check_answer
from tests.fuzz.rule_docs import DEMO, OTHER_DOCS, RULE_DOCS, dump, mutated_document
from tests.fuzz.wire import encode, scaled
from tests.helpers import make_app, post

ORIGIN = "http://127.0.0.1:8001"  # one of the demo site's origins
START = 1_772_413_200.0  # Monday 2026-03-02 10:00 in Tokyo: within the demo's business hours


def visit(client, clock: list[float]) -> None:
    """A visitor's afternoon on the demo shop: every answer checked."""
    token = None
    steps = [
        (
            "page_view",
            {"url": ORIGIN + "/?utm_source=line", "title": "布と日々", "referrer": "https://www.google.com/"},
        ),
        ("set", {"attributes": {"cart_value": 12800, "cart_items": 2, "name": "花子", "orders": 1}}),
        ("page_view", {"url": ORIGIN + "/pricing", "title": "料金"}),
        ("page_view", {"url": ORIGIN + "/pricing", "title": "料金"}),
        ("page_view", {"url": ORIGIN + "/products/organic-cotton-tee", "title": "T"}),
        ("track", {"name": "add_to_cart", "properties": {"category": "tops", "price": 3900}}),
        ("track", {"name": "view_product", "properties": {"category": "tops", "price": 7900}}),
        ("page_view", {"url": ORIGIN + "/checkout", "title": "レジ"}),
        ("signal", {"signal": "idle", "url": ORIGIN + "/checkout", "value": 60}),
        ("signal", {"signal": "time_on_page", "url": ORIGIN + "/checkout", "value": 60}),
        ("signal", {"signal": "exit_intent", "url": ORIGIN + "/checkout", "value": 1}),
        ("track", {"name": "purchase", "properties": {"value": 12800}}),
    ]
    for number, (kind, fields) in enumerate(steps):
        clock[0] += 61
        event = {"type": kind, "id": f"served-event-{number:04d}", "ts": int(clock[0] * 1000), **fields}
        response = post(client, encode({"visitor": token, "events": [event]}), origin=ORIGIN)
        check_answer(response, "events on checked rules", f"step {number} {kind}")
        if response.status_code == 200:
            token = response.json()["visitor"]


def _changed(name: str, path: tuple, value) -> tuple[str, str, object, tuple[str, ...]]:
    """The first of the demo's documents named `name` that has `path`, with `value` there."""
    for doc_name, document, needs in RULE_DOCS + OTHER_DOCS:
        try:
            parent = document
            for key in path[:-1]:
                parent = parent[key]
            parent[path[-1]]
        except (KeyError, IndexError, TypeError):
            continue
        if doc_name == name:
            document = copy.deepcopy(document)
            parent = document
            for key in path[:-1]:
                parent = parent[key]
            parent[path[-1]] = value
            return name, f"replace {'/'.join(map(str, path))}", document, needs
    raise LookupError(path)


def test_rules_that_pass_the_check_never_make_the_server_answer_5xx(tmp_path):
    root = tmp_path / "rules"

    @hypothesis_settings(max_examples=scaled(1))
    @given(mutated_document(RULE_DOCS + OTHER_DOCS[:1], most=1, values_only=True), st.booleans())
    # What the deep profile found: a title with half a surrogate pair, escaped as YAML writes it
    # without allow_unicode, passed the check and made replies showing it 500s; a coupon
    # expiring 3,000,000 days on passed it and made replies showing the code 500s.
    @example(_changed("fuzz.yaml", ("rules", 0, "show", "coupon", "title"), "\ud800"), False)
    @example(_changed("site.yaml", ("coupons", "spring10", "expires_after"), "3000000d"), True)
    def run(mutated: tuple[str, str, object, tuple[str, ...]], unicode: bool) -> None:
        name, changes, document, _ = mutated
        data = dump(document, None, unicode, 80)
        note(f"{name} ({changes}):\n{data.decode('utf-8', 'replace')}")
        shutil.rmtree(root, ignore_errors=True)
        # A changed rule alone; a changed site.yaml with the demo's rules.
        skipped = ("*.test.yaml", "faq.yaml", "replies.yaml") if name == "site.yaml" else ("*.yaml",)
        shutil.copytree(DEMO, root / "shop", ignore=shutil.ignore_patterns(*skipped))
        (root / "shop" / "site.yaml").write_bytes((DEMO / "site.yaml").read_bytes())
        (root / "shop" / name).write_bytes(data)
        with redirect_stdout(io.StringIO()):
            config, _ = load_config(root)
        TALLY["rules served", "refused by the check" if config is None else "served"] += 1
        if config is None:
            return
        clock = [START]
        with TestClient(make_app(Path(root), clock=lambda: clock[0])) as client:
            visit(client, clock)

    run()
