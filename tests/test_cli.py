"""The `irasshai` command as a shop owner runs it: one clear line on every mistake, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import ROOT, free_port
from tests.helpers import write_site


def irasshai(*args: str, env: dict | None = None, timeout: float = 30) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("IRASSHAI_")}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=timeout,
        cwd=ROOT,
    )


def one_line_error(result: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_serve_refuses_to_start_without_a_secret_key(tmp_path):
    write_site(tmp_path)
    result = irasshai("serve", "--rules", str(tmp_path))
    assert result.returncode == 2
    assert "IRASSHAI_SECRET_KEY" in one_line_error(result)


def test_serve_says_in_one_line_when_the_metrics_port_is_taken(tmp_path):
    import socket

    write_site(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = irasshai(
            "serve",
            "--rules",
            str(tmp_path),
            "--port",
            str(free_port()),
            "--metrics-port",
            str(port),
            env={"IRASSHAI_SECRET_KEY": "k"},
        )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(f"irasshai: cannot serve metrics on 127.0.0.1:{port}: ")


def test_serve_refuses_several_workers_with_the_in_memory_store(tmp_path):
    write_site(tmp_path)
    result = irasshai("serve", "--rules", str(tmp_path), "--workers", "3", env={"IRASSHAI_SECRET_KEY": "k"})
    assert result.returncode == 2
    line = one_line_error(result)
    assert "--workers 3 needs Redis" in line and "--redis" in line


def test_a_bad_setting_names_the_variable_and_the_value():
    result = irasshai("serve", env={"IRASSHAI_PORT": "eighty"})
    assert result.returncode == 2
    assert one_line_error(result) == "irasshai: setting IRASSHAI_PORT has value 'eighty'; expected a whole number"


def test_serve_reports_every_problem_in_the_rules_folder_with_its_position(tmp_path):
    write_site(tmp_path, "a", "origins: [ftp://x]\ntimezone: Mars/Base\n")
    write_site(tmp_path, "b", "origins: [https://b.example]\nlanguge: en\n")
    result = irasshai("serve", "--rules", str(tmp_path), env={"IRASSHAI_SECRET_KEY": "k"})
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert (
        lines[0]
        == f"{tmp_path}/a/site.yaml:1:11: 'ftp://x' is not an origin; write scheme and host only, e.g. https://shop.example.com"
    )
    assert lines[1].startswith(f"{tmp_path}/a/site.yaml:2:1: 'Mars/Base' is not an IANA timezone")
    assert lines[2] == f"{tmp_path}/b/site.yaml:2:1: unknown site setting 'languge' (did you mean 'language'?)"
    assert lines[3].startswith("irasshai: 3 problem(s)")


def test_rules_check_lists_the_problems_down_each_file(tmp_path):
    """The checker finds a rule's unknown keys before its bad values; the list still reads top to bottom."""
    write_site(
        tmp_path,
        **{
            "rules.yaml": """\
        rules:
          - id: one
            when: {page: /x}
            show: {chat: hi}
            limit: {per_visitor: 1, within: 3}
            bogus: 1
          - id: two
            priority: high
            when: {page_views: {page: /p, at_least: 2, within: 5}}
            show: {chat: hi}
            extra: 1
        """
        },
    )
    result = irasshai("rules", "check", str(tmp_path))
    assert result.returncode == 1
    path = tmp_path / "shop" / "rules.yaml"
    assert [line.split(": ")[0] for line in result.stdout.splitlines()] == [
        f"{path}:5:29",
        f"{path}:6:5",
        f"{path}:8:5",
        f"{path}:9:48",
        f"{path}:11:5",
    ]


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 20) -> bytes:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"exited early: {process.stderr.read()}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                return response.read()
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer")


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_answers_health_checks(tmp_path, redis_url, workers):
    write_site(tmp_path)
    port = free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("IRASSHAI_")}, "IRASSHAI_SECRET_KEY": "k"}
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
            workers,
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert wait_until_up(f"http://127.0.0.1:{port}/healthz", process) == b'{"status":"ok"}'
        assert b'"ready"' in wait_until_up(f"http://127.0.0.1:{port}/readyz", process)
    finally:
        process.terminate()
        process.communicate(timeout=20)


def test_demo_serves_the_shop_and_the_widget_and_prints_both_urls():
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
        shop = wait_until_up(f"http://127.0.0.1:{shop_port}/", process).decode()
        assert f"http://127.0.0.1:{port}/widget.js" in shop
        assert b"irasshai" in wait_until_up(f"http://127.0.0.1:{port}/widget.js", process)
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=20)
    assert f"http://127.0.0.1:{port}" in out and f"http://127.0.0.1:{shop_port}" in out


def test_the_demo_shop_redeems_coupon_codes_with_the_demo_server():
    """`irasshai demo` gives the shop the demo site's secret: its checkout takes SPRING10 off an order."""
    import http.cookiejar
    import urllib.parse

    port, shop_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IRASSHAI_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "server", "demo", "--port", str(port), "--shop-port", str(shop_port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        shop = f"http://127.0.0.1:{shop_port}"
        wait_until_up(shop + "/", process)
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

        def post(path: str, form: dict[str, str]) -> str:
            with browser.open(shop + path, data=urllib.parse.urlencode(form).encode(), timeout=10) as response:
                return response.read().decode()

        post("/cart/add", {"slug": "wide-chino", "size": "M", "quantity": "1"})
        thanks = post("/checkout", {"coupon": "SPRING10"})
        assert "クーポン SPRING10（10%オフ）" in thanks
        assert "¥9,570" in thanks
    finally:
        process.terminate()
        process.communicate(timeout=20)


def test_demo_prints_a_secret_that_opens_the_operator_api():
    """Whoever tries the demo can answer its chats: `irasshai demo` makes the demo site a secret and prints it."""
    import json
    import re
    import urllib.request

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
        while not printed or not printed[-1].startswith("Press Ctrl+C"):  # the last line it prints
            printed.append(process.stdout.readline())
            assert printed[-1], f"the demo ended: {printed}"
        found = re.search(r"Operator API: +Authorization: Bearer (\S+)", "".join(printed))
        assert found, f"no operator API secret in {printed}"
        secret = found.group(1)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/sites/demo/conversations", headers={"authorization": f"Bearer {secret}"}
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert json.loads(response.read()) == {"conversations": []}
    finally:
        process.terminate()
        process.communicate(timeout=20)
