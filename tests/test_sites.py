"""Sites (server/sites.py), their coupon pools (server/coupons/pools.py) and the rules folder (server/config.py).

``rules/<site>/site.yaml`` declares a site keyed by its folder name: the shop origins that
may send events, timezone (Asia/Tokyo), language (ja), business hours, data retention (90d),
the gap between engagements (60s) and coupon pools. Loading never raises: every mistake in
the file comes back as ``path:line:col: message`` pointing at what the owner wrote, all
of them at once, and a site with any mistake is not loaded. The rules folder loads every
site, or nothing if any site is wrong; its version changes exactly when a file changes.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from server.config import load_config
from server.sites import DEFAULT_GAP, DEFAULT_RETENTION, Hours, Site, load_site
from server.yamlsource import Problems

ORIGIN = "origins: [https://shop.example]\n"
MON, TUE, WED, FRI, SAT, SUN = 0, 1, 2, 4, 5, 6


def write_site(parent: Path, text: str, key: str = "shop", **files: str) -> Path:
    folder = parent / key
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "site.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    for name, content in files.items():
        (folder / name).write_text(content, encoding="utf-8")
    return folder


def load(folder: Path) -> tuple[Site | None, list[str]]:
    problems = Problems()
    return load_site(folder, problems), problems.lines()


def problems_in(tmp_path: Path, text: str, **files: str) -> list[str]:
    """The problems of a site written from `text`, with its folder shortened to `shop/`."""
    folder = write_site(tmp_path, text, **files)
    site, problems = load(folder)
    assert site is None
    return [line.replace(f"{tmp_path}/", "") for line in problems]


# A good site and the defaults


def test_a_complete_site_loads(tmp_path):
    folder = write_site(
        tmp_path,
        """\
        name: 靴のお店
        origins:
          - https://Shop.Example
          - http://localhost:3000/
        timezone: Europe/London
        language: en
        business_hours: {days: [mon, Tuesday, FRI], from: "09:30", to: "18:00"}
        retention: 30d
        engagement_gap: 5m
        """,
    )
    site, problems = load(folder)
    assert problems == []
    assert site.key == "shop" and site.name == "靴のお店"
    assert site.origins == {"https://shop.example", "http://localhost:3000"}
    assert str(site.timezone) == "Europe/London" and site.language == "en"
    assert site.business_hours == Hours(frozenset({MON, TUE, FRI}), 9 * 60 + 30, 18 * 60)
    assert (site.retention, site.engagement_gap) == (30 * 86400, 300)
    assert site.coupons == {}


def test_a_site_needs_only_its_origins(tmp_path):
    site, problems = load(write_site(tmp_path, ORIGIN))
    assert problems == []
    assert site.name == "shop"
    assert str(site.timezone) == "Asia/Tokyo" and site.language == "ja"
    assert site.retention == DEFAULT_RETENTION == 90 * 86400
    assert site.engagement_gap == DEFAULT_GAP == 60
    assert site.business_hours is None


def test_only_listed_origins_are_allowed_whatever_their_case(tmp_path):
    site, _ = load(write_site(tmp_path, "origins: https://shop.example:8443\n"))
    assert site.allows("https://shop.example:8443") and site.allows("HTTPS://SHOP.EXAMPLE:8443")
    assert not site.allows("https://shop.example") and not site.allows("https://evil.example")
    assert not site.allows(None)


def test_unquoted_times_are_read_as_written(tmp_path):
    # YAML 1.1 reads 18:00 as the number 1080; the owner meant six in the evening.
    site, problems = load(write_site(tmp_path, ORIGIN + "business_hours: {from: 9:00, to: 18:30}\n"))
    assert problems == []
    assert (site.business_hours.start, site.business_hours.end) == (9 * 60, 18 * 60 + 30)
    assert site.business_hours.days == frozenset(range(7))


# Each mistake, where it was written


def test_an_unknown_key_is_reported_with_a_hint(tmp_path):
    assert problems_in(tmp_path, ORIGIN + "timezon: Asia/Tokyo\n") == [
        "shop/site.yaml:2:1: unknown site setting 'timezon' (did you mean 'timezone'?)"
    ]


def test_an_origin_with_a_path_is_reported_at_that_origin(tmp_path):
    text = "origins:\n  - https://shop.example\n  - https://shop.example/cart\n"
    assert problems_in(tmp_path, text) == [
        "shop/site.yaml:3:5: 'https://shop.example/cart' is not an origin; "
        "write scheme and host only, e.g. https://shop.example.com"
    ]


def test_a_mistake_quotes_a_list_or_mapping_as_it_was_written_never_as_python_objects(tmp_path):
    """Found by tests/fuzz: a nested list of origins was quoted as "'[Node(value='http://…',
    file=…, line=4, col=4), …]' is not an origin"."""
    text = (
        "origins:\n  - [https://a.example, https://b.example]\n  - {url: https://c.example}\n"
        "language: [ja]\ntimezone: [Asia/Tokyo]\n"
    )
    assert problems_in(tmp_path, text) == [
        "shop/site.yaml:2:5: '[https://a.example, https://b.example]' is not an origin; "
        "write scheme and host only, e.g. https://shop.example.com",
        "shop/site.yaml:3:5: '{url: https://c.example}' is not an origin; write scheme and host only, e.g. https://shop.example.com",
        "shop/site.yaml:4:1: '[ja]' is not one of: ja, en",
        "shop/site.yaml:5:1: '[Asia/Tokyo]' is not an IANA timezone name, e.g. Asia/Tokyo or Europe/London",
    ]


@pytest.mark.parametrize("origin", ["ftp://shop.example", "shop.example", "https://shop.example?x=1", "https://"])
def test_things_that_are_not_origins_are_reported(tmp_path, origin):
    problems = problems_in(tmp_path, f"origins: ['{origin}']\n")
    assert problems == [
        f"shop/site.yaml:1:11: '{origin}' is not an origin; write scheme and host only, e.g. https://shop.example.com"
    ]


def test_missing_origins_are_reported(tmp_path):
    assert problems_in(tmp_path, "name: Shop\n") == [
        "shop/site.yaml:1:1: site.yaml needs 'origins': the shop origins allowed to send events, "
        "e.g. https://shop.example.com"
    ]


def test_an_empty_list_of_origins_is_reported(tmp_path):
    # A site no origin may send events to can only be a mistake.
    problems = problems_in(tmp_path, "name: Shop\norigins: []\n")
    assert len(problems) == 1 and problems[0].startswith("shop/site.yaml:2:1: ")
    assert "origins" in problems[0]


def test_a_bad_timezone_is_reported(tmp_path):
    assert problems_in(tmp_path, ORIGIN + "timezone: Tokyo\n") == [
        "shop/site.yaml:2:1: 'Tokyo' is not an IANA timezone name, e.g. Asia/Tokyo or Europe/London"
    ]


def test_a_bad_language_is_reported(tmp_path):
    assert problems_in(tmp_path, ORIGIN + "language: fr\n") == ["shop/site.yaml:2:1: 'fr' is not one of: ja, en"]


@pytest.mark.parametrize(
    ("retention", "message"),
    [
        ("12h", "'12h' is too short; the minimum is 1d"),
        ("90", "'90' has no unit; write a duration such as '90s', '90m' or '90d'"),
        ("forever", "'forever' is not a duration; write a number and a unit, e.g. 30s, 10m, 2h, 7d or 4w"),
        # Found by tests/fuzz: this passed the checker, and then Redis refused the TTL, so every
        # batch of the site got a 503 ("the store is unavailable").
        ("99999999999999999999d", "'99999999999999999999d' is too long; the maximum is 36500d (100 years)"),
    ],
)
def test_a_bad_retention_is_reported(tmp_path, retention, message):
    assert problems_in(tmp_path, ORIGIN + f"retention: {retention}\n") == [f"shop/site.yaml:2:1: {message}"]


def test_a_bad_engagement_gap_is_reported(tmp_path):
    assert problems_in(tmp_path, ORIGIN + "engagement_gap: a minute\n") == [
        "shop/site.yaml:2:1: 'a minute' is not a duration; write a number and a unit, e.g. 30s, 10m, 2h, 7d or 4w"
    ]


def test_a_name_that_is_not_text_is_reported(tmp_path):
    assert problems_in(tmp_path, "name: [a, b]\n" + ORIGIN) == ["shop/site.yaml:1:1: 'name' must be text, not a list"]


def test_business_hours_with_a_bad_day_and_a_bad_time_are_both_reported(tmp_path):
    text = ORIGIN + "business_hours:\n  days: [mon, funday]\n  from: '09:00'\n  to: '18:70'\n"
    assert problems_in(tmp_path, text) == [
        "shop/site.yaml:3:15: 'funday' is not a day; use mon, tue, wed, thu, fri, sat, sun",
        'shop/site.yaml:5:3: \'18:70\' is not a time of day; write it as "HH:MM", e.g. "09:00"',
    ]


def test_an_unquoted_bad_time_is_quoted_as_written(tmp_path):
    # YAML reads an unquoted 25:00 as the number 1500; the owner must see what they wrote.
    assert problems_in(tmp_path, ORIGIN + "business_hours: {from: 9:00, to: 25:00}\n") == [
        'shop/site.yaml:2:30: \'25:00\' is not a time of day; write it as "HH:MM", e.g. "09:00"'
    ]


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ("'9 to 5'", "hours must be a mapping with 'days', 'from' and 'to', not text"),
        ("{from: '09:00'}", "hours need 'to', e.g. to: \"09:00\""),
        ("{from: '09:00', to: '09:00'}", "'from' and 'to' are the same time, so the hours are empty"),
    ],
)
def test_business_hours_that_are_incomplete_or_empty_are_reported(tmp_path, hours, message):
    assert problems_in(tmp_path, ORIGIN + f"business_hours: {hours}\n") == [f"shop/site.yaml:2:1: {message}"]


def test_an_unknown_key_in_business_hours_is_reported(tmp_path):
    text = ORIGIN + "business_hours: {from: '09:00', to: '17:00', until: '18:00'}\n"
    assert problems_in(tmp_path, text) == ["shop/site.yaml:2:46: unknown key 'until'"]


def test_a_yaml_syntax_error_is_reported_where_it_is(tmp_path):
    assert problems_in(tmp_path, "name: Shop\norigins: [https://shop.example\n") == [
        "shop/site.yaml:3:1: YAML syntax error: expected ',' or ']', but got '<stream end>'"
    ]


@pytest.mark.parametrize(("text", "what"), [("- https://shop.example\n", "a list"), ("", "nothing")])
def test_a_site_file_that_is_not_a_mapping_is_reported(tmp_path, text, what):
    assert problems_in(tmp_path, text) == [f"shop/site.yaml:1:1: site.yaml must be a mapping of settings, not {what}"]


def test_a_bad_folder_name_is_reported(tmp_path):
    site, problems = load(write_site(tmp_path, ORIGIN, key="My Shop"))
    assert site is None
    assert problems == [
        f"{tmp_path}/My Shop/site.yaml:1:1: site folder name 'My Shop' must be lower-case letters, digits, '-' or '_'"
    ]


def test_every_mistake_in_a_file_is_reported_at_once(tmp_path):
    text = """\
        name: Shop
        origins: [https://shop.example/, shop.example]
        timezone: Asia/Tokio
        language: jp
        retention: 1h
        colour: red
        business_hours:
          days: [mon, someday]
          from: "09:00"
          to: "18:00"
        """
    assert problems_in(tmp_path, text) == [
        "shop/site.yaml:2:34: 'shop.example' is not an origin; write scheme and host only, e.g. https://shop.example.com",
        "shop/site.yaml:3:1: 'Asia/Tokio' is not an IANA timezone name, e.g. Asia/Tokyo or Europe/London",
        "shop/site.yaml:4:1: 'jp' is not one of: ja, en",
        "shop/site.yaml:5:1: '1h' is too short; the minimum is 1d",
        "shop/site.yaml:6:1: unknown site setting 'colour' (did you mean 'holdout'?)",
        "shop/site.yaml:8:15: 'someday' is not a day; use mon, tue, wed, thu, fri, sat, sun",
    ]


# Business hours


def test_hours_contain_the_times_from_start_up_to_end_on_their_days():
    hours = Hours(frozenset({MON, TUE}), 9 * 60, 18 * 60)
    assert hours.contains(MON, 9 * 60) and hours.contains(TUE, 18 * 60 - 1)
    assert not hours.contains(MON, 9 * 60 - 1) and not hours.contains(MON, 18 * 60)
    assert not hours.contains(WED, 12 * 60)


def test_hours_past_midnight_belong_to_the_day_they_started():
    friday_nights = Hours(frozenset({FRI}), 22 * 60, 2 * 60)
    assert friday_nights.contains(FRI, 22 * 60) and friday_nights.contains(FRI, 23 * 60 + 59)
    assert friday_nights.contains(SAT, 0) and friday_nights.contains(SAT, 2 * 60 - 1)
    assert not friday_nights.contains(SAT, 2 * 60)
    assert not friday_nights.contains(FRI, 60)  # early Friday belongs to Thursday night
    assert not friday_nights.contains(SAT, 22 * 60)
    assert not friday_nights.contains(FRI, 21 * 60 + 59)


def test_sunday_night_hours_run_into_monday():
    sunday_nights = Hours(frozenset({SUN}), 22 * 60, 2 * 60)
    assert sunday_nights.contains(MON, 60)
    assert not sunday_nights.contains(SUN, 60)


def test_hours_until_midnight_include_the_last_minute(tmp_path):
    site, problems = load(write_site(tmp_path, ORIGIN + "business_hours: {from: '18:00', to: '24:00'}\n"))
    assert problems == []
    assert site.business_hours.contains(SUN, 24 * 60 - 1)
    assert not site.business_hours.contains(MON, 0)


# Coupon pools

COUPONS = ORIGIN + "coupons:\n"


def test_the_three_kinds_of_coupon_pool_load(tmp_path):
    text = """\
        origins: [https://shop.example]
        coupons:
          spring:
            code: SPRING10
            expires_after: 7d
            discount: 10%オフ
          unique:
            codes_file: codes.txt
          generated:
            generate: {prefix: IRS-, length: 10}
            discount: 500
          plain:
            generate: {}
        """
    folder = write_site(tmp_path, text, **{"codes.txt": "# exported 2024-04-01\nAAA-111\n\nBBB-222\n"})
    site, problems = load(folder)
    assert problems == []
    spring, unique, generated, plain = (site.coupons[name] for name in ("spring", "unique", "generated", "plain"))
    assert (spring.kind, spring.code, spring.expires_after, spring.discount) == (
        "shared",
        "SPRING10",
        7 * 86400,
        "10%オフ",
    )
    assert (unique.kind, unique.codes, unique.expires_after) == ("list", ("AAA-111", "BBB-222"), 0)
    assert (generated.kind, generated.prefix, generated.length, generated.discount) == ("generated", "IRS-", 10, "500")
    assert (plain.prefix, plain.length) == ("", 8)


def test_a_codes_file_saved_by_windows_tools_reads_the_same(tmp_path):
    text = COUPONS + "  unique:\n    codes_file: codes.txt\n"
    folder = write_site(tmp_path, text)
    (folder / "codes.txt").write_bytes("AAA-111\r\nBBB-222\r\n".encode("utf-8-sig"))
    site, problems = load(folder)
    assert problems == []
    assert site.coupons["unique"].codes == ("AAA-111", "BBB-222")


def test_duplicate_and_bad_codes_are_reported_at_their_line_of_the_codes_file(tmp_path):
    text = COUPONS + "  unique:\n    codes_file: codes.txt\n"
    assert problems_in(tmp_path, text, **{"codes.txt": "AAA-111\nBBB-222\nAAA-111\nno good!\n"}) == [
        "shop/codes.txt:3:1: code 'AAA-111' is listed twice",
        "shop/codes.txt:4:1: code 'no good!' must be 3 to 64 letters, digits, '-' or '_'",
    ]


@pytest.mark.parametrize(
    ("file", "files", "message"),
    [
        ("nope.txt", {}, "codes_file 'nope.txt' not found in {folder}"),
        ("../codes.txt", {}, "codes_file '../codes.txt' must be a file name in the site's folder"),
        ("empty.txt", {"empty.txt": "# none yet\n\n"}, "codes_file 'empty.txt' holds no codes"),
    ],
)
def test_a_codes_file_that_cannot_be_used_is_reported(tmp_path, file, files, message):
    problems = problems_in(tmp_path, COUPONS + f"  unique:\n    codes_file: {file}\n", **files)
    assert problems == ["shop/site.yaml:4:5: " + message.format(folder="shop")]


def test_a_pool_needs_exactly_one_kind(tmp_path):
    text = COUPONS + "  both:\n    code: SPRING10\n    generate: {}\n  none:\n    discount: 5%\n"
    assert problems_in(tmp_path, text) == [
        "shop/site.yaml:3:3: coupon pool 'both' needs exactly one of code, codes_file or generate (it has code, generate)",
        "shop/site.yaml:6:3: coupon pool 'none' needs exactly one of code, codes_file or generate",
    ]


def test_every_mistake_in_a_coupon_pool_is_reported(tmp_path):
    text = """\
        origins: [https://shop.example]
        coupons:
          spring:
            code: 'x y'
            expires_after: soon
            discount: [10]
            dicount: 10%
          'bad name!':
            code: ABC
          generated:
            generate: IRS
        """
    assert problems_in(tmp_path, text) == [
        "shop/site.yaml:4:5: code 'x y' must be 3 to 64 letters, digits, '-' or '_'",
        "shop/site.yaml:5:5: 'soon' is not a duration; write a number and a unit, e.g. 30s, 10m, 2h, 7d or 4w",
        "shop/site.yaml:6:5: 'discount' must be text such as '10%オフ', not a list",
        "shop/site.yaml:7:5: unknown coupon pool key 'dicount' (did you mean 'discount'?)",
        "shop/site.yaml:8:3: coupon pool name 'bad name!' must be letters, digits, '-' or '_'",
        "shop/site.yaml:11:5: generate must be a mapping such as {prefix: IRS-, length: 8}",
    ]


def test_a_coupon_that_would_expire_after_the_calendar_ends_is_reported(tmp_path):
    """Found by tests/fuzz: this passed the checker, and then every reply showing the coupon was a
    500 (its last day is past the year 9999)."""
    text = COUPONS + "  forever:\n    code: FOREVER\n    expires_after: 3000000d\n"
    assert problems_in(tmp_path, text) == [
        "shop/site.yaml:5:5: '3000000d' is too long; the maximum is 36500d (100 years)"
    ]


def test_a_bad_prefix_and_a_bad_length_are_both_reported(tmp_path):
    text = COUPONS + "  generated:\n    generate: {prefix: 'far too long a prefix', length: 4}\n"
    assert problems_in(tmp_path, text) == [
        "shop/site.yaml:4:16: prefix must be up to 16 letters, digits, '-' or '_'",
        "shop/site.yaml:4:49: length must be a whole number from 6 to 32",
    ]


def test_coupons_must_be_a_mapping_of_pools(tmp_path):
    assert problems_in(tmp_path, ORIGIN + "coupons: [SPRING10]\n") == [
        "shop/site.yaml:2:1: 'coupons' must map pool names to pools, not a list"
    ]


# The rules folder (server/config.py)


def test_every_site_folder_is_loaded(tmp_path):
    write_site(tmp_path, ORIGIN, key="shoes")
    write_site(tmp_path, "origins: [https://hats.example]\n", key="hats")
    (tmp_path / "_shared").mkdir()  # folders starting with _ or . are not sites
    (tmp_path / ".git").mkdir()
    (tmp_path / "README.md").write_text("notes\n")
    config, problems = load_config(tmp_path)
    assert problems.lines() == []
    assert sorted(config.sites) == ["hats", "shoes"]
    assert config.sites["hats"].allows("https://hats.example")


def test_a_folder_without_site_yaml_is_a_problem_and_nothing_loads(tmp_path):
    write_site(tmp_path, ORIGIN, key="shoes")
    (tmp_path / "hats").mkdir()
    config, problems = load_config(tmp_path)
    assert config is None
    assert problems.lines() == [f"{tmp_path}/hats/site.yaml:1:1: missing: every site folder needs a site.yaml"]


def test_one_bad_site_stops_the_whole_folder_from_loading(tmp_path):
    write_site(tmp_path, ORIGIN, key="shoes")
    write_site(tmp_path, "origins: [https://hats.example]\nlanguage: de\n", key="hats")
    config, problems = load_config(tmp_path)
    assert config is None
    assert problems.lines() == [f"{tmp_path}/hats/site.yaml:2:1: 'de' is not one of: ja, en"]


def test_a_missing_or_empty_rules_folder_is_a_problem(tmp_path):
    config, problems = load_config(tmp_path / "rules")
    assert config is None
    assert problems.lines() == [
        f"{tmp_path}/rules:1:1: rules folder not found; it holds one folder per site, each with a site.yaml"
    ]
    config, problems = load_config(tmp_path)
    assert config is None
    assert problems.lines() == [f"{tmp_path}:1:1: no sites found; add {tmp_path}/<site>/site.yaml"]


def test_the_version_changes_exactly_when_a_file_changes(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    for rules in (first, second):
        write_site(rules, COUPONS + "  unique:\n    codes_file: codes.txt\n", **{"codes.txt": "AAA-111\n"})
    version = load_config(first)[0].version
    assert load_config(first)[0].version == version
    assert load_config(second)[0].version == version  # same content elsewhere: same version
    (second / "shop" / "codes.txt").write_text("AAA-111\nBBB-222\n", encoding="utf-8")
    changed = load_config(second)[0].version
    assert changed != version
    write_site(second, ORIGIN + "language: en\n")
    assert load_config(second)[0].version not in (version, changed)


# Placement


def test_the_placement_defaults_to_bottom_right_and_can_be_set(tmp_path):
    assert load(write_site(tmp_path, ORIGIN))[0].placement == "bottom-right"
    assert load(write_site(tmp_path, ORIGIN + "placement: bottom-left\n", key="left"))[0].placement == "bottom-left"


def test_an_unknown_placement_is_reported_where_it_is(tmp_path):
    assert problems_in(tmp_path, ORIGIN + "placement: left\n") == [
        "shop/site.yaml:2:1: 'left' is not one of: bottom-right, bottom-left, top, bottom"
    ]


# Chat launcher


def test_the_launcher_is_off_unless_the_site_asks_for_it(tmp_path):
    assert load(write_site(tmp_path, ORIGIN))[0].launcher is False
    assert load(write_site(tmp_path, ORIGIN + "launcher: true\n", key="chatty"))[0].launcher is True


def test_a_launcher_that_is_not_true_or_false_is_reported_where_it_is(tmp_path):
    assert problems_in(tmp_path, ORIGIN + "launcher: yes please\n") == [
        "shop/site.yaml:2:1: 'launcher' must be true or false, not text 'yes please'"
    ]
