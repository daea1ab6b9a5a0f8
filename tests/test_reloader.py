"""Hot reload: a change under the rules folder goes live within 2 s; a broken edit never does.

The running server keeps the previous rules when an edit fails the checker, and /readyz
reports the live version and the problems of the last failed load.
"""

from __future__ import annotations

import time

import httpx2 as httpx

from tests.conftest import live_server
from tests.helpers import SHOP, batch, make_app, page_view, write_site

RULE = """\
rules:
  - id: hello
    when: {{page: /pricing}}
    show: {{chat: {{text: "{text}"}}}}
"""


def readyz(url: str) -> dict:
    return httpx.get(url + "/readyz").json()


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout}s: {what}")


def shown_text(url: str) -> str | None:
    reply = httpx.post(url + "/v1/sites/shop/events", content=batch(page_view("/pricing")),
                       headers={"origin": SHOP}).json()
    return reply.get("show", {}).get("text") if reply.get("show") else None


def test_an_edit_goes_live_within_2_seconds_and_a_broken_one_never(tmp_path):
    folder = write_site(tmp_path, **{"rules.yaml": RULE.format(text="first")})
    app = make_app(tmp_path, reload_interval=0.2)
    with live_server(app) as url:
        first = readyz(url)["rules"]
        assert first["last_error"] is None and shown_text(url) == "first"

        (folder / "rules.yaml").write_text(RULE.format(text="second"), encoding="utf-8")
        started = time.monotonic()
        wait_for(lambda: readyz(url)["rules"]["version"] != first["version"], 2.0, "new version live")
        assert time.monotonic() - started < 2.0
        assert shown_text(url) == "second"
        second = readyz(url)["rules"]["version"]

        (folder / "rules.yaml").write_text("rules:\n  - id: hello\n    when: {pgae: /x}\n    show: {chat: {text: hi}}\n",
                                           encoding="utf-8")
        wait_for(lambda: readyz(url)["rules"]["last_error"], 2.0, "the broken edit reported")
        status = readyz(url)
        assert status["status"] == "ready" and status["rules"]["version"] == second
        assert status["rules"]["last_error"] == [
            f"{folder}/rules.yaml:3:12: rule \"hello\": unknown condition 'pgae' (did you mean 'page'?)"]
        assert shown_text(url) == "second"  # the previous rules are still live

        (folder / "rules.yaml").write_text(RULE.format(text="third"), encoding="utf-8")
        wait_for(lambda: readyz(url)["rules"]["last_error"] is None, 2.0, "the fix goes live")
        assert shown_text(url) == "third"


def test_a_new_site_folder_is_picked_up(tmp_path):
    write_site(tmp_path)
    app = make_app(tmp_path, reload_interval=0.2)
    with live_server(app) as url:
        write_site(tmp_path, "second", f"origins: [{SHOP}]\n")
        wait_for(lambda: "second" in app.state.live.config.sites, 2.0, "the new site loaded")
        response = httpx.post(url + "/v1/sites/second/events", content=batch(page_view("/")), headers={"origin": SHOP})
        assert response.status_code == 200


def test_every_server_process_converges_on_the_edited_rules(tmp_path, redis_url):
    """`serve --workers 2`: each process polls the folder, so all of them go live with an edit."""
    import os
    import subprocess
    import sys
    import urllib.request

    from tests.conftest import ROOT, free_port

    folder = write_site(tmp_path, **{"rules.yaml": RULE.format(text="first")})
    port = free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("IRASSHAI_")},
           "IRASSHAI_SECRET_KEY": "k", "IRASSHAI_RELOAD_INTERVAL": "0.2"}
    process = subprocess.Popen([sys.executable, "-m", "server", "serve", "--rules", str(tmp_path), "--port", str(port),
                                "--redis", redis_url, "--workers", "2"],
                               env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def version() -> str | None:
        try:  # a new connection each time, so the kernel spreads them over both processes
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                return __import__("json").loads(response.read())["rules"]["version"]
        except OSError:
            return None

    try:
        wait_for(lambda: version() is not None, 20.0, "both workers up")
        old = version()
        (folder / "rules.yaml").write_text(RULE.format(text="second"), encoding="utf-8")
        time.sleep(2.0)  # the bound for noticing a change
        answers = {version() for _ in range(40)}
        assert answers and old not in answers and None not in answers, answers
    finally:
        process.terminate()
        process.wait(20)
