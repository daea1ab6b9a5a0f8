"""`pip install .` gives a working server: the wheel carries the packages and the widget, nothing else.

The wheel is built offline from a copy of the source tree and installed into a fresh virtualenv
that sees the dependencies of the test virtualenv (a .pth file) but not the source tree: no
PYTHONPATH, and the commands run from an empty folder. What a shop owner would see is then
checked over HTTP: the widget, an event, and the demo shop.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path

import pytest

from server.web.widget import minified_script
from tests.conftest import ROOT, free_port
from tests.test_cli import wait_until_up

# Not sources: the virtualenv, git, build output and what tests leave behind.
NOT_SOURCES = shutil.ignore_patterns(
    ".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", "artifacts", ".pytest_cache", ".ruff_cache"
)


def run(*command, **options) -> subprocess.CompletedProcess:
    result = subprocess.run([str(part) for part in command], capture_output=True, text=True, timeout=300, **options)
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel `pip install .` would build, built without network from a copy of this tree."""
    folder = tmp_path_factory.mktemp("wheel")
    source = folder / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCES)
    run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        "--disable-pip-version-check",
        "-q",
        "-w",
        folder / "dist",
        source,
    )
    (built,) = (folder / "dist").glob("irasshai-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> dict:
    """A fresh virtualenv with the wheel installed; yields the environment and cwd to run it with."""
    folder = tmp_path_factory.mktemp("installed")
    venv = folder / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        venv / "bin" / "python",
        "install",
        "--no-deps",
        "--no-index",
        "--disable-pip-version-check",
        "-q",
        wheel,
    )
    # The dependencies come from the test virtualenv; a .pth line only adds the folder to sys.path
    # (the editable install's own .pth files there are not run, so the source tree stays out).
    (target,) = (venv / "lib").glob("python3.*/site-packages")
    (target / "test-dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n", encoding="utf-8")
    shutil.copytree(ROOT / "rules", folder / "rules")
    elsewhere = folder / "cwd"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IRASSHAI_") and k != "PYTHONPATH"}
    env["IRASSHAI_SECRET_KEY"] = "test-secret-key-not-for-production"
    return {"bin": venv / "bin", "rules": folder / "rules", "cwd": elsewhere, "env": env, "site_packages": target}


def test_the_wheel_carries_the_packages_and_the_widget_and_nothing_else(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    widget = ("widget.js", "ui.js", "chat.js", "widget.css", "chat.css")
    assert {f"server/widget_js/{name}" for name in widget} <= set(names)
    assert "server/store/lua/save_visitor.lua" in names
    # The console's pages, script and styles are served by the server itself, never a CDN.
    console = ("templates/base.html", "templates/login.html", "templates/shell.html", "static/console.js")
    assert {f"server/console/{name}" for name in (*console, "static/console.css")} <= set(names)
    # `irasshai demo` runs the demo shop, so it ships too, with its templates and static files.
    assert "demo_shop/app.py" in names and "demo_shop/templates/base.html" in names
    stray = [
        name
        for name in names
        if not (name.split("/")[0] in ("server", "demo_shop") or name.split("/")[0].endswith(".dist-info"))
        or "__pycache__" in name
        or name.endswith(".pyc")
    ]
    assert stray == []


def test_the_installed_server_imports_from_the_wheel_not_the_source_tree(installed):
    code = "import server, server.web.widget as w; print(server.__file__); print(w.WIDGET_DIR)"
    result = run(installed["bin"] / "python", "-c", code, cwd=installed["cwd"], env=installed["env"])
    for line in result.stdout.splitlines():
        assert Path(line).is_relative_to(installed["site_packages"]), result.stdout


def test_irasshai_serve_from_the_wheel_serves_the_widget_and_takes_events(installed):
    port = free_port()
    process = subprocess.Popen(
        [installed["bin"] / "irasshai", "serve", "--rules", installed["rules"], "--port", str(port)],
        cwd=installed["cwd"],
        env=installed["env"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        assert wait_until_up(f"{base}/widget.js", process) == minified_script()
        event = {"type": "page_view", "id": "evt-wheel-1", "ts": 1_700_000_000_000, "url": "http://127.0.0.1:8001/"}
        request = urllib.request.Request(
            f"{base}/v1/sites/demo/events",
            method="POST",
            data=json.dumps({"visitor": None, "context": {"language": "ja"}, "events": [event]}).encode(),
            headers={"origin": "http://127.0.0.1:8001", "content-type": "text/plain;charset=UTF-8"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.loads(response.read())["acked"] == ["evt-wheel-1"]
    finally:
        process.terminate()
        process.communicate(timeout=20)


def test_irasshai_demo_from_the_wheel_serves_the_shop(installed):
    port, shop_port = free_port(), free_port()
    process = subprocess.Popen(
        [
            installed["bin"] / "irasshai",
            "demo",
            "--rules",
            installed["rules"],
            "--port",
            str(port),
            "--shop-port",
            str(shop_port),
        ],
        cwd=installed["cwd"],
        env=installed["env"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        shop = wait_until_up(f"http://127.0.0.1:{shop_port}/", process).decode()
        assert f"http://127.0.0.1:{port}/widget.js" in shop
    finally:
        process.terminate()
        process.communicate(timeout=20)
