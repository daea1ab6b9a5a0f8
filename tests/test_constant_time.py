"""Every secret is compared in constant time (server/constant_time.py; docs/reliability.md, "Abuse").

:func:`same_secret` tells equal from unequal, for text and bytes, and a guess of another length
or with any characters is simply wrong. Nothing under server/ calls hmac.compare_digest but it,
and no ``==``, ``!=``, ``in`` or ``not in`` in server/ has an operand whose name says it holds a
secret (secret, token, signature, password, csrf, nonce, digest, hash, proof, key material):
such a comparison would stop at the first wrong byte and tell a guesser how far they got. The
failure lists each one as ``server/file.py:line: the comparison``.
"""

from __future__ import annotations

import ast
import re

from server.constant_time import same_secret
from tests.conftest import ROOT

SECRETISH = re.compile(r"secret|token|signature|passw|csrf|nonce|digest|(^|_)hash($|_)|proof|hmac", re.I)
# Comparisons of values that only look like secrets by name; each says why it is not one.
NOT_SECRETS: dict[str, tuple[str, ...]] = {}


def test_same_secret_tells_equal_from_unequal():
    assert same_secret("s3cret-value", "s3cret-value") and same_secret(b"\x00\xff", b"\x00\xff")
    assert not same_secret("s3cret-value", "s3cret-valuf") and not same_secret("short", "s3cret-value")
    assert not same_secret("秘密", "secret") and same_secret("秘密", "秘密".encode())


RESHAPING = {"encode", "decode", "strip", "lstrip", "rstrip", "lower", "upper", "casefold"}


def name_of(node: ast.AST) -> str:
    """What an operand is called: `hash.strip().lower().encode()` is "hash", `session.csrf` is
    "csrf", `getpass.getpass("Again: ")` is "getpass", `secrets[site]` is "secrets"."""
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in RESHAPING:
        node = node.func.value
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Subscript):
        node = node.value
    if isinstance(node, ast.Name):
        return node.id
    return node.attr if isinstance(node, ast.Attribute) else ""


def comparisons_of_secrets() -> list[str]:
    found = []
    for path in sorted((ROOT / "server").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        source = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source)):
            if (
                isinstance(node, ast.Attribute)
                and node.attr == "compare_digest"
                and relative != "server/constant_time.py"
            ):
                found.append(f"{relative}:{node.lineno}: hmac.compare_digest outside server/constant_time.py")
            if not isinstance(node, ast.Compare):
                continue
            if not any(isinstance(op, (ast.Eq, ast.NotEq, ast.In, ast.NotIn)) for op in node.ops):
                continue
            operands = [node.left, *node.comparators]
            if any(isinstance(operand, ast.Constant) and operand.value is None for operand in operands):
                continue  # "is there one at all" reveals nothing about its value
            if isinstance(node.ops[0], (ast.In, ast.NotIn)):
                operands = [node.left]  # `site in secrets` looks up a site key, not the secret
            if any(SECRETISH.search(name_of(operand)) for operand in operands):
                text = ast.get_source_segment(source, node) or ""
                if text not in NOT_SECRETS.get(relative, ()):
                    found.append(f"{relative}:{node.lineno}: {text}")
    return found


def test_no_secret_is_compared_but_in_constant_time():
    assert comparisons_of_secrets() == []
