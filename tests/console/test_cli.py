"""`irasshai operators …` as whoever runs the server uses it (docs/console.md), on a real Redis.

add, list, passwd and remove work and what they change is what the console sees; bad input
to each (unknown site, bad email, empty password, unknown operator, no Redis) is one line on
stderr and exit code 1. `irasshai demo` prints a console login that signs in.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import urllib.parse
import urllib.request

import pytest

from server.console.accounts import Accounts
from server.store.redis import RedisStore
from tests.conftest import ROOT, free_port
from tests.test_cli import irasshai, one_line_error, wait_until_up

pytestmark = pytest.mark.redis


def operators(redis_url: str, *args: str, password: str | None = None) -> subprocess.CompletedProcess:
    env = {"IRASSHAI_REDIS_URL": redis_url, "IRASSHAI_RULES_DIR": str(ROOT / "rules")}
    if password is None:
        return irasshai("operators", *args, env=env)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("IRASSHAI_")}
    return subprocess.run(
        [sys.executable, "-m", "server", "operators", *args, "--password-stdin"],
        input=password + "\n",
        capture_output=True,
        text=True,
        env={**environment, **env},
        timeout=30,
        cwd=ROOT,
    )


def signs_in(redis_url: str, email: str, password: str) -> bool:
    async def check() -> bool:
        store = RedisStore(redis_url)
        try:
            return await Accounts(store).sign_in(email, password) is not None
        finally:
            await store.close()

    return asyncio.run(check())


def test_add_list_passwd_and_remove(redis_url):
    added = operators(redis_url, "add", "demo", "Hanako@Example.com", "--name", "Hanako Sato", password="first pw")
    assert added.returncode == 0, added.stderr
    assert "hanako@example.com added" in added.stdout
    listed = operators(redis_url, "list", "demo")
    assert listed.returncode == 0 and listed.stdout == "hanako@example.com\tHanako Sato\toperator\tja\n"
    assert signs_in(redis_url, "hanako@example.com", "first pw")
    changed = operators(redis_url, "passwd", "demo", "hanako@example.com", password="second pw")
    assert changed.returncode == 0, changed.stderr
    assert signs_in(redis_url, "hanako@example.com", "second pw")
    assert not signs_in(redis_url, "hanako@example.com", "first pw")
    removed = operators(redis_url, "remove", "demo", "hanako@example.com")
    assert removed.returncode == 0 and "removed" in removed.stdout
    assert operators(redis_url, "list", "demo").stdout == ""
    assert not signs_in(redis_url, "hanako@example.com", "second pw")


def test_an_admin_with_a_language(redis_url):
    added = operators(
        redis_url, "add", "demo", "boss@example.com", "--role", "admin", "--language", "en", password="pw"
    )
    assert added.returncode == 0, added.stderr
    assert operators(redis_url, "list", "demo").stdout == "boss@example.com\tboss\tadmin\ten\n"


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (("add", "nosuch", "a@example.com"), "pw", "unknown site 'nosuch'"),
        (("add", "demo", "not-an-email"), "pw", "'not-an-email' is not an email address"),
        (("add", "demo", "a@example.com"), "", "the password is empty"),
        (("list", "nosuch"), None, "unknown site 'nosuch'"),
        (("remove", "demo", "who@example.com"), None, "no operator who@example.com on site demo"),
        (("remove", "nosuch", "who@example.com"), None, "unknown site 'nosuch'"),
        (("passwd", "demo", "who@example.com"), "pw", "no operator who@example.com on site demo"),
        (("passwd", "demo", "bad email"), "pw", "'bad email' is not an email address"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_1(redis_url, args, password, message):
    result = operators(redis_url, *args, password=password)
    assert result.returncode == 1
    assert message in one_line_error(result)


def test_an_empty_new_password_changes_nothing(redis_url):
    operators(redis_url, "add", "demo", "a@example.com", password="pw")
    result = operators(redis_url, "passwd", "demo", "a@example.com", password="")
    assert result.returncode == 1 and "the password is empty" in one_line_error(result)
    assert signs_in(redis_url, "a@example.com", "pw")


def test_without_redis_the_commands_say_why_they_cannot_work():
    result = irasshai("operators", "list", "demo")
    assert result.returncode == 1
    assert "IRASSHAI_REDIS_URL" in one_line_error(result)


def test_demo_prints_a_console_login_that_signs_in():
    port, shop_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IRASSHAI_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "server", "demo", "--port", str(port), "--shop-port", str(shop_port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", process)
        printed = []
        while not printed or not printed[-1].startswith("Press Ctrl+C"):
            printed.append(process.stdout.readline())
            assert printed[-1], f"the demo ended: {printed}"
        found = re.search(r"Console: +(http://\S+/console) +sign in as (\S+) / (\S+)", "".join(printed))
        assert found, f"no console login in {printed}"
        url, email, password = found.groups()
        assert url == f"http://127.0.0.1:{port}/console"
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        with opener.open(url + "/login", timeout=10) as page:
            token = re.search(r'name="csrf" value="([^"]+)"', page.read().decode()).group(1)
        form = urllib.parse.urlencode({"email": email, "password": password, "csrf": token}).encode()
        with opener.open(url + "/login", data=form, timeout=10) as shell:
            assert shell.url.endswith("/console/sites/demo")
            assert "Staff" in shell.read().decode()
    finally:
        process.terminate()
        process.communicate(timeout=20)
