"""The marketer's pages (server/console/web/insights_pages.py) and what the insights API answers
with (server/console/web/reports.py), over HTTP.

Contract: only admins see them: an operator gets a 403 page in the shell, and the navigation
links to them only for admins; without a session the pages redirect to sign-in and the API
answers 401. The Rules page lists every rule of the site, enabled or not, with its file and
line, priority, limit, holdout and goal, the live rules version and the last reload error with
the checker's lines. The preview runs pasted steps on the live rules and says which rule shows
at each step; its mistakes are lines with line:col. The API answers JSON for a date range, or a
table as a CSV attachment (UTF-8 with a byte order mark).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import re

import pytest
from starlette.testclient import TestClient

from tests.console.helpers import csrf_of, sign_in
from tests.console.insights_helpers import ADMIN, OPERATOR, insights_app, overview_report, rule_report, serve_canned

PAGES = [
    "/console/sites/shop/rules",
    "/console/sites/shop/rules/pricing-return",
    "/console/sites/shop/overview",
    "/console/sites/shop/preview",
]
RULE_API = "/console/api/sites/shop/insights/rules/pricing-return"


def run(coroutine):
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def client_for(app, who=ADMIN) -> TestClient:
    client = TestClient(app)
    assert sign_in(client, *who).status_code == 303
    return client


def text_of(html: str) -> str:
    """The page's text as a reader sees it: tags dropped, whitespace folded."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize("path", PAGES)
def test_an_operator_without_the_admin_role_gets_the_403_page(tmp_path, path):
    app, _, _ = insights_app(tmp_path)
    with client_for(app, OPERATOR) as client:
        page = client.get(path)
    assert page.status_code == 403
    assert "このページは管理者専用です" in page.text
    assert 'id="operator-name">花子<' in page.text  # in the shell, signed in
    assert 'href="/console/sites/shop/rules"' not in page.text  # and no link to the admins' pages


def test_only_admins_have_the_links_in_the_navigation(tmp_path):
    app, _, _ = insights_app(tmp_path)
    with client_for(app, OPERATOR) as client:
        assert "/console/sites/shop/overview" not in client.get("/console/sites/shop").text
    with client_for(app, ADMIN) as client:
        inbox = client.get("/console/sites/shop").text
    for path, name in (("rules", "ルール"), ("overview", "サイト概要"), ("preview", "プレビュー")):
        assert re.search(rf'href="/console/sites/shop/{path}"[^>]*>\s*<span[^>]*>[^<]*</span>{name}</a>', inbox)


@pytest.mark.parametrize("path", PAGES)
def test_without_a_session_the_pages_lead_to_sign_in(tmp_path, path):
    app, _, _ = insights_app(tmp_path)
    with TestClient(app) as client:
        page = client.get(path, follow_redirects=False)
    assert (page.status_code, page.headers["location"]) == (303, "/console/login")


def test_another_sites_pages_are_refused(tmp_path):
    app, _, _ = insights_app(tmp_path)
    with client_for(app) as client:
        assert client.get("/console/sites/other/rules").status_code == 403


def test_the_rules_page_lists_every_rule_enabled_or_not(tmp_path):
    app, _, _ = insights_app(tmp_path)
    with client_for(app) as client:
        page = client.get("/console/sites/shop/rules")
    assert page.status_code == 200
    text = text_of(page.text)
    version = app.state.services.live.config.version
    assert f"稼働中のルールのバージョン: {version}" in text
    assert "2 件が有効・全 3 件" in text
    rows = re.findall(r'<tr data-rule="([^"]+)"( class="disabled")?>', page.text)
    # In file order: help.yaml, then pricing.yaml.
    assert rows == [("cart-help", ""), ("pricing-return", ""), ("paused-banner", ' class="disabled"')]
    pricing = text_of(page.text.split('data-rule="pricing-return"')[1].split("</tr>")[0])
    assert "pricing.yaml:2" in pricing
    assert " 10 " in pricing  # priority
    assert "訪問者ごとに 30日で 1 回" in pricing
    assert "0% (サイト既定)" in pricing  # no holdout yet: the site's default, 0%
    assert "有効" in pricing
    # A description is text, not HTML.
    assert "&lt;b&gt;once&lt;/b&gt;" in page.text
    paused = text_of(page.text.split('data-rule="paused-banner"')[1].split("</tr>")[0])
    assert "無効" in paused and "pricing.yaml:10" in paused and "セッションごとに 1 回" in paused
    assert 'href="/console/sites/shop/rules/pricing-return"' in page.text


def test_the_rules_page_says_what_each_rule_achieved_in_the_last_seven_days(tmp_path):
    """Which rule led to purchases, seen without opening every rule: per rule, its decisions,
    shown, conversions (with its control group's, when it has one) and value, for the last 7
    days in the site's timezone, each a link to the rule's results."""
    app, store, _ = insights_app(tmp_path)  # the clock's today: 2027-01-15 in Tokyo
    counted = {"decided": 20, "held_out": 3, "shown": 17, "copied": 5, "converted": 5}
    counts = {("2027-01-15", "pricing-return", name): amount for name, amount in counted.items()}
    counts |= {
        ("2027-01-15", "pricing-return", "converted_held_out"): 2,
        ("2027-01-15", "pricing-return", "value"): 49500,
        ("2027-01-09", "pricing-return", "decided"): 1,  # the first day of the seven
        ("2027-01-08", "pricing-return", "decided"): 100,  # eight days ago: not in the range
        ("2027-01-14", "cart-help", "decided"): 4,
        ("2027-01-14", "cart-help", "shown"): 4,
    }
    run(store.add_counts("shop", counts))
    with client_for(app) as client:
        page = client.get("/console/sites/shop/rules")
    text = text_of(page.text)
    assert "成果は直近 7 日 (2027-01-09 – 2027-01-15)" in text
    header = text_of(page.text.split("<thead>")[1].split("</thead>")[0])
    assert "対象 (判定) 表示 コンバージョン 価値" in header
    pricing = page.text.split('data-rule="pricing-return"')[1].split("</tr>")[0]
    assert re.findall(r'<td class="num result[^"]*"[^>]*>(.*?)</td>', pricing, re.S)[:2] == ["21", "17"]
    converted = text_of(pricing.split('data-counter="converted">')[1].split("</td>")[0])
    assert converted.split() == ["5", "コントロール群", "3", "件中", "2"]
    assert ">49,500<" in pricing
    cart = page.text.split('data-rule="cart-help"')[1].split("</tr>")[0]
    assert re.findall(r'<td class="num result[^"]*"[^>]*>(.*?)</td>', cart, re.S)[:2] == ["4", "4"]
    assert "コントロール群" not in cart  # no control group, nothing said about one
    paused = page.text.split('data-rule="paused-banner"')[1].split("</tr>")[0]
    assert re.findall(r'<td class="num result[^"]*"[^>]*>(.*?)</td>', paused, re.S)[:2] == ["0", "0"]


def test_the_rules_page_shows_the_last_reload_error_with_the_checkers_lines(tmp_path):
    app, _, _ = insights_app(tmp_path)
    lines = [
        "rules/shop/pricing.yaml:7:7: rule \"pricing-return\": unknown key 'pgae' (did you mean 'page'?)",
        'rules/shop/help.yaml:3:12: rule "cart-help": <script> is not a condition',
    ]
    app.state.services.live.last_error = lines
    with client_for(app) as client:
        page = client.get("/console/sites/shop/rules").text
    error = page.split('id="reload-error"')[1].split("</div>")[0]
    assert "前回の再読み込みは失敗しました" in error
    assert re.findall(r"<code>(.*?)</code>", error) == [
        "rules/shop/pricing.yaml:7:7: rule &#34;pricing-return&#34;: unknown key &#39;pgae&#39; (did you mean &#39;page&#39;?)",
        "rules/shop/help.yaml:3:12: rule &#34;cart-help&#34;: &lt;script&gt; is not a condition",
    ]


def test_the_rule_page_is_a_frame_for_its_report(tmp_path):
    app, _, _ = insights_app(tmp_path)
    with client_for(app) as client:
        page = client.get("/console/sites/shop/rules/pricing-return?from=2027-01-01&to=2027-01-14")
        gone = client.get("/console/sites/shop/rules/removed-rule")
        bad = client.get("/console/sites/shop/rules/not%20a%20rule")
        wrong_range = client.get("/console/sites/shop/rules/pricing-return?from=2027-01-14&to=2027-01-01")
    assert page.status_code == 200
    assert f'data-api="{RULE_API}" data-from="2027-01-01" data-to="2027-01-14"' in page.text
    assert "訪問者ごとに 30日で 1 回" in page.text
    assert 'id="rule-gone"' not in page.text
    # A rule removed since still has its numbers: the page says it is gone.
    assert gone.status_code == 200 and 'id="rule-gone"' in gone.text
    assert bad.status_code == 404
    # A wrong range is said in one line, and the page shows the last 7 days instead.
    assert "from (2027-01-14) is after to (2027-01-01)" in wrong_range.text
    assert 'data-from="2027-01-09" data-to="2027-01-15"' in wrong_range.text  # the clock's today: 2027-01-15 in Tokyo


def test_the_preview_shows_the_rule_at_each_step(tmp_path):
    app, store, _ = insights_app(tmp_path)
    steps = "- page_view: /pricing\n- at: +1h\n  page_view: /pricing\n  expect: [pricing-return]\n- page_view: /cart\n"
    with client_for(app) as client:
        form = client.get("/console/sites/shop/preview").text
        page = client.post("/console/sites/shop/preview", data={"csrf": csrf_of(form), "steps": steps})
    assert page.status_code == 200
    shown = {
        int(number): text_of(row)
        for number, row in re.findall(r'<tr data-step="(\d+)"[^>]*>(.*?)</tr>', page.text, re.S)
    }
    assert list(shown) == [1, 2, 3]
    assert "なし" in shown[1] and "pricing-return" not in shown[1]
    assert "pricing-return" in shown[2] and "まだお悩みですか？" in shown[2] and "期待どおり" in shown[2]
    assert "2026-03-02 11:00:00" in shown[2]  # on the preview's clock, an hour later
    assert "なし" in shown[3]
    assert "- at: +1h" in page.text  # the pasted text stays in the form
    # No real visitor was made: the site's live visitors and its counters are untouched.
    with client_for(app) as client:
        assert client.get("/console/api/sites/shop/visitors").json() == {"visitors": []}
    counts = run(store.read_counts("shop", ["2026-03-02", "2027-01-15"]))
    assert all(not rules for rules in counts.values())


def test_the_previews_mistakes_are_lines_with_line_and_column(tmp_path):
    app, _, _ = insights_app(tmp_path)
    steps = "- page_view: pricing\n- sgnal: {exit_intent: true}\n"
    with client_for(app) as client:
        form = client.get("/console/sites/shop/preview").text
        page = client.post("/console/sites/shop/preview", data={"csrf": csrf_of(form), "steps": steps})
        huge = client.post("/console/sites/shop/preview", data={"csrf": csrf_of(form), "steps": "# x\n" * 5000})
        alias = client.post("/console/sites/shop/preview", data={"csrf": csrf_of(form), "steps": "- &a [*a, *a]\n"})
    errors = page.text.split('id="preview-errors"')[1].split("</div>")[0]
    assert re.findall(r"<code>(.*?)</code>", errors) == [
        "preview:1:3: step 1: page_view takes a path such as /pricing or a full URL, not &#39;pricing&#39;",
        "preview:2:3: step 2: unknown key &#39;sgnal&#39; (did you mean &#39;signal&#39;?)",
    ]
    assert "preview:1:1: the steps are 20000 bytes long; the limit is 16384" in huge.text
    assert "preview:1:7: aliases (*name) are not allowed here; write it out" in alias.text


def test_the_preview_needs_the_csrf_token(tmp_path):
    app, _, _ = insights_app(tmp_path)
    with client_for(app) as client:
        page = client.post("/console/sites/shop/preview", data={"steps": "- page_view: /pricing\n"})
    assert page.status_code == 403


def test_the_api_answers_json_for_the_range_and_a_table_as_csv(tmp_path):
    app, _, _ = insights_app(tmp_path)
    serve_canned(app, rule_report=rule_report())
    with client_for(app) as client:
        answer = client.get(RULE_API, params={"from": "2027-01-01", "to": "2027-01-14"})
        csv = client.get(
            RULE_API, params={"from": "2027-01-01", "to": "2027-01-14", "format": "csv", "table": "by_page"}
        )
        by_days = client.get(RULE_API, params={"days": "30"})
    assert answer.status_code == 200
    assert answer.json()["range"] == {"from": "2027-01-01", "to": "2027-01-14"}
    assert answer.json()["tables"]["funnel"]["rows"][0][:2] == ["2027-01-01", 100]
    assert by_days.json()["range"] == {"from": "2026-12-17", "to": "2027-01-15"}
    assert csv.status_code == 200
    assert csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert csv.headers["content-disposition"] == 'attachment; filename="shop-rule-by_page-2027-01-01-2027-01-14.csv"'
    assert csv.content.startswith(b"\xef\xbb\xbf")
    assert csv.content.decode("utf-8-sig").split("\r\n") == [
        "page,decided,held_out,shown,clicked,dismissed,copied,converted,converted_held_out,value,value_held_out",
        "/pricing,1500,150,1300,400,300,200,100,8,12000,900",
        '"\'=HYPERLINK(""http://evil.example"")",3,0,3,0,0,0,0,0,0,0',
        "<img src=x onerror=alert(1)>,2,0,2,0,0,0,0,0,0,0",
        "",
    ]


@pytest.mark.parametrize(
    ("params", "status", "error"),
    [
        ({"format": "csv"}, 400, "format=csv needs table=NAME, the table to download"),
        (
            {"format": "csv", "table": "nope"},
            404,
            "no table 'nope' in this report; its tables are: funnel, by_device, by_hour, by_page",
        ),
        ({"format": "xml"}, 400, "format has value 'xml'; expected json or csv"),
        ({"from": "2027-01-01"}, 400, "to is missing; give from and to together (YYYY-MM-DD), or days"),
        ({"from": "2027-01-01", "to": "2027-01-02", "days": "2"}, 400, "give either days or from and to, not both"),
        (
            {"from": "2027-02-30", "to": "2027-03-01"},
            400,
            "from has value '2027-02-30'; expected a date as YYYY-MM-DD, such as 2026-03-02",
        ),
        (
            {"from": "2025-01-01", "to": "2027-01-01"},
            400,
            "from 2025-01-01 to 2027-01-01 is 731 days; at most 400 days at once",
        ),
        ({"days": "0"}, 400, "days has value '0'; expected a whole number from 1 to 400"),
    ],
)
def test_a_mistake_in_the_query_is_one_line(tmp_path, params, status, error):
    app, _, _ = insights_app(tmp_path)
    serve_canned(app, rule_report=rule_report())
    with client_for(app) as client:
        answer = client.get(RULE_API, params=params)
    assert (answer.status_code, answer.json()) == (status, {"error": error})


def test_the_api_is_for_signed_in_admins_of_the_site(tmp_path):
    app, _, _ = insights_app(tmp_path)
    serve_canned(app, rule_report=rule_report(), overview=overview_report())
    with TestClient(app) as anonymous:
        assert anonymous.get(RULE_API).status_code == 401
    with client_for(app, OPERATOR) as operator:
        refused = operator.get("/console/api/sites/shop/insights/overview")
        assert refused.status_code == 403
        assert refused.json() == {
            "error": "operator hanako@example.com is not an admin; rules and results are for admins"
        }
    with client_for(app) as admin:
        assert admin.get("/console/api/sites/other/insights/overview").status_code == 403
        assert admin.get("/console/api/sites/shop/insights/overview").status_code == 200
