"""Imports run one way (docs/architecture.md, "Layers"): down the table below, never up, never in a circle.

Every module under server/ belongs to exactly one layer of :data:`LAYERS` (lowest first). A
module may import modules of its own layer and of the layers below it; an import of a higher
layer, a module in no layer, or a cycle of imports fails the test, and the failure lists every
offending import as ``server/file.py:line: a (layer) imports b (higher layer)``. Imports inside
functions count the same as those at the top of a file.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

# Lowest first. A name stands for that module and, for a package, everything in it.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    (
        "foundations",
        (
            "server.names",
            "server.oneline",
            "server.durations",
            "server.yamlsource",
            "server.redis_urls",
            "server.ops_settings",
            "server.setting_values",
            "server.settings",
            "server.logs",
            "server.metrics",
            "server.devices",
            "server.identity",
            "server.constant_time",
            "server.verified_identity",
            "server.ratelog",
            "server.flusher",
            "server.insights.holdout",
            "server.insights.uplift",
            "server.insights.__init__",
            "server.__init__",
        ),
    ),
    ("readers", ("server.scalars", "server.site_limits")),
    (
        "webhook definitions",
        (
            "server.webhooks.events",
            "server.webhooks.addresses",
            "server.webhooks.signing",
            "server.webhooks.config",
            "server.webhooks.__init__",
        ),
    ),
    ("store", ("server.store",)),
    # The loop that sends a delivery queue's deliveries: the webhook worker and LINE's pushes both run it.
    ("outbox", ("server.outbox",)),
    (
        "model",
        (
            "server.events",
            "server.visitor",
            "server.signals",
            "server.coupons.pools",
            "server.coupons.coupon",
            "server.insights.goals",
            "server.line.channel",
            "server.sites",
            "server.privacy.policy",
            "server.privacy.__init__",
            "server.coupons.__init__",
            "server.line.__init__",
        ),
    ),
    (
        "webhooks",
        (
            "server.webhooks.emit",
            "server.webhooks.send",
            "server.webhooks.worker",
            "server.webhooks.chat_events",
        ),
    ),
    ("chat model", ("server.chat.model", "server.chat.tickets", "server.chat.__init__")),
    # LINE's wire format, signatures, HTTP client and user records: nothing of the chat's logic.
    (
        "line model",
        ("server.line.wire", "server.line.signature", "server.line.api", "server.line.users", "server.line.texts"),
    ),
    (
        "console model",
        (
            "server.console.presence",
            "server.console.assignment",
            "server.console.visitors",
            "server.console.__init__",
        ),
    ),
    (
        "conditions and actions",
        (
            "server.rules.matchers",
            "server.rules.facts",
            "server.rules.conditions",
            "server.rules.sandbox",
            "server.rules.templates",
            "server.rules.actions",
            "server.rules.__init__",
        ),
    ),
    ("rule model", ("server.rules.model",)),
    ("rule engine", ("server.rules.event_index", "server.rules.engine")),
    (
        "faq",
        (
            "server.chat.faq",
            "server.chat.faq_file",
            "server.chat.bot",
            "server.chat.__init__",
            "server.console.replies",
        ),
    ),
    ("rule files", ("server.rules.compile", "server.rules.read", "server.rules.schema")),
    (
        "tracking",
        (
            "server.tracking",
            "server.stats",
            "server.insights.conversions",
            "server.insights.counters",
            "server.coupons.issuer",
            "server.insights.time_on_page",
            "server.insights.traffic",
        ),
    ),
    ("insights", ("server.insights.report",)),
    ("a visit's webhook events", ("server.webhooks.visits",)),
    ("engage", ("server.engage",)),
    ("ingest", ("server.address_limits", "server.ratelimits", "server.ingest")),
    ("chat feeds and records", ("server.chat.feed", "server.chat.records")),
    ("chat", ("server.chat.service", "server.chat.wakeups", "server.chat.proactive")),
    ("line", ("server.line.link", "server.line.push", "server.line.receive")),
    # One visitor's or customer's data, exported and deleted (docs/privacy.md).
    ("privacy", ("server.privacy.data",)),
    (
        "console",
        (
            "server.console.accounts",
            "server.console.sessions",
            "server.console.texts",
            "server.console.profile",
            "server.console.tables",
            "server.console.__init__",
        ),
    ),
    (
        "loading",
        ("server.config", "server.reloader", "server.rule_test_files", "server.rule_tests", "server.rule_preview"),
    ),
    ("web", ("server.web",)),
    ("console web", ("server.console.auth", "server.console.web")),
    ("app", ("server.app",)),
    ("command", ("server.cli", "server.console.cli", "server.privacy.cli", "server.__main__")),
]


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def layer_of(module: str) -> int | None:
    for index, (_, names) in enumerate(LAYERS):
        for name in names:
            if module == name or module.startswith(name + ".") or module == name.removesuffix(".__init__"):
                return index
    return None


def imports_of(path: Path, modules: set[str]) -> list[tuple[int, str]]:
    """(line, module) for every `server.*` import in the file, at any depth, as the modules they load."""
    package = module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else module_name(path.parent / "x")
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                # `from server.rules import conditions` loads the module server.rules.conditions.
                inner = f"{base}.{alias.name}"
                found.append((node.lineno, inner if inner in modules else base))
    return [(line, name) for line, name in found if name == "server" or name.startswith("server.")]


def graph() -> tuple[dict[str, Path], dict[str, list[tuple[int, str]]]]:
    files = {module_name(path): path for path in sorted((ROOT / "server").rglob("*.py"))}
    names = set(files) | {name.removesuffix(".__init__") for name in files}
    edges = {module: imports_of(path, names) for module, path in files.items()}
    return files, edges


def cycles(edges: dict[str, list[tuple[int, str]]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), each a cycle of imports."""
    targets = {m: sorted({t.removesuffix(".__init__") for _, t in e}) for m, e in edges.items()}
    targets = {m.removesuffix(".__init__"): t for m, t in targets.items()}
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in targets.get(module, ()):
            if target not in targets:
                continue
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1 or module in targets.get(module, ()):
                groups.append(sorted(group))

    for module in sorted(targets):
        if module not in index:
            visit(module)
    return groups


def test_every_module_is_in_a_layer():
    files, _ = graph()
    missing = [
        f"{path.relative_to(ROOT)}: {module} is in no layer; add it to LAYERS in tests/test_layers.py"
        for module, path in files.items()
        if layer_of(module) is None
    ]
    assert not missing, "\n" + "\n".join(missing)


def test_no_module_imports_a_higher_layer():
    files, edges = graph()
    upward = []
    for module, found in edges.items():
        mine = layer_of(module)
        for line, target in found:
            theirs = layer_of(target)
            if mine is not None and theirs is not None and theirs > mine:
                upward.append(
                    f"{files[module].relative_to(ROOT)}:{line}: {module} ({LAYERS[mine][0]}) "
                    f"imports {target} ({LAYERS[theirs][0]}, higher)"
                )
    print("\n".join(upward))
    assert not upward, "imports that run back up:\n" + "\n".join(upward)


def test_no_import_cycles():
    _, edges = graph()
    found = cycles(edges)
    assert not found, "import cycles:\n" + "\n".join(" → ".join(group) for group in found)
