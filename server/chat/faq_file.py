"""``rules/<site>/faq.yaml`` read into a :class:`~server.chat.faq.Faq`, every mistake reported.

The file is written by marketers, so like every rule file it is parsed with positions kept,
unknown keys are rejected with a suggestion, and all mistakes come back at once as
``path:line:col: question "id": message``. A site without the file has no FAQ (None).
"""

from __future__ import annotations

import re
from pathlib import Path

from server.chat.faq import MAX_CHOICES, Faq, Question, normalise
from server.sites import LANGUAGES, Site
from server.yamlsource import Node, Problems, check_keys, parse_file, suggest, type_name, written

FAQ_FILE = "faq.yaml"
FILE_KEYS = ("faq", "popular")
QUESTION_KEYS = ("id", "label", "ask", "answer")
QUESTION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
RESERVED_IDS = ("handoff",)  # the choice that hands the conversation to a person
MAX_ANSWER = 2000  # as a chat message
MAX_PHRASING = 200
MAX_LABEL = 40  # a choice button's text


def load_faq(folder: Path, site: Site, problems: Problems) -> Faq | None:
    """The FAQ in `folder`/faq.yaml; None when there is no such file or it has any mistake."""
    path = folder / FAQ_FILE
    if not path.is_file():
        return None
    before = len(problems)
    root = parse_file(path, problems)
    if root is None or root.value is None:
        return None
    if not root.is_mapping() or "faq" not in root.value:
        problems.add(root, "faq.yaml holds 'faq:', a list of questions, e.g. - {id: shipping, ask: …, answer: …}")
        return None
    check_keys(root, FILE_KEYS, problems)
    reader = _Reader(problems, site)
    items = root.value["faq"]
    if not items.is_list() or not items.value:
        problems.add(items, "'faq' must be a list of questions, each with id, ask and answer")
        return None
    questions = [question for item in items.value if (question := reader.question(item)) is not None]
    popular = reader.popular(root.value.get("popular"))
    if len(problems) > before:
        return None
    return Faq(questions, popular, file=str(path))


class _Reader:
    def __init__(self, problems: Problems, site: Site):
        self.problems, self.site = problems, site
        self.ids: dict[str, str] = {}  # question id -> where it was defined
        self.phrasings: dict[str, tuple[str, str]] = {}  # normalised phrasing -> (question id, where)
        self.label: str | None = None  # of the question being read: it prefixes every message

    def error(self, node: Node, message: str) -> None:
        self.problems.add(node, f'question "{self.label}": {message}' if self.label else message)

    def question(self, node: Node) -> Question | None:
        self.label = None
        if not node.is_mapping():
            self.error(node, f"each question is a mapping with id, ask and answer, not {type_name(node.value)}")
            return None
        before = len(self.problems)
        entries = node.value
        key = self.id(entries.get("id"), node)
        self.label = key
        check_keys(node, QUESTION_KEYS, self.problems)
        if "ask" not in entries:
            self.error(node, "a question needs 'ask': the ways visitors ask it, a list under each language (ja:, en:)")
        if "answer" not in entries:
            self.error(node, "a question needs 'answer': its answer under each language (ja:, en:)")
        ask = self.phrasings_of(entries["ask"], key) if "ask" in entries else {}
        answer = self.texts(entries["answer"], "answer", MAX_ANSWER) if "answer" in entries else {}
        label = self.texts(entries["label"], "label", MAX_LABEL) if "label" in entries else {}
        if "answer" in entries and answer and self.site.language not in answer:
            self.error(
                entries["answer"],
                f"the answer needs the site's language, '{self.site.language}': it is the one given "
                "when a visitor's language has none",
            )
        if len(self.problems) > before or key is None:
            return None
        return Question(key, ask, answer, label, node.where)

    def id(self, node: Node | None, question: Node) -> str | None:
        if node is None:
            self.error(question, "a question needs an 'id', e.g. id: shipping")
            return None
        value = node.value
        if not isinstance(value, str) or not QUESTION_ID.match(value):
            self.error(node, "id must be 1 to 64 letters, digits, '-' or '_', starting with a letter or digit")
            return None
        if value in RESERVED_IDS:
            self.error(node, f"'{value}' is the choice that hands the chat to a person; give the question another id")
            return None
        if value in self.ids:
            self.error(node, f"duplicate question id '{value}' (first defined at {self.ids[value]})")
            return None
        self.ids[value] = node.where
        return value

    def languages(self, node: Node, what: str) -> bool:
        if not node.is_mapping() or not node.value:
            self.error(node, f"'{what}' takes a mapping of languages, e.g. {what}: {{ja: …, en: …}}")
            return False
        for language, child in node.value.items():
            if language not in LANGUAGES:
                self.error(
                    child, f"unknown language '{language}'{suggest(language, LANGUAGES)}; use {' or '.join(LANGUAGES)}"
                )
        return True

    def texts(self, node: Node, what: str, limit: int) -> dict[str, str]:
        if not self.languages(node, what):
            return {}
        found = {}
        for language, child in node.value.items():
            if self.text(child, what, limit) and language in LANGUAGES:
                found[language] = child.value.strip()
        return found

    def text(self, node: Node, what: str, limit: int) -> bool:
        if not isinstance(node.value, str) or not node.value.strip():
            self.error(node, f"{what} must be text, not {type_name(node.value) if node.value != '' else 'empty'}")
            return False
        if len(node.value) > limit:
            self.error(node, f"{what} is {len(node.value)} characters long; the limit is {limit}")
            return False
        return True

    def phrasings_of(self, node: Node, key: str | None) -> dict[str, tuple[str, ...]]:
        if not self.languages(node, "ask"):
            return {}
        found: dict[str, tuple[str, ...]] = {}
        for language, child in node.value.items():
            items = child.value if child.is_list() else [child]
            if not items:
                self.error(child, f"no phrasings in '{language}': list at least one, or leave the language out")
            kept = []
            for item in items:
                if not self.text(item, "a phrasing", MAX_PHRASING):
                    continue
                folded = normalise(item.value)
                if not folded:
                    self.error(item, f"'{item.value}' is only punctuation; write the question's words")
                    continue
                first = self.phrasings.get(folded)
                if first is not None and first[0] != key:
                    self.error(
                        item,
                        f"'{item.value}' is also a phrasing of question \"{first[0]}\" ({first[1]}); "
                        "the bot could not tell them apart, keep it in one",
                    )
                    continue
                self.phrasings.setdefault(folded, (key or "", item.where))
                kept.append(item.value.strip())
            if language in LANGUAGES and kept:
                found[language] = tuple(kept)
        return found

    def popular(self, node: Node | None) -> list[str]:
        """`popular: [ids]`, offered when the bot did not understand; by default the first three."""
        self.label = None
        if node is None:
            return []
        items = node.value if node.is_list() else [node]
        if not items or len(items) > MAX_CHOICES:
            self.error(node, f"'popular' lists 1 to {MAX_CHOICES} question ids")
            return []
        for item in items:
            if not isinstance(item.value, str) or item.value not in self.ids:  # a list is no id (nor hashable)
                self.error(item, f"unknown question id '{written(item)}'{suggest(written(item), self.ids)}")
        return [item.value for item in items]
