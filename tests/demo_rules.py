"""rules/demo copied for a test: the demo shop's rules as a new user runs them, on a test's ports."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from tests.conftest import ROOT

SITE = "demo"


def copy_demo_rules(folder: Path, shop_url: str, business_hours: str | None = None) -> Path:
    """rules/demo copied into `folder`/rules, allowing `shop_url`, with other business hours if
    given, and with every `holdout:` removed: the tests play what a visitor who is shown the
    engagements sees, and a holdout would put a share of the tests' new visitors, at random, in
    a control group that is shown nothing. Returns the rules folder."""
    target = folder / "rules" / SITE
    shutil.copytree(ROOT / "rules" / SITE, target)
    for path in target.glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        path.write_text(re.sub(r"^ *holdout: .*\n", "", text, flags=re.M), encoding="utf-8")
    site_yaml = target / "site.yaml"
    text = site_yaml.read_text(encoding="utf-8")
    text, origins = re.subn(r"^origins:\n(?:  - .*\n)+", f"origins:\n  - {shop_url}\n", text, flags=re.M)
    assert origins == 1, "rules/demo/site.yaml no longer lists origins as expected; update this test"
    if business_hours is not None:
        text, hours = re.subn(r"^business_hours:\n(?:  .*\n)+", business_hours, text, flags=re.M)
        assert hours == 1, "rules/demo/site.yaml no longer has business_hours as expected; update this test"
    site_yaml.write_text(text, encoding="utf-8")
    return folder / "rules"
