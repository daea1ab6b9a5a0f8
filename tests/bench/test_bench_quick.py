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
        "| Server | processes | server CPU per request |",
        "| Scope | layout | server processes carry, req/s |",
        "| Client | CPU per operation (median) |",
        "| Library | version | asyncio | Redis Cluster |",
    ):
        assert header in report, f"missing table: {header}"
    assert "bare Starlette" in report and "Redis store" in report and "Redis Cluster store (3 masters)" in report
    assert "2 server processes on one Redis" in report
    for goal in ("within 10 % of 1 process", "custom events as for page views", "(c)/(a) ≥ 0.33", "(b)/(a) ≥ 0.5"):
        assert any(line.startswith("| ") and goal in line for line in report.splitlines()), f"no target row: {goal}"
    printed = done.stdout.strip().splitlines()
    ratios = printed[next(i for i, line in enumerate(printed) if line.startswith("report: ")) + 1 :]
    for ratio in (
        "ratio (b)/(a) at saturation:",
        "ratio (c)/(a) at saturation:",
        "ratio (c2)/(c), 2 server processes vs 1 on one Redis:",
        "ratio (d)/(c), Redis Cluster vs one Redis:",
        "ratio peer/Irasshai, 100 rules:",
    ):
        assert any(line.startswith(ratio) for line in ratios), f"{ratio} not among the ratio lines printed last"
        assert f"- {ratio}" in report
    assert report.rstrip().splitlines()[-1].startswith("- ratio peer/Irasshai"), "the ratios come last"
