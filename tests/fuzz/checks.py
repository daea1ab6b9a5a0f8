"""What every answer to a generated input must be, whatever the endpoint."""

from __future__ import annotations

import json
from collections import Counter

TALLY: Counter = Counter()  # (what was fuzzed, answer) -> how many generated inputs got it


def check_answer(response, target: str, context: str) -> dict | None:
    """Never a 5xx; a 4xx is one line of JSON, ``{"error": "<one line>"}``. Returns the 4xx's JSON.

    `target` names what was fuzzed in the tally (tests/fuzz/conftest.py)."""
    status = response.status_code
    TALLY[target, status] += 1
    assert status < 500, f"{context}: {status} {response.text[:500]}"
    if status < 400:
        return None
    body = response.content
    assert b"\n" not in body and b"\r" not in body, f"{context}: {status} body over several lines: {body[:300]!r}"
    answer = json.loads(body)
    assert isinstance(answer, dict), f"{context}: {status} {body[:300]!r}"
    error = answer.get("error")
    assert isinstance(error, str) and error.strip(), f"{context}: {status} without an error: {body[:300]!r}"
    assert not any(c in error for c in "\n\r\u2028\u2029\x85"), f"{context}: error over several lines: {error!r}"
    assert "Traceback" not in error, f"{context}: {error[:300]}"
    return answer
