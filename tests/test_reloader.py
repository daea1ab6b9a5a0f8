"""Hot reload: a change under the rules folder goes live on the next check; a broken edit never does.

`Reloader.check()` is tested directly: nothing changed means no reload; an edit, a new site
folder or the fix of a broken edit goes live; a broken edit keeps the previous rules and records
its problems (shown by /readyz), and the fix says so in the log. The live tests only wait, with a
generous deadline, for what a user would see; they assert no elapsed time.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
import urllib.request

import httpx2 as httpx
import pytest

from server.config import Live, load_config
from server.reloader import Reloader
from tests.conftest import ROOT, free_port, live_server
from tests.helpers import SHOP, batch, make_app, page_view, write_site

RULE = """\
rules:
  - id: hello
    when: {{page: /pricing}}
    show: {{chat: {{text: "{text}"}}}}
"""
BROKEN = "rules:\n  - id: hello\n    when: {pgae: /x}\n    show: {chat: {text: hi}}\n"
# Slow machines and shared CI runners: long enough never to fail a working reloader.
DEADLINE = 30.0


def edit(path, text: str) -> None:
    """Write `text` and move the modification time on, so the change is seen on any filesystem's clock."""
    before = path.stat().st_mtime_ns if path.exists() else time.time_ns()
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before + 1_000_000_000, before + 1_000_000_000))


def live_reloader(rules_dir) -> Reloader:
    config, problems = load_config(rules_dir)
    assert config is not None, problems.lines()
    return Reloader(rules_dir, Live(config), interval=3600)


def greeting(reloader: Reloader) -> str:
    (rule,) = reloader.live.config.rules["shop"].rules
    return rule.action.render({})["text"]


@pytest.mark.anyio
async def test_an_unchanged_folder_is_not_reloaded(tmp_path):
    write_site(tmp_path, **{"rules.yaml": RULE.format(text="first")})
    reloader = live_reloader(tmp_path)
    version = reloader.live.config.version
    assert await reloader.check() is False
    assert reloader.live.config.version == version and reloader.live.last_error == []


@pytest.mark.anyio
async def test_an_edit_goes_live_on_the_next_check(tmp_path):
    folder = write_site(tmp_path, **{"rules.yaml": RULE.format(text="first")})
    reloader = live_reloader(tmp_path)
    edit(folder / "rules.yaml", RULE.format(text="third"))  # the same size: the time tells the change
    assert await reloader.check() is True
    assert greeting(reloader) == "third"
    assert await reloader.check() is False  # seen once, not reloaded again


@pytest.mark.anyio
async def test_an_edit_made_while_the_server_loads_is_noticed(tmp_path):
    from server.reloader import snapshot

    folder = write_site(tmp_path, **{"rules.yaml": RULE.format(text="first")})
    seen = snapshot(tmp_path)
    config, _ = load_config(tmp_path)
    edit(folder / "rules.yaml", RULE.format(text="second"))
    reloader = Reloader(tmp_path, Live(config), interval=3600, seen=seen)
    assert await reloader.check() is True and greeting(reloader) == "second"


@pytest.mark.anyio
async def test_a_broken_edit_keeps_the_previous_rules_and_records_the_problems(tmp_path, caplog):
    folder = write_site(tmp_path, **{"rules.yaml": RULE.format(text="first")})
    reloader = live_reloader(tmp_path)
    version = reloader.live.config.version
    edit(folder / "rules.yaml", BROKEN)
    with caplog.at_level(logging.INFO, logger="irasshai.reload"):
        assert await reloader.check() is False
    assert reloader.live.config.version == version and greeting(reloader) == "first"
    problem = f"{folder}/rules.yaml:3:12: rule \"hello\": unknown condition 'pgae' (did you mean 'page'?)"
    assert reloader.live.last_error == [problem]
    assert caplog.records[-1].levelno == logging.ERROR and problem in caplog.records[-1].getMessage()


@pytest.mark.parametrize("fix", ["first", "second"], ids=["the previous text restored", "a new text"])
@pytest.mark.anyio
async def test_the_fix_of_a_broken_edit_clears_the_error_and_says_so_in_the_log(tmp_path, caplog, fix):
    folder = write_site(tmp_path, **{"rules.yaml": RULE.format(text="first")})
    reloader = live_reloader(tmp_path)
    edit(folder / "rules.yaml", BROKEN)
    await reloader.check()
    caplog.clear()
    edit(folder / "rules.yaml", RULE.format(text=fix))
    with caplog.at_level(logging.INFO, logger="irasshai.reload"):
        assert await reloader.check() is (fix != "first")
    assert reloader.live.last_error == [] and greeting(reloader) == fix
    (record,) = caplog.records
    assert record.levelno == logging.INFO
    assert record.getMessage() == (
        f"rules in {tmp_path} reloaded: the earlier problems are fixed; "
        f"version {reloader.live.config.version} is live (shop: 1 rules)"
    )


@pytest.mark.anyio
async def test_a_new_site_folder_is_picked_up(tmp_path):
    write_site(tmp_path)
    reloader = live_reloader(tmp_path)
    write_site(tmp_path, "second", f"origins: [{SHOP}]\n")
    assert await reloader.check() is True
    assert set(reloader.live.config.sites) == {"shop", "second"}


# ---- Live: the reloader running inside a server ----


def readyz(url: str) -> dict:
    return httpx.get(url + "/readyz").json()


def wait_for(condition, what: str, timeout: float = DEADLINE):
    """Eventually: poll `condition` until it holds; the deadline only stops a broken reloader hanging."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


def shown_text(url: str) -> str | None:
    reply = httpx.post(
        url + "/v1/sites/shop/events", content=batch(page_view("/pricing")), headers={"origin": SHOP}
    ).json()
    return reply.get("show", {}).get("text") if reply.get("show") else None


def test_a_running_server_takes_an_edit_and_never_a_broken_one(tmp_path):
    folder = write_site(tmp_path, **{"rules.yaml": RULE.format(text="first")})
    app = make_app(tmp_path, reload_interval=0.2)
    with live_server(app) as url:
        first = readyz(url)["rules"]
        assert first["last_error"] is None and shown_text(url) == "first"

        edit(folder / "rules.yaml", RULE.format(text="second"))
        wait_for(lambda: readyz(url)["rules"]["version"] != first["version"], "the new version live")
        assert shown_text(url) == "second"
        second = readyz(url)["rules"]["version"]

        edit(folder / "rules.yaml", BROKEN)
        wait_for(lambda: readyz(url)["rules"]["last_error"], "the broken edit reported")
        status = readyz(url)
        assert status["status"] == "ready" and status["rules"]["version"] == second
        assert status["rules"]["last_error"] == [
            f"{folder}/rules.yaml:3:12: rule \"hello\": unknown condition 'pgae' (did you mean 'page'?)"
        ]
        assert shown_text(url) == "second"  # the previous rules are still live

        edit(folder / "rules.yaml", RULE.format(text="third"))
        wait_for(lambda: readyz(url)["rules"]["last_error"] is None, "the fix live")
        assert shown_text(url) == "third"


def test_every_server_process_converges_on_the_edited_rules(tmp_path, redis_url):
    """`serve --workers 2`: each process polls the folder, so all of them go live with an edit."""
    folder = write_site(tmp_path, **{"rules.yaml": RULE.format(text="first")})
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("IRASSHAI_")},
        "IRASSHAI_SECRET_KEY": "k",
        "IRASSHAI_RELOAD_INTERVAL": "0.2",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "server",
            "serve",
            "--rules",
            str(tmp_path),
            "--port",
            str(port),
            "--redis",
            redis_url,
            "--workers",
            "2",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def version() -> str | None:
        try:  # a new connection each time, so the kernel spreads them over both processes
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:
                return json.loads(response.read())["rules"]["version"]
        except OSError:
            return None

    try:
        wait_for(lambda: version() is not None, "both workers up")
        old = version()
        edit(folder / "rules.yaml", RULE.format(text="second"))

        def all_new() -> bool:
            answers = {version() for _ in range(40)}
            return old not in answers and None not in answers

        wait_for(all_new, "every process answering with the new version")
    finally:
        process.terminate()
        process.wait(20)
