"""Shared by the engagement browser tests: seeing into the widget, waiting for it, reading stats.

The widget renders into a *closed* shadow root, which no locator can enter. In tests only,
`OPEN_SHADOW_ROOTS` is added as an init script so that the root is created open; Playwright's
CSS and role locators pierce open roots, so `page.get_by_role("dialog")` then finds the
engagement as a visitor's screen reader would. Nothing else about the widget changes.
"""

from __future__ import annotations

import json
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import redis
import yaml
from playwright.sync_api import BrowserContext, Locator, Page, expect
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from tests.conftest import free_port, live_server
from tests.helpers import make_app

STATS_SECRET = "stats-secret-for-browser-tests"

# Tests only: shadow roots are created open so that locators can reach the engagement. (Written
# to call nothing a hostile page may have broken by the time the widget attaches its root.)
OPEN_SHADOW_ROOTS = """
(() => {
  const attach = Element.prototype.attachShadow, apply = Reflect.apply;
  Element.prototype.attachShadow = function (init) {
    return apply(attach, this, [{ ...init, mode: "open" }]);
  };
})();
"""

# What the host page lives through: cumulative layout shift and Content-Security-Policy violations.
OBSERVERS = """
(() => {
  const seen = window.__seen = { layoutShift: 0, shifts: [], violations: [] };
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      seen.layoutShift += entry.value;
      seen.shifts.push(entry.sources.map((s) => s.node ? s.node.nodeName : "?").join(","));
    }
  }).observe({ type: "layout-shift", buffered: true });
  document.addEventListener("securitypolicyviolation", (event) => {
    seen.violations.push(event.violatedDirective + " " + event.blockedURI);
  });
})();
"""

# A mobile visitor as Playwright's devices["iPhone 13"] describes one, for Chromium.
IPHONE_13 = {
    "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 15_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/15.0 Mobile/15E148 Safari/604.1",
    "viewport": {"width": 390, "height": 844},
    "screen": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
}


@dataclass
class Console:
    """Console messages and uncaught errors of a page, as `type: text` lines."""

    messages: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        return [m for m in self.messages if m.split(":", 1)[0] in ("error", "warning", "pageerror")]


def new_visitor(browser, **options) -> BrowserContext:
    """A fresh browser context (a new visitor: no cookies, no localStorage) that can see the widget."""
    options.setdefault("locale", "ja-JP")
    context = browser.new_context(**options)
    context.add_init_script(OPEN_SHADOW_ROOTS)
    context.add_init_script(OBSERVERS)
    return context


def watch_console(page: Page) -> Console:
    console = Console()
    page.on("console", lambda message: console.messages.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: console.messages.append(f"pageerror: {error}"))
    return console


def box(page: Page) -> Locator:
    """The engagement's card (or sheet, or banner) inside the widget's shadow root."""
    return page.locator("irasshai-widget .box")


def wait_shown(page: Page, timeout: float = 5_000) -> Locator:
    """Wait until an engagement has faded in (its CSS loaded, `shown` reported); return its box."""
    expect(page.locator("irasshai-widget .layer.in")).to_have_count(1, timeout=timeout)
    expect(page.locator("irasshai-widget .layer")).to_have_css("opacity", "1", timeout=timeout)
    return box(page)


def settled(page: Page, site: str, timeout: float = 10_000) -> None:
    """Wait until the page has loaded and the server acknowledged every event the widget queued.

    The async widget runs before the load event and queues the page view at once; the reply
    that acknowledges it also says which signals to watch, so once this returns the widget's
    timers for this page are running.
    """
    page.wait_for_function(
        """(prefix) => document.readyState === "complete" && localStorage.getItem(prefix + "visitor")
             && JSON.parse(localStorage.getItem(prefix + "queue") || "[]").length === 0""",
        arg=f"irasshai:{site}:",
        timeout=timeout,
        polling=50,
    )


def exit_intent(page: Page) -> None:
    """The pointer leaves the window through its top edge, towards the tabs and the address bar.

    Playwright's mouse cannot leave the viewport, so the `mouseout` a browser sends then (no
    related target, at the top edge) is dispatched on the page's root element.
    """
    page.mouse.move(400, 40)
    page.mouse.move(400, 1)
    page.dispatch_event("html", "mouseout", {"clientX": 400, "clientY": 0, "relatedTarget": None})


def stats(server_url: str, site: str, days: int = 2) -> dict:
    """The rules' counters per day, from GET /v1/sites/{site}/stats (the server needs STATS_SECRET)."""
    request = urllib.request.Request(
        f"{server_url}/v1/sites/{site}/stats?days={days}", headers={"authorization": f"Bearer {STATS_SECRET}"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())["days"]


def counted(server_url: str, site: str, rule: str, kind: str) -> int:
    """How many `kind` (decided, shown, clicked, dismissed, copied) the server counted for `rule`."""
    return sum(rules.get(rule, {}).get(kind, 0) for rules in stats(server_url, site).values())


def wait_counted(server_url: str, site: str, rule: str, kind: str, at_least: int = 1, timeout: float = 10) -> int:
    """Wait until the server has counted `kind` feedback (shown, dismissed, …) for `rule` `at_least` times."""
    deadline = time.monotonic() + timeout
    while True:
        count = counted(server_url, site, rule, kind)
        if count >= at_least:
            return count
        if time.monotonic() > deadline:
            raise AssertionError(
                f"the server counted {count} '{kind}' for rule {rule} (expected {at_least}+): {stats(server_url, site)}"
            )
        time.sleep(0.05)


# ---- Fixture shop: one HTML page per feature, every engagement type on its own path ----

PAGES = Path(__file__).parent / "pages"
FILE_TYPES = {".css": "text/css", ".js": "text/javascript"}
SITES = {"shop": "ja", "shop-en": "en"}
KINDS = ("chat", "coupon", "modal", "banner", "toast")
CODES = [f"WELCOME-{number:04d}" for number in range(1, 41)]

# What each engagement says, per site language. A rule `<kind>` shows it on any path ending in
# /<kind>; a rule `<kind>-on-event` shows it on the custom event `show_<kind>`.
ACTIONS = {
    "ja": {
        "chat": {
            "chat": {
                "text": "サイズ選びで迷ったら、お気軽にご相談ください。",
                "agent": {"name": "佐藤（スタッフ）"},
                "button": "相談する",
            }
        },
        "coupon": {
            "coupon": {
                "pool": "welcome",
                "title": "はじめてのお客様へ",
                "text": "初めてのお買い物で使える500円オフクーポンです。",
                "button": "買い物を続ける",
            }
        },
        "modal": {
            "message": {
                "style": "modal",
                "title": "週末セール",
                "text": "全品20%オフは日曜日まで。",
                "button": {"label": "セール会場へ", "url": "https://shop.example/sale"},
            }
        },
        "banner": {
            "message": {
                "style": "banner",
                "title": "LINEで友だち追加",
                "text": "新作入荷やセールのお知らせをLINEでお届けします。",
                "button": {"label": "友だち追加", "url": "https://line.me/R/ti/p/@fixture"},
            }
        },
        "toast": {
            "message": {
                "style": "toast",
                "title": "このトップスに合わせるなら",
                "text": "定番のボトムスと合わせて、すぐに着られるコーディネートに。",
                "button": {"label": "ボトムスを見る", "url": "/category/bottoms"},
            }
        },
    },
    "en": {
        "chat": {
            "chat": {
                "text": "Not sure about the size? Ask us, we answer right away.",
                "agent": {"name": "Sato (staff)"},
            }
        },
        "coupon": {
            "coupon": {
                "pool": "welcome",
                "title": "Welcome to our shop",
                "text": "¥500 off your first order.",
                "button": "Keep shopping",
            }
        },
        "modal": {
            "message": {
                "style": "modal",
                "title": "Weekend sale",
                "text": "20% off everything until Sunday.",
                "button": {"label": "Shop the sale", "url": "https://shop.example/sale"},
            }
        },
        "banner": {
            "message": {
                "style": "banner",
                "title": "Follow us on LINE",
                "text": "New arrivals and sales, straight to your LINE.",
                "button": {"label": "Add friend", "url": "https://line.me/R/ti/p/@fixture"},
            }
        },
        "toast": {
            "message": {
                "style": "toast",
                "title": "Goes well with this top",
                "text": "Our classic bottoms make it an outfit.",
                "button": {"label": "See bottoms", "url": "/category/bottoms"},
            }
        },
    },
}
UNLIMITED = {"per_session": 100}
EXTRA_RULES = [
    # Markup in a rule's text and in a visitor attribute must stay text.
    {
        "id": "markup",
        "when": {"page": "*/xss"},
        "limit": UNLIMITED,
        "show": {
            "message": {
                "style": "toast",
                "title": "<img src=x onerror=alert(1)>",
                "text": "{{ visitor.name }}さん、<script>alert(2)</script>",
            }
        },
    },
    # After five seconds on the page: exercises the client signals.
    {
        "id": "linger",
        "when": {"page": "*/linger", "time_on_page": "5s"},
        "limit": UNLIMITED,
        "show": {"message": {"style": "toast", "title": "ごゆっくりどうぞ", "text": "気になる商品はカートへ。"}},
    },
    # Items put in the cart on the page itself (no page view), then the pointer leaves.
    {
        "id": "cart-exit",
        "when": {"page": "*/cart", "visitor": {"cart_value": {"gt": 0}}, "exit_intent": True},
        "limit": UNLIMITED,
        "show": {"message": {"style": "toast", "title": "お帰りの前に", "text": "カートの商品をお忘れなく。"}},
    },
    # Placements: a card on `*/placed-<placement>`, a banner on `*/banner-<placement>`.
    *(
        {
            "id": f"placed-{where}",
            "when": {"page": f"*/placed-{where}"},
            "limit": UNLIMITED,
            "show": {"message": {"style": "toast", "title": where, "placement": where}},
        }
        for where in ("bottom-right", "bottom-left", "top", "bottom")
    ),
    *(
        {
            "id": f"banner-{where}",
            "when": {"page": f"*/banner-{where}"},
            "limit": UNLIMITED,
            "show": {"message": {"style": "banner", "title": where, "placement": where}},
        }
        for where in ("top", "bottom")
    ),
    # A second engagement decided while one is on screen.
    {
        "id": "again",
        "when": {"event": "again"},
        "limit": UNLIMITED,
        "show": {"message": {"style": "toast", "title": "二つ目のお知らせ", "text": "同時には表示されません。"}},
    },
]


def fixture_rules(language: str) -> dict:
    rules = []
    for kind, show in ACTIONS[language].items():
        rules.append({"id": kind, "when": {"page": f"*/{kind}"}, "show": show, "limit": UNLIMITED})
        rules.append({"id": f"{kind}-on-event", "when": {"event": f"show_{kind}"}, "show": show, "limit": UNLIMITED})
    return {"rules": rules + EXTRA_RULES}


def write_fixture_sites(rules_dir: Path, shop_url: str) -> Path:
    """Sites `shop` (ja) and `shop-en` (en): no gap between engagements, every rule unlimited."""
    for key, language in SITES.items():
        folder = rules_dir / key
        folder.mkdir(parents=True)
        site = {
            "origins": [shop_url],
            "timezone": "Asia/Tokyo",
            "language": language,
            "engagement_gap": "0s",
            "coupons": {
                "welcome": {
                    "codes_file": "codes.txt",
                    "expires_after": "14d",
                    "discount": "500円オフ" if language == "ja" else "¥500 off",
                }
            },
        }
        (folder / "site.yaml").write_text(yaml.safe_dump(site, allow_unicode=True, sort_keys=False), encoding="utf-8")
        (folder / "codes.txt").write_text("\n".join(CODES) + "\n", encoding="utf-8")
        (folder / "fixtures.yaml").write_text(
            yaml.safe_dump(fixture_rules(language), allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
    return rules_dir


def content_security_policy(server_url: str) -> str:
    """Strict: the widget's origin for script, style, connections and images; nothing inline, no eval."""
    return (
        f"default-src 'none'; script-src {server_url} 'self'; style-src {server_url} 'self'; "
        f"connect-src {server_url}; img-src 'self' data: {server_url}"
    )


def fixture_shop(server_url: str) -> Starlette:
    """`/<site>/<fixture>/<kind>`: pages/<fixture>.html embedding the widget for <site>.

    The path's last part picks the engagement (see `fixture_rules`); `csp.html` is served with
    a strict Content-Security-Policy header. `/<site>/attack/<names>/<kind>` is attack.html
    under the stylesheets and scripts of pages/attacks/ that `names` lists (test_hostile_pages.py).
    """

    async def page(request):
        site, fixture = request.path_params["site"], request.path_params["fixture"]
        path = PAGES / f"{fixture}.html"
        if site not in SITES or not path.is_file():
            return Response("not found", status_code=404)
        html = path.read_text(encoding="utf-8").replace("{{SERVER}}", server_url).replace("{{SITE}}", site)
        headers = {"content-security-policy": content_security_policy(server_url)} if fixture == "csp" else None
        return HTMLResponse(html, headers=headers)

    async def attack(request):
        """attack.html with, for each name in turn, attacks/<name>.css and/or attacks/<name>.js."""
        site, names = request.path_params["site"], request.path_params["names"].split(",")
        tags = []
        for name in names:
            found = [path for suffix in FILE_TYPES if (path := PAGES / "attacks" / (name + suffix)).is_file()]
            if site not in SITES or not name.replace("-", "").isalnum() or not found:
                return Response("not found", status_code=404)
            for path in found:
                href = f"/files/attacks/{path.name}"
                tags.append(
                    f'<script src="{href}"></script>'
                    if path.suffix == ".js"
                    else f'<link rel="stylesheet" href="{href}">'
                )
        html = (PAGES / "attack.html").read_text(encoding="utf-8")
        html = html.replace("{{ATTACK}}", "\n".join(tags)).replace("{{SERVER}}", server_url).replace("{{SITE}}", site)
        return HTMLResponse(html)

    async def file(request):
        folder = PAGES / "attacks" if request.url.path.startswith("/files/attacks/") else PAGES
        path = folder / request.path_params["name"]
        if path.suffix not in FILE_TYPES or not path.is_file():
            return Response("not found", status_code=404)
        return Response(path.read_bytes(), media_type=FILE_TYPES[path.suffix])

    return Starlette(
        routes=[
            Route("/files/attacks/{name}", file),
            Route("/files/{name}", file),
            Route("/{site}/attack/{names}/{kind}", attack),
            Route("/{site}/{fixture}/{kind}", page),
        ]
    )


@dataclass(frozen=True)
class Fixtures:
    shop: str
    server: str

    def url(self, fixture: str, kind: str, site: str = "shop") -> str:
        return f"{self.shop}/{site}/{fixture}/{kind}"


def flush(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        client.flushall()
    finally:
        client.close()


class ServerClock:
    """The Irasshai server's clock in browser tests: real time plus however far the tests moved
    the pages' clocks on. The server bounds the widget's time claims by its own clock
    (server/signals.py), so moving only a page's clock would claim time the server never saw."""

    offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


SERVER_CLOCK = ServerClock()


def fast_forward(page: Page, duration: str) -> None:
    """Move the server's clock and then the page's on by `duration` ("mm:ss")."""
    minutes, seconds = duration.split(":")
    SERVER_CLOCK.offset += int(minutes) * 60 + int(seconds)
    page.clock.fast_forward(duration)


@contextmanager
def fixture_servers(folder: Path, redis_url: str):
    """The Irasshai server (on the test Redis) and the fixture shop, each on its own origin."""
    shop_port, server_port = free_port(), free_port()
    shop_url, server_url = f"http://127.0.0.1:{shop_port}", f"http://127.0.0.1:{server_port}"
    rules = write_fixture_sites(folder / "rules", shop_url)
    server = make_app(
        rules, "redis", redis_url, clock=SERVER_CLOCK, site_secrets=",".join(f"{key}={STATS_SECRET}" for key in SITES)
    )
    with live_server(server, port=server_port), live_server(fixture_shop(server_url), port=shop_port):
        yield Fixtures(shop_url, server_url)
