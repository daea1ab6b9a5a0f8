"""Synthetic rules a large shop might plausibly write, as plain data (the YAML's `rules:` items).

The same data is written to a rules folder for Irasshai's compiler and translated by
:mod:`bench.peer` for the peer engine, so both evaluate the same conditions. The first N
rules of the stream are always the same (seeded), so 10 rules are part of 100, and 100 of 1,000.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import yaml

from demo_shop.catalog import PRODUCTS

SHOP_ORIGIN = "https://shop.bench.example"  # the Origin header the load generator sends
CATEGORIES = ("tops", "bottoms")
SLUGS = tuple(p.slug for p in PRODUCTS)
SECTION_PAGES = (
    "/",
    "/pricing*",
    "/cart",
    "/checkout",
    "/category/tops",
    "/category/bottoms",
    "/category/*",
    "/products/*",
    "/blog/*",
    "/sale/*",
    "/help*",
)

SITE_YAML = f"""\
name: Bench shop
origins: [{SHOP_ORIGIN}]
timezone: Asia/Tokyo
language: ja
business_hours: {{days: [mon, tue, wed, thu, fri], from: "09:00", to: "18:00"}}
"""


def _page(rng: random.Random) -> str | list[str]:
    roll = rng.random()
    if roll < 0.35:
        return "/products/" + rng.choice(SLUGS)
    if roll < 0.45:
        return "re:/products/(cashmere|merino|linen)-.*"
    if roll < 0.55:
        return rng.sample(SECTION_PAGES, 2)
    return rng.choice(SECTION_PAGES)


def _show(rng: random.Random, number: int) -> dict:
    if rng.random() < 0.4:
        return {"chat": {"text": f"ご質問はありますか？（ルール{number}）", "agent": {"name": "佐藤（スタッフ）"}}}
    return {
        "message": {
            "style": rng.choice(["toast", "banner", "modal"]),
            "title": f"おすすめ {number}",
            "text": "{{ site.name }}からのお知らせです。",
            "button": {"label": "見る", "url": "/sale/winter"},
        }
    }


def _when(rng: random.Random) -> dict:
    """One plausible `when:`, from a dozen shapes seen in real campaigns."""
    kind = rng.randrange(14)
    page = _page(rng)
    category = rng.choice(CATEGORIES)
    if kind == 0:  # came back to the same pages
        return {
            "page": page,
            "page_views": {"page": page, "at_least": rng.randint(2, 4), "within": f"{rng.choice([1, 7, 14])}d"},
        }
    if kind == 1:  # a big cart
        return {"page": ["/cart", "/checkout"], "visitor": {"cart_value": {"gte": rng.choice([5000, 10000, 20000])}}}
    if kind == 2:  # keeps looking at one category
        return {
            "event": "view_product",
            "properties": {"category": category},
            "events": {
                "name": "view_product",
                "where": {"category": category},
                "at_least": rng.randint(2, 5),
                "within": "1d",
            },
        }
    if kind == 3:  # an expensive item into a first cart
        return {
            "event": "add_to_cart",
            "properties": {"price": {"gte": rng.choice([8000, 12000, 30000])}},
            "not": {"events": {"name": "purchase", "at_least": 1}},
        }
    if kind == 4:  # a returning phone visitor
        return {"page": page, "device": "mobile", "returning": True, "sessions": {"at_least": 2, "within": "30d"}}
    if kind == 5:  # English speakers after hours
        return {"page": page, "language": ["en", "zh"], "not": {"hours": "business"}}
    if kind == 6:  # from a campaign, browsing a lot
        return {
            "page": "/products/*",
            "utm": {"source": rng.choice(["instagram", "line", "google"])},
            "page_views": {"at_least": rng.randint(3, 8)},
        }
    if kind == 7:  # first visit from search
        return {"page": page, "referrer": "*google.*", "returning": False}
    if kind == 8:  # a long look (a client signal: drives `watch`)
        return {"page": "/products/" + rng.choice(SLUGS), "time_on_page": f"{rng.choice([15, 30, 60])}s"}
    if kind == 9:
        return {"page": rng.choice(["/blog/*", "/help*", "/products/*"]), "scroll": f"{rng.choice([50, 75, 90])}%"}
    if kind == 10:
        return {"page": ["/cart", "/checkout"], "visitor": {"cart_items": {"gte": 1}}, "exit_intent": True}
    if kind == 11:  # a sale, for half of the visitors
        return {"any": [{"page": "/sale/*"}, {"utm": {"campaign": "sale*"}}], "sample": f"{rng.choice([10, 50, 90])}%"}
    if kind == 12:  # a dated campaign
        return {"page": page, "dates": {"from": "2026-12-01", "until": "2026-12-25"}}
    return {"page": page, "visitor": {"logged_in": True, "orders": {"gte": rng.randint(1, 5)}}}  # loyal customers


def synthetic_rules(count: int, seed: int = 20261122) -> list[dict]:
    rng = random.Random(seed)
    rules = []
    for number in range(1, count + 1):
        rule = {
            "id": f"syn-{number:04d}",
            "priority": rng.randint(0, 20),
            "when": _when(rng),
            "show": _show(rng, number),
        }
        if rng.random() < 0.5:
            rule["limit"] = {"per_visitor": 1, "within": rng.choice(["1d", "7d", "30d"])}
        rules.append(rule)
    return rules


def write_rules(path: Path, rules: list[dict]) -> None:
    text = "# Generated by bench/synthetic.py: plausible rules for the benchmarks.\n"
    path.write_text(text + yaml.safe_dump({"rules": rules}, allow_unicode=True, sort_keys=False), encoding="utf-8")


def synthetic_site(rules_dir: Path, count: int, key: str = "bench") -> Path:
    """A site of `count` synthetic rules only: what the rule benchmark times."""
    folder = rules_dir / key
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "site.yaml").write_text(SITE_YAML, encoding="utf-8")
    write_rules(folder / "synthetic.yaml", synthetic_rules(count))
    return folder


def demo_plus_synthetic(rules_dir: Path, demo: Path, count: int, origin: str = SHOP_ORIGIN) -> Path:
    """rules/demo copied, its origins set to `origin` (the load generator's), plus `count` synthetic rules."""
    folder = rules_dir / "demo"
    shutil.copytree(demo, folder, ignore=shutil.ignore_patterns("*.test.yaml"))
    site = yaml.safe_load((folder / "site.yaml").read_text(encoding="utf-8"))
    site["origins"] = [origin]
    (folder / "site.yaml").write_text(yaml.safe_dump(site, allow_unicode=True, sort_keys=False), encoding="utf-8")
    write_rules(folder / "synthetic.yaml", synthetic_rules(count))
    return folder
