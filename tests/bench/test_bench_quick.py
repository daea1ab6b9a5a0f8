"""bench/run --quick: the whole benchmark suite runs end to end and writes its report.

Benchmarks are not timed tests: nothing here asserts a number, only that every part ran and
the report has its tables and its ratio lines. wrk and redis-server are required: missing,
this test fails in CI (CI=true) and skips elsewhere.
"""

from __future__ import annotations

import shutil
import subprocess

from tests.conftest import ROOT, missing


def test_quick_mode_writes_the_report_with_its_tables_and_ratios(tmp_path):
    for tool in ("wrk", "redis-server"):
        if shutil.which(tool) is None:
            missing(f"{tool} is not installed (apt-get install {tool})")
    out = tmp_path / "performance.md"
    done = subprocess.run(
        [str(ROOT / "bench" / "run"), "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = out.read_text(encoding="utf-8")
    for header in (
        "| Target | Result | |",
        "| Server | requests/s (range) | events/s |",
        "| Rules | decide median µs |",
        "| File | raw bytes | gzip bytes | brotli bytes |",
        "| What | before | after | visitors | per visitor |",
        "| Held streams | opened | failed |",
        "| Operator → client | sent/s | delivered |",
    ):
        assert header in report, f"missing table: {header}"
    assert "bare Starlette" in report and "Redis store" in report and "Redis Cluster store (3 masters)" in report
    printed = done.stdout.strip().splitlines()
    for ratio in (
        "ratio (b)/(a) at saturation:",
        "ratio (c)/(a) at saturation:",
        "ratio (d)/(c), Redis Cluster vs one Redis:",
        "ratio peer/Irasshai, 100 rules:",
    ):
        assert any(line.startswith(ratio) for line in printed[-5:]), f"{ratio} not among the last lines printed"
        assert f"- {ratio}" in report
    assert report.rstrip().splitlines()[-1].startswith("- ratio peer/Irasshai"), "the ratios come last"
