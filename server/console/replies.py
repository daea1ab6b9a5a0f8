"""Canned replies: ``rules/<site>/replies.yaml`` read into :class:`Reply` records, every mistake reported.

An operator types ``/`` and a code in the console's reply box and the reply's text, in the
conversation's language, is put in. The file is written by people who run the shop, so like
faq.yaml it is parsed with positions kept, unknown keys are rejected with a suggestion, and all
mistakes come back at once as ``path:line:col: reply "code": message``. A site without the file
has no canned replies (an empty tuple).
"""

from __future__ import annotations

import re
from pathlib import Path

import msgspec

from server.sites import LANGUAGES, Site
from server.yamlsource import Node, Problems, check_keys, parse_file, suggest, type_name

REPLIES_FILE = "replies.yaml"
FILE_KEYS = ("replies",)
REPLY_KEYS = ("code", "text")
CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")  # typed after "/": short, lower case, no spaces
MAX_TEXT = 2000  # as a chat message (server/chat/service.py)
MAX_REPLIES = 200


class Reply(msgspec.Struct, frozen=True):
    code: str
    text: dict[str, str]  # language -> text; always has the site's language


def load_replies(folder: Path, site: Site, problems: Problems) -> tuple[Reply, ...]:
    """The canned replies in `folder`/replies.yaml; () when there is no such file or it has any mistake."""
    path = folder / REPLIES_FILE
    if not path.is_file():
        return ()
    before = len(problems)
    root = parse_file(path, problems)
    if root is None or root.value is None:
        return ()
    if not root.is_mapping() or "replies" not in root.value:
        problems.add(root, "replies.yaml holds 'replies:', a list such as - {code: hello, text: {ja: …, en: …}}")
        return ()
    check_keys(root, FILE_KEYS, problems)
    items = root.value["replies"]
    if not items.is_list() or not items.value:
        problems.add(items, "'replies' must be a list of replies, each with code and text")
        return ()
    if len(items.value) > MAX_REPLIES:
        problems.add(items, f"{len(items.value)} replies; the limit is {MAX_REPLIES}")
        return ()
    codes: dict[str, str] = {}  # code -> where it was first defined
    replies = [reply for item in items.value if (reply := _reply(item, site, codes, problems)) is not None]
    return () if len(problems) > before else tuple(replies)


def _reply(node: Node, site: Site, codes: dict[str, str], problems: Problems) -> Reply | None:
    if not node.is_mapping():
        problems.add(node, f"each reply is a mapping with code and text, not {type_name(node.value)}")
        return None
    before = len(problems)
    entries = node.value
    code = _code(entries.get("code"), node, codes, problems)
    prefix = f'reply "{code}": ' if code else ""
    for key in entries:
        if key not in REPLY_KEYS:
            problems.add(entries[key], f"{prefix}unknown key '{key}'{suggest(key, REPLY_KEYS)}")
    text: dict[str, str] = {}
    if "text" not in entries:
        problems.add(node, f"{prefix}a reply needs 'text', under each language, e.g. text: {{ja: …, en: …}}")
    elif not entries["text"].is_mapping() or not entries["text"].value:
        problems.add(entries["text"], f"{prefix}'text' takes a mapping of languages, e.g. text: {{ja: …, en: …}}")
    else:
        for language, child in entries["text"].value.items():
            if language not in LANGUAGES:
                problems.add(
                    child, f"{prefix}unknown language '{language}'{suggest(language, LANGUAGES)}; use ja or en"
                )
            elif not isinstance(child.value, str) or not child.value.strip():
                shown = type_name(child.value) if child.value not in ("", None) else "empty"
                problems.add(child, f"{prefix}text must be text, not {shown}")
            elif len(child.value) > MAX_TEXT:
                problems.add(child, f"{prefix}text is {len(child.value)} characters long; the limit is {MAX_TEXT}")
            else:
                text[language] = child.value.strip()
        if len(problems) == before and site.language not in text:
            problems.add(
                entries["text"],
                f"{prefix}the text needs the site's language, '{site.language}': it is the one used "
                "when a conversation's language has none",
            )
    if len(problems) > before or code is None:
        return None
    return Reply(code, text)


def _code(node: Node | None, reply: Node, codes: dict[str, str], problems: Problems) -> str | None:
    if node is None:
        problems.add(reply, "a reply needs a 'code', typed after '/' in the reply box, e.g. code: hello")
        return None
    value = node.value
    if not isinstance(value, str) or not CODE.match(value):
        problems.add(
            node, "code must be 1 to 32 lower-case letters, digits, '-' or '_', starting with a letter or digit"
        )
        return None
    if value in codes:
        problems.add(node, f"duplicate reply code '{value}' (first defined at {codes[value]})")
        return None
    codes[value] = node.where
    return value
