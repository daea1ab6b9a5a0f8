"""The configuration loaded from the rules folder: every site, its compiled rules, its FAQ and canned replies.

A :class:`Config` is immutable. Reloading builds a new one and swaps it in whole, so a
request sees either the old configuration or the new one, never half of each; a folder
with any problem produces no Config at all and the previous one stays live.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from server.chat.faq import Faq
from server.chat.faq_file import load_faq
from server.console.replies import Reply, load_replies
from server.rules.engine import RuleSet
from server.rules.model import Rule
from server.rules.read import read_every_rule
from server.sites import SITE_FILE, Site, load_site
from server.yamlsource import Problems


@dataclass(frozen=True)
class Config:
    sites: dict[str, Site]
    rules: dict[str, RuleSet]  # site key -> its compiled rules
    version: str  # a digest of every file read: equal folders give equal versions
    faqs: dict[str, Faq] = field(default_factory=dict)  # site key -> its FAQ (rules/<site>/faq.yaml), if any
    # site key -> its canned replies for the console (rules/<site>/replies.yaml), if any
    replies: dict[str, tuple[Reply, ...]] = field(default_factory=dict)
    # site key -> every rule of its files, enabled or not, in file order (read-only: the console's
    # Rules page); the engine runs only `rules`
    catalog: dict[str, tuple[Rule, ...]] = field(default_factory=dict)


def watched_files(rules_dir: Path) -> list[Path]:
    """Every file whose change changes the configuration, in a stable order."""
    if not rules_dir.is_dir():
        return []
    return sorted(p for p in rules_dir.glob("*/*") if p.is_file() and not p.name.startswith("."))


def load_config(rules_dir: str | Path) -> tuple[Config | None, Problems]:
    """Load every site under `rules_dir`; (None, problems) if anything is wrong."""
    rules_dir = Path(rules_dir)
    problems = Problems()
    if not rules_dir.is_dir():
        problems.add_at(
            f"{rules_dir}:1:1", "rules folder not found; it holds one folder per site, each with a site.yaml"
        )
        return None, problems
    sites: dict[str, Site] = {}
    rules: dict[str, RuleSet] = {}
    faqs: dict[str, Faq] = {}
    replies: dict[str, tuple[Reply, ...]] = {}
    catalog: dict[str, tuple[Rule, ...]] = {}
    for folder in sorted(p for p in rules_dir.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        if not (folder / SITE_FILE).is_file():
            problems.add_at(f"{folder}/{SITE_FILE}:1:1", f"missing: every site folder needs a {SITE_FILE}")
            continue
        site = load_site(folder, problems)
        if site is not None:
            sites[site.key] = site
            every_rule = read_every_rule(folder, site, problems)
            catalog[site.key] = tuple(every_rule)
            rules[site.key] = RuleSet(site, [rule for rule in every_rule if rule.enabled])
            faq = load_faq(folder, site, problems)
            if faq is not None:
                faqs[site.key] = faq
            canned = load_replies(folder, site, problems)
            if canned:
                replies[site.key] = canned
    if not sites and not problems:
        problems.add_at(f"{rules_dir}:1:1", f"no sites found; add {rules_dir}/<site>/{SITE_FILE}")
    if problems:
        return None, problems
    config = Config(sites=sites, rules=rules, version=_digest(rules_dir), faqs=faqs, replies=replies, catalog=catalog)
    return config, problems


def _digest(rules_dir: Path) -> str:
    digest = hashlib.sha256()
    for path in watched_files(rules_dir):
        digest.update(str(path.relative_to(rules_dir)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


@dataclass
class Live:
    """The configuration in force, swapped whole by the reloader, and the last load error."""

    config: Config
    last_error: list[str] = field(default_factory=list)
