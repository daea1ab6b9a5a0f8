"""A site's privacy settings (server/privacy/policy.py): ``privacy:`` in site.yaml, and what a request may store.

By default Global Privacy Control is honoured, Do Not Track is not, and no consent is needed;
each can be changed, and every mistake is one ``path:line:col`` line. A request from a browser
with GPC (or DNT, where the site honours it), or without consent on a site that needs it, stores nothing.
"""

from __future__ import annotations

from server.privacy.policy import Privacy, stop_reason
from tests.test_sites import ORIGIN, load, problems_in, write_site


def test_by_default_gpc_is_honoured_dnt_is_not_and_no_consent_is_needed(tmp_path):
    site, problems = load(write_site(tmp_path, ORIGIN))
    assert problems == []
    assert site.privacy == Privacy(gpc=True, dnt=False, consent=False)


def test_each_setting_can_be_changed(tmp_path):
    text = ORIGIN + "privacy:\n  gpc: ignore\n  dnt: honour\n  consent: required\n"
    site, problems = load(write_site(tmp_path, text))
    assert problems == []
    assert site.privacy == Privacy(gpc=False, dnt=True, consent=True)


def test_mistakes_are_one_line_each_with_their_place(tmp_path):
    text = ORIGIN + "privacy:\n  gpc: maybe\n  consnet: required\n  consent: always\n"
    assert problems_in(tmp_path, text) == [
        "shop/site.yaml:3:3: privacy 'gpc' must be honour or ignore, not 'maybe'",
        "shop/site.yaml:4:3: unknown privacy setting 'consnet' (did you mean 'consent'?)",
        "shop/site.yaml:5:3: privacy 'consent' must be required or not_required, not 'always'",
    ]
    assert problems_in(tmp_path, ORIGIN + "privacy: required\n") == [
        "shop/site.yaml:2:1: 'privacy' must be a mapping with 'gpc', 'dnt' and 'consent', not text"
    ]


def test_what_a_request_may_store():
    default, strict, lax = Privacy(), Privacy(dnt=True, consent=True), Privacy(gpc=False)
    assert stop_reason(default, {}, consented=False) is None
    assert stop_reason(default, {"sec-gpc": "1"}, consented=True) == "gpc"
    assert stop_reason(lax, {"sec-gpc": "1"}, consented=False) is None
    assert stop_reason(default, {"dnt": "1"}, consented=False) is None
    assert stop_reason(strict, {"dnt": "1"}, consented=True) == "dnt"
    assert stop_reason(strict, {"dnt": "0"}, consented=False) == "consent"
    assert stop_reason(strict, {}, consented=True) is None
