"""Rule tests (server/rule_tests.py, server/rule_test_files.py): `irasshai rules test DIR`.

Every ``<site>/*.test.yaml`` holds tests: a visitor's steps (page_view, event, set, signal)
on a fixed clock that starts on Monday 2026-03-02 at 10:00 in the site's timezone (or at
`start:`) and moves by `at: +duration` (else one second per step). Each step goes through
the real event path; `expect:` lists the rule ids shown at that step ([] for none). A failed
step prints ``file:line:col: test "name" step N: expected [...], got [...]``; mistakes in a
test file are reported like rule-file mistakes, all at once, and fail the run while other
files still run. The last line is ``N passed, M failed``; the exit code is 0 only if all passed.
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from server.config import load_config
from server.rule_tests import collect, run, run_tests
from server.yamlsource import Problems
from tests.conftest import ROOT
from tests.helpers import write_site

PRICING_RULE = """\
rules:
  - id: pricing-return
    when: {page: /pricing*, page_views: {page: /pricing*, at_least: 2, within: 7d}}
    show: {chat: {text: hi}}
    limit: {per_visitor: 1, within: 30d}
"""


def rules_test(rules_dir: Path) -> tuple[int, list[str]]:
    """Exit code and output lines of `irasshai rules test rules_dir`, run in-process."""
    config, problems = load_config(rules_dir)
    assert config is not None, problems.lines()
    out = io.StringIO()
    code = run_tests(rules_dir, config, out)
    return code, out.getvalue().splitlines()


def passes(tmp_path: Path, rules: str, tests: str) -> list[str]:
    """Write one site with `rules` and `tests`; return the failures of its tests (none: all passed)."""
    write_site(tmp_path, **{"rules.yaml": rules, "main.test.yaml": tests})
    code, lines = rules_test(tmp_path)
    return [] if code == 0 else lines


def test_a_passing_test_prints_the_count_and_exits_0(tmp_path):
    write_site(
        tmp_path,
        **{
            "pricing.yaml": PRICING_RULE,
            "pricing.test.yaml": """\
        tests:
          - name: coupon on the second pricing view
            steps:
              - page_view: /pricing
                expect: []
              - at: +1h
                page_view: /features
              - at: +1h
                page_view: /pricing
                expect: [pricing-return]
              - at: +1m
                page_view: /pricing
                expect: []
        """,
        },
    )
    assert rules_test(tmp_path) == (0, ["1 passed, 0 failed"])


def test_a_failing_step_names_file_line_test_step_expected_and_actual(tmp_path):
    write_site(
        tmp_path,
        **{
            "pricing.yaml": PRICING_RULE,
            "pricing.test.yaml": """\
        tests:
          - name: first view
            steps:
              - page_view: /pricing
                expect: [pricing-return]
              - at: +1h
                page_view: /pricing
                expect: []
        """,
        },
    )
    code, lines = rules_test(tmp_path)
    assert code == 1
    path = tmp_path / "shop" / "pricing.test.yaml"
    assert lines == [
        f'{path}:4:9: test "first view" step 1: expected [pricing-return], got []',
        f'{path}:6:9: test "first view" step 2: expected [], got [pricing-return]',
        "0 passed, 1 failed",
    ]


def test_a_failed_step_of_a_test_named_with_a_line_break_is_still_one_line(tmp_path):
    """Found by fuzzing rule test files: the name was printed raw, splitting the failure's line."""
    tests = 'tests:\n  - name: "two\\nlines \\u202e"\n    steps:\n      - page_view: /pricing\n        expect: [pricing-return]\n'
    write_site(tmp_path, **{"rules.yaml": PRICING_RULE, "main.test.yaml": tests})
    code, lines = rules_test(tmp_path)
    path = tmp_path / "shop" / "main.test.yaml"
    assert code == 1
    assert lines == [
        f'{path}:4:9: test "two\\nlines \\u202e" step 1: expected [pricing-return], got []',
        "0 passed, 1 failed",
    ]


def test_a_step_without_expect_is_not_checked(tmp_path):
    assert (
        passes(
            tmp_path,
            PRICING_RULE,
            """\
        tests:
          - name: unchecked
            steps:
              - page_view: /pricing
              - page_view: /pricing
        """,
        )
        == []
    )


def test_at_moves_the_clock_so_window_boundaries_can_be_tested(tmp_path):
    assert (
        passes(
            tmp_path,
            PRICING_RULE,
            """\
        tests:
          - name: 7 days less a second apart count
            steps:
              - page_view: /pricing
              - at: +604799s
                page_view: /pricing
                expect: [pricing-return]
          - name: 7 days and a second apart do not
            steps:
              - page_view: /pricing
              - at: +604801s
                page_view: /pricing
                expect: []
        """,
        )
        == []
    )


def test_two_shows_need_the_engagement_gap_to_pass(tmp_path):
    rules = """\
        rules:
          - id: hello
            when: {page: /*}
            show: {chat: {text: hi}}
            limit: {per_visitor: 9}
        """
    assert (
        passes(
            tmp_path,
            rules,
            """\
        tests:
          - name: gap
            steps:
              - page_view: /a
                expect: [hello]
              - at: +59s
                page_view: /b
                expect: []
              - at: +1s
                page_view: /c
                expect: [hello]
        """,
        )
        == []
    )


def test_the_clock_starts_on_a_monday_at_10_in_the_sites_timezone_unless_start_is_given(tmp_path):
    rules = """\
        rules:
          - id: monday-ten
            when: {hours: {days: [mon], from: "10:00", to: "10:01"}}
            show: {chat: {text: hi}}
          - id: saturday
            when: {hours: {days: [sat], from: "09:00", to: "18:00"}}
            show: {chat: {text: hi}}
        """
    assert (
        passes(
            tmp_path,
            rules,
            """\
        tests:
          - name: default start
            steps:
              - page_view: /
                expect: [monday-ten]
          - name: a Saturday
            start: "2026-03-07 17:59"
            steps:
              - page_view: /
                expect: [saturday]
          - name: a Saturday evening
            start: "2026-03-07 17:59"
            steps:
              - at: +1m
                page_view: /
                expect: []
          - name: a Saturday, in UTC
            start: 2026-03-07T08:59:00Z
            steps:
              - page_view: /
                expect: [saturday]
        """,
        )
        == []
    )


def test_visitor_sets_language_device_and_attributes_before_the_first_step(tmp_path):
    rules = """\
        rules:
          - id: english-mobile-gold
            when: {language: en, device: mobile, visitor: {plan: gold}}
            show: {chat: {text: hi}}
          - id: japanese-desktop
            when: {language: ja, device: desktop}
            show: {chat: {text: hi}}
        """
    assert (
        passes(
            tmp_path,
            rules,
            """\
        tests:
          - name: starting state
            visitor: {language: en-US, device: mobile, plan: gold}
            steps:
              - page_view: /
                expect: [english-mobile-gold]
          - name: without attributes
            visitor: {language: en, device: mobile}
            steps:
              - page_view: /
                expect: []
          - name: by default a desktop browser in the site's language
            steps:
              - page_view: /
                expect: [japanese-desktop]
        """,
        )
        == []
    )


def test_page_view_with_url_referrer_and_utm(tmp_path):
    rules = """\
        rules:
          - id: line-spring
            when: {utm: {source: line, campaign: "spring*"}}
            show: {chat: {text: hi}}
          - id: from-google
            when: {referrer: "*google.*"}
            show: {chat: {text: hi}}
        """
    assert (
        passes(
            tmp_path,
            rules,
            """\
        tests:
          - name: a LINE campaign
            steps:
              - page_view: {url: /landing, utm: {source: line, medium: social, campaign: spring-sale}}
                expect: [line-spring]
          - name: another campaign
            steps:
              - page_view: {url: "/landing?ref=1", utm: {source: line, campaign: autumn}}
                expect: []
          - name: a search
            steps:
              - page_view: {url: "https://shop.example/", referrer: "https://www.google.co.jp/"}
                expect: [from-google]
        """,
        )
        == []
    )


def test_event_steps_are_custom_events_sent_from_the_last_page(tmp_path):
    rules = """\
        rules:
          - id: tops-in-cart
            when: {event: add_to_cart, properties: {category: tops}, page: /products/*}
            show: {chat: {text: hi}}
        """
    assert (
        passes(
            tmp_path,
            rules,
            """\
        tests:
          - name: tops
            steps:
              - page_view: /products/shirt
                expect: []
              - event: {name: add_to_cart, properties: {category: tops, price: 4800}}
                expect: [tops-in-cart]
          - name: other category
            steps:
              - page_view: /products/socks
              - event: {name: add_to_cart, properties: {category: socks}}
                expect: []
          - name: from another page
            steps:
              - page_view: /cart
              - event: {name: add_to_cart, properties: {category: tops}}
                expect: []
        """,
        )
        == []
    )


def test_set_steps_set_and_remove_attributes(tmp_path):
    rules = """\
        rules:
          - id: big-cart
            when: {visitor: {cart_value: {gte: 10000}}}
            show: {chat: {text: hi}}
            limit: {per_visitor: 9}
        """
    assert (
        passes(
            tmp_path,
            rules,
            """\
        tests:
          - name: cart value
            steps:
              - set: {cart_value: 12000}
                expect: []
              - page_view: /cart
                expect: [big-cart]
              - set: {cart_value: null}
              - at: +2m
                page_view: /cart
                expect: []
        """,
        )
        == []
    )


def test_signal_steps_report_what_was_reached_on_the_page_so_far(tmp_path):
    rules = """\
        rules:
          - id: reader
            when: {page: /blog/*, time_on_page: 30s, scroll: 50%}
            show: {chat: {text: hi}}
            limit: {per_visitor: 9}
          - id: leaving
            when: {page: /cart, exit_intent: true}
            show: {chat: {text: bye}}
        """
    assert (
        passes(
            tmp_path,
            rules,
            """\
        tests:
          - name: reads a post
            steps:
              - page_view: /blog/spring
              - at: +45s
                signal: {time_on_page: 45s}
                expect: []
              - signal: {scroll: 60%}
                expect: [reader]
              - at: +2m
                page_view: /blog/summer
              - signal: {scroll: 60%}
                expect: []
              - signal: {time_on_page: 30s}
                expect: [reader]
          - name: leaves the cart
            steps:
              - page_view: /cart
              - signal: {exit_intent: true}
                expect: [leaving]
        """,
        )
        == []
    )


def test_mistakes_in_a_test_file_are_all_reported_and_other_files_still_run(tmp_path):
    write_site(
        tmp_path,
        **{
            "pricing.yaml": PRICING_RULE,
            "good.test.yaml": """\
        tests:
          - name: fine
            steps:
              - page_view: /pricing
                expect: []
        """,
            "bad.test.yaml": """\
        tests:
          - name: typos
            start: someday
            stesp: []
          - name: steps
            steps:
              - page_view: /pricing
                event: add_to_cart
              - expect: []
              - at: 1h
                page_view: /pricing
              - at: +1y
                page_view: /pricing
              - page_view: /pricing
                expect: [pricing-retrun]
              - signal: {time_on_paeg: 45s}
              - page_view: pricing
              - page_view: [/a, [/b]]
        """,
        },
    )
    code, lines = rules_test(tmp_path)
    path = tmp_path / "shop" / "bad.test.yaml"
    assert code == 1
    assert lines == [
        f"{path}:2:5: test \"typos\": a test needs 'steps', e.g. steps: [{{page_view: /pricing, expect: []}}]",
        f'{path}:3:5: test "typos": start \'someday\' is not a date-time; write e.g. "2026-03-02 10:00" (in the site\'s timezone)',
        f"{path}:4:5: test \"typos\": unknown key 'stesp' (did you mean 'steps'?)",
        f'{path}:8:9: test "steps" step 1: a step does one thing, but this one has page_view and event; split it in steps',
        f'{path}:9:9: test "steps" step 2: a step needs one of: page_view, event, set, signal, say',
        f"{path}:10:9: test \"steps\" step 3: at takes the time since the previous step, written with '+', e.g. +30s, +10m, +2h, +7d; not '1h'",
        f"{path}:12:9: test \"steps\" step 4: '1y' is not a duration; write a number and a unit, e.g. 30s, 10m, 2h, 7d or 4w",
        f"{path}:15:18: test \"steps\" step 5: unknown rule id 'pricing-retrun' (did you mean 'pricing-return'?);"
        " a rule with enabled: false never shows, so it cannot be expected",
        f"{path}:16:18: test \"steps\" step 6: unknown signal 'time_on_paeg' (did you mean 'time_on_page'?)",
        f"{path}:17:9: test \"steps\" step 7: page_view takes a path such as /pricing or a full URL, not 'pricing'",
        f"{path}:18:9: test \"steps\" step 8: page_view takes a path such as /pricing or a full URL, not '[/a, [/b]]'",
        "11 problem(s) in test files; those files were not run",
        "1 passed, 0 failed",
    ]


def test_names_are_unique_a_step_expects_at_most_one_rule_and_visitor_values_are_checked(tmp_path):
    write_site(
        tmp_path,
        **{
            "pricing.yaml": PRICING_RULE,
            "main.test.yaml": """\
        tests:
          - name: twice
            visitor: {device: phone, cart: {value: 1}}
            steps:
              - page_view: /pricing
                expect: [pricing-return, pricing-return]
          - name: twice
            steps:
              - event: {properties: {}}
        """,
        },
    )
    _, lines = rules_test(tmp_path)
    path = tmp_path / "shop" / "main.test.yaml"
    assert lines[:-2] == [
        f"{path}:3:15: test \"twice\": device 'phone' is not one of: mobile, tablet, desktop",
        f"{path}:3:30: test \"twice\": 'cart' must be text, a number, true/false, null or a list of those, not a mapping",
        f'{path}:6:9: test "twice" step 1: at most one engagement shows at a time; expect one rule id, or [] for none',
        f'{path}:7:5: duplicate test name "twice" (first defined at {path}:2:5)',
        f"{path}:9:9: test \"twice\" step 1: event needs 'name', e.g. {{name: add_to_cart, properties: {{price: 4800}}}}",
    ]


def test_a_signal_before_any_page_view_is_a_mistake(tmp_path):
    write_site(
        tmp_path,
        **{
            "pricing.yaml": PRICING_RULE,
            "main.test.yaml": """\
        tests:
          - name: no page
            steps:
              - signal: {scroll: 120%}
        """,
        },
    )
    _, lines = rules_test(tmp_path)
    path = tmp_path / "shop" / "main.test.yaml"
    assert lines[:2] == [
        f'{path}:4:9: test "no page" step 1: signals come from a page: put a page_view step before this one',
        f'{path}:4:18: test "no page" step 1: scroll takes a percentage from 0% to 100%, e.g. 50%',
    ]


def test_collect_names_each_test_by_site_file_and_name_and_run_returns_its_failures(tmp_path):
    write_site(
        tmp_path,
        **{
            "pricing.yaml": PRICING_RULE,
            "pricing.test.yaml": """\
        tests:
          - name: second view
            steps:
              - page_view: /pricing
              - page_view: /pricing
                expect: []
        """,
        },
    )
    config, _ = load_config(tmp_path)
    problems = Problems()
    tests = collect(tmp_path, config, problems)
    assert not problems and [t.id for t in tests] == ["shop/pricing.test.yaml::second view"]
    result = run(tests[0], config)
    assert not result.passed
    assert result.failures == [
        f'{tmp_path}/shop/pricing.test.yaml:5:9: test "second view" step 2: expected [], got [pricing-return]'
    ]


def test_no_tests_found_fails(tmp_path):
    write_site(tmp_path, **{"pricing.yaml": PRICING_RULE})
    assert rules_test(tmp_path) == (
        1,
        [f"no tests found: add tests to {tmp_path}/<site>/*.test.yaml", "0 passed, 0 failed"],
    )


def irasshai(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "server", *args], capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_the_cli_runs_every_test_file_and_exits_0_only_when_all_pass(tmp_path):
    write_site(
        tmp_path,
        **{
            "pricing.yaml": PRICING_RULE,
            "pricing.test.yml": """\
        tests:
          - name: second view
            steps:
              - page_view: /pricing
              - page_view: /pricing
                expect: [pricing-return]
        """,
        },
    )
    result = irasshai("rules", "test", str(tmp_path))
    assert (result.returncode, result.stdout, result.stderr) == (0, "1 passed, 0 failed\n", "")

    (tmp_path / "shop" / "more.test.yaml").write_text(
        "tests:\n  - name: first view\n    steps:\n      - page_view: /pricing\n        expect: [pricing-return]\n"
    )
    result = irasshai("rules", "test", str(tmp_path))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stdout.splitlines() == [
        f'{tmp_path}/shop/more.test.yaml:4:9: test "first view" step 1: expected [pricing-return], got []',
        "1 passed, 1 failed",
    ]


def test_the_cli_reports_a_broken_rules_folder_instead_of_running_tests(tmp_path):
    write_site(tmp_path, **{"pricing.yaml": "rules:\n  - id: x\n    wehn: {page: /}\n    show: {chat: {text: hi}}\n"})
    result = irasshai("rules", "test", str(tmp_path))
    assert result.returncode == 1
    assert result.stdout.startswith(f"{tmp_path}/shop/pricing.yaml:3:5: rule \"x\": unknown key 'wehn'")
