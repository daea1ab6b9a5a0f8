"""`line:` in site.yaml (server/line/channel.py).

Contract: a site without `line:` has no LINE channel; `channel_id` (digits) is required, `link`
is true or false (default false), `link_page` is the shop page's URL and is required with
`link: true`; unknown keys get a hint; every mistake is reported at once, at its line, and a
site with one is not loaded.
"""

from __future__ import annotations

from server.line.channel import LineChannel
from tests.test_sites import ORIGIN, load, problems_in, write_site


def test_a_site_without_line_has_no_channel_and_a_channel_loads(tmp_path):
    site, _ = load(write_site(tmp_path, ORIGIN))
    assert site.line is None
    text = ORIGIN + 'line:\n  channel_id: "2001234567"\n  link: true\n  link_page: https://shop.example/line-link\n'
    site, problems = load(write_site(tmp_path, text, key="other"))
    assert problems == []
    assert site.line == LineChannel("2001234567", link=True, link_page="https://shop.example/line-link")


def test_an_unquoted_channel_id_reads_as_written(tmp_path):
    site, _ = load(write_site(tmp_path, ORIGIN + "line: {channel_id: 2001234567}\n"))
    assert site.line == LineChannel("2001234567")


def test_every_mistake_in_line_is_reported_at_its_line(tmp_path):
    text = ORIGIN + "line:\n  channel_id: '@nunotohibi'\n  link: yes please\n  link_page: shop.example\n  secret: abc\n"
    assert problems_in(tmp_path, text) == [
        "shop/site.yaml:3:3: 'channel_id' must be the channel's id (digits only), not '@nunotohibi'",
        "shop/site.yaml:4:3: 'link' must be true or false, not text 'yes please'",
        "shop/site.yaml:5:3: 'link_page' must be the URL of the shop's page (https://…), not 'shop.example'",
        "shop/site.yaml:6:3: unknown line setting 'secret'",
    ]


def test_a_link_without_a_page_and_a_channel_without_an_id_are_reported(tmp_path):
    assert problems_in(tmp_path, ORIGIN + "line:\n  link: true\n") == [
        "shop/site.yaml:2:1: 'line' needs 'channel_id': the Messaging API channel's id, from the LINE Developers console",
        "shop/site.yaml:3:3: 'link: true' needs 'link_page': the shop's page that signs the customer in (docs/line.md)",
    ]
    assert problems_in(tmp_path, ORIGIN + "line: 2001234567\n") == [
        "shop/site.yaml:2:1: 'line' must be a mapping with 'channel_id' (and 'link'), not a number"
    ]
