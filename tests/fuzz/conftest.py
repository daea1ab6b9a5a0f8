"""The fuzz tests' tally: how many generated inputs each endpoint answered, by status, printed
at the end of the run (the figures of docs/reliability.md#fuzzing come from it)."""

from __future__ import annotations

from tests.fuzz.checks import TALLY


def pytest_terminal_summary(terminalreporter) -> None:
    if not TALLY:
        return
    terminalreporter.section("fuzz: generated inputs by answer")
    for target in sorted({target for target, _ in TALLY}):
        answers = {answer: n for (t, answer), n in TALLY.items() if t == target}
        total = sum(answers.values())
        failed = sum(n for answer, n in answers.items() if str(answer).startswith("5") or answer == "traceback")
        listed = ", ".join(f"{answer}: {n}" for answer, n in sorted(answers.items(), key=lambda item: str(item[0])))
        terminalreporter.write_line(f"{target}: {total} tried, {failed} 5xx or traceback ({listed})")
