"""Coupon pools as declared under ``coupons:`` in site.yaml.

Three kinds (:data:`POOL_KINDS`), one vocabulary from site.yaml to the store's Lua: "shared",
one code for everyone (``code: SPRING10``); "list", unique codes from a file
(``codes_file: spring10.txt``, one per line, next to site.yaml); "generated", unique codes
made on demand (``generate: {prefix: IRS-, length: 8}``). Any pool may add
``expires_after`` and ``discount`` text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from server.scalars import read_duration, read_integer
from server.yamlsource import Node, Problems, check_keys, type_name, written

POOL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,63}$")
# Each kind of pool, and the site.yaml key that declares it.
POOL_KINDS = {"shared": "code", "list": "codes_file", "generated": "generate"}
_KEYS = tuple(POOL_KINDS.values()) + ("expires_after", "discount")


@dataclass(frozen=True)
class CouponPool:
    name: str
    kind: str  # one of POOL_KINDS: "shared", "list" or "generated"
    code: str = ""
    codes: tuple[str, ...] = ()
    prefix: str = ""
    length: int = 8
    expires_after: int = 0  # seconds; 0 means the code does not expire
    discount: str = ""


def parse_pools(node: Node, folder: Path, problems: Problems) -> dict[str, CouponPool]:
    if not node.is_mapping():
        problems.add(node, f"'coupons' must map pool names to pools, not {type_name(node.value)}")
        return {}
    pools = {}
    for name, spec in node.value.items():
        if not POOL_NAME.match(name):
            problems.add(spec, f"coupon pool name '{name}' must be letters, digits, '-' or '_'")
            continue
        pool = _pool(name, spec, folder, problems)
        if pool is not None:
            pools[name] = pool
    return pools


def _pool(name: str, spec: Node, folder: Path, problems: Problems) -> CouponPool | None:
    if not spec.is_mapping():
        problems.add(spec, f"coupon pool '{name}' must be a mapping with one of code, codes_file or generate")
        return None
    check_keys(spec, _KEYS, problems, what="coupon pool key")
    declared = [key for key in POOL_KINDS.values() if key in spec.value]
    if len(declared) != 1:
        problems.add(
            spec,
            f"coupon pool '{name}' needs exactly one of code, codes_file or generate"
            + (f" (it has {', '.join(declared)})" if declared else ""),
        )
        return None
    extra = {}
    expires_after = read_duration(spec.value.get("expires_after"), problems.add)
    if expires_after is not None:
        extra["expires_after"] = expires_after
    if "discount" in spec.value:
        discount = spec.value["discount"]
        if not isinstance(discount.value, (str, int)) or isinstance(discount.value, bool):
            problems.add(discount, f"'discount' must be text such as '10%オフ', not {type_name(discount.value)}")
        else:
            extra["discount"] = str(discount.value)
    key = declared[0]
    value = spec.value[key]
    if key == "code":
        if not isinstance(value.value, str) or not CODE.match(value.value):
            problems.add(value, f"code '{written(value)}' must be 3 to 64 letters, digits, '-' or '_'")
            return None
        return CouponPool(name, "shared", code=value.value, **extra)
    if key == "codes_file":
        codes = _read_codes(value, folder, problems)
        return None if codes is None else CouponPool(name, "list", codes=codes, **extra)
    return _generated(name, value, problems, extra)


def _read_codes(node: Node, folder: Path, problems: Problems) -> tuple[str, ...] | None:
    if not isinstance(node.value, str) or "/" in node.value or node.value.startswith("."):
        problems.add(node, f"codes_file '{written(node)}' must be a file name in the site's folder")
        return None
    path = folder / node.value
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()  # Excel and Notepad add a BOM
    except OSError:
        problems.add(node, f"codes_file '{node.value}' not found in {folder}")
        return None
    codes, seen = [], set()
    for number, line in enumerate(lines, start=1):
        code = line.strip()
        if not code or code.startswith("#"):
            continue
        if not CODE.match(code):
            problems.add_at(f"{path}:{number}:1", f"code '{code}' must be 3 to 64 letters, digits, '-' or '_'")
        elif code in seen:
            problems.add_at(f"{path}:{number}:1", f"code '{code}' is listed twice")
        else:
            seen.add(code)
            codes.append(code)
    if not codes:
        problems.add(node, f"codes_file '{node.value}' holds no codes")
        return None
    return tuple(codes)


def _generated(name: str, node: Node, problems: Problems, extra: dict) -> CouponPool | None:
    if not node.is_mapping():
        problems.add(node, "generate must be a mapping such as {prefix: IRS-, length: 8}")
        return None
    check_keys(node, ("prefix", "length"), problems, what="generate key")
    prefix = node.value.get("prefix")
    length = node.value.get("length")
    prefix_text = "" if prefix is None else prefix.value
    ok = True
    if not isinstance(prefix_text, str) or not re.match(r"^[A-Za-z0-9_-]{0,16}$", prefix_text):
        problems.add(prefix, "prefix must be up to 16 letters, digits, '-' or '_'")
        ok = False
    size = 8 if length is None else read_integer(length, problems.add, "length", minimum=6, maximum=32)
    if not ok or size is None:
        return None
    return CouponPool(name, "generated", prefix=prefix_text, length=size, **extra)
