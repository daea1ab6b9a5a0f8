"""A site's FAQ and how a visitor's text is matched to its questions, in Japanese and English.

No tokenizer is needed. A text is normalised (:func:`normalise`: NFKC folds full-width letters,
digits and ？ into plain ones, case is folded, punctuation becomes space), then cut into
character n-grams: one- and two-character grams of Japanese runs, whole words and three-letter
grams of Latin ones (so "shiping" still meets "shipping"). Each gram is weighted by how rare it is
among the site's phrasings (IDF): 送料 and 返品 decide, the ですか every question ends with does not.
A question's score is its best phrasing's weighted cosine with the text, from 0 to 1.

Hand-written rather than rapidfuzz: on the demo FAQ's held-out phrasings it answers more of them
correctly (docs/chat.md, "The after-hours bot", has the figures and the command), and rapidfuzz's
scorers know no weights, so a long polite Japanese sentence matches whichever phrasing shares its
filler.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

# When to answer, when to ask back. A score is a weighted cosine from 0 to 1 (tuned on the
# held-out phrasings of the demo FAQ: scripts/faq-accuracy).
ANSWER_AT = 0.3  # the best question scores at least this ...
MARGIN = 0.1  # ... and this much more than the next one: answer it
SURE_AT = 0.7  # at least this: answer it whatever the next one scores
OFFER_AT = 0.15  # below this nothing matched; from here up to three questions are offered
OFFER_WITHIN = 0.2  # offered questions score within this of the best one
MAX_CHOICES = 3

_LATIN_WORD = re.compile(r"[a-z0-9]+")
# English words that say nothing about which question is meant ("is there", "do you"); dropped
# before matching. Japanese needs no such list: its particles are single characters of low weight.
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "is",
        "are",
        "am",
        "be",
        "do",
        "does",
        "did",
        "you",
        "your",
        "i",
        "me",
        "my",
        "we",
        "our",
        "it",
        "its",
        "this",
        "that",
        "there",
        "any",
        "to",
        "of",
        "for",
        "in",
        "on",
        "at",
        "with",
        "and",
        "or",
        "can",
        "could",
        "would",
        "will",
        "please",
        "hi",
        "hello",
        "what",
        "which",
        "who",
        "why",
    ]
)


def normalise(text: str) -> str:
    """Width, case and punctuation folded: 「送料は？」 and "送料は?" both become "送料は"."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    kept = (" " if unicodedata.category(char)[0] in "PSZC" else char for char in folded)
    return " ".join("".join(kept).split())


def grams(text: str) -> Counter[str]:
    """The n-grams of a normalised text: Japanese runs give 1- and 2-grams, Latin words themselves and 3-grams."""
    found: Counter[str] = Counter()
    for run in text.split(" "):
        for piece in re.split(r"([a-z0-9]+)", run):
            if not piece:
                continue
            if _LATIN_WORD.fullmatch(piece):
                if piece in STOP_WORDS:
                    continue
                found["w:" + piece] += 1
                padded = f"_{piece}_"
                found.update(padded[i : i + 3] for i in range(len(padded) - 2))
            else:
                found.update(piece)
                found.update(piece[i : i + 2] for i in range(len(piece) - 1))
    return found


@dataclass(frozen=True)
class Question:
    """One FAQ entry: its phrasings and answer per language (``ja``, ``en``), and its choice label."""

    id: str
    ask: dict[str, tuple[str, ...]]
    answer: dict[str, str]
    label: dict[str, str] = field(default_factory=dict)
    where: str = ""  # file:line:col of the entry

    def answer_in(self, language: str, fallback: str) -> str:
        return self.answer.get(language) or self.answer.get(fallback) or next(iter(self.answer.values()))

    def label_in(self, language: str, fallback: str) -> str:
        """The label of its choice button: `label`, or else its first phrasing, in that language if it has one."""
        for lang in (language, fallback, *self.ask):
            if self.label.get(lang):
                return self.label[lang]
            if self.ask.get(lang):
                return self.ask[lang][0]
        return self.id


@dataclass(frozen=True)
class Verdict:
    """What the text matched: ``answer`` (one question), ``choices`` (up to three), or ``none``."""

    kind: str
    questions: tuple[Question, ...] = ()
    scores: tuple[float, ...] = ()


class Faq:
    """The questions of one site (``rules/<site>/faq.yaml``), indexed for matching."""

    def __init__(self, questions: list[Question], popular: list[str] | None = None, file: str = ""):
        self.questions = tuple(questions)
        self.by_id = {question.id: question for question in questions}
        self.file = file
        chosen = popular if popular else [question.id for question in questions[:MAX_CHOICES]]
        self.popular = tuple(self.by_id[key] for key in chosen if key in self.by_id)
        texts = [
            (question, normalise(text))
            for question in questions
            for text in (*(t for ts in question.ask.values() for t in ts), *question.label.values())
        ]
        phrasings = [(question, grams(text)) for question, text in texts if text]
        seen: Counter[str] = Counter()
        for _, counts in phrasings:
            seen.update(counts.keys())
        total = len(phrasings) or 1
        self._idf = {gram: math.log((1 + total) / (1 + count)) + 1 for gram, count in seen.items()}
        # A gram no phrasing has: weighted as the rarest seen, so text about something else lowers the score.
        self._unseen = math.log(1 + total) + 1
        self._index = [(question, self._vector(counts)) for question, counts in phrasings]

    def _vector(self, counts: Counter[str]) -> tuple[dict[str, float], float]:
        weights = {gram: (1 + math.log(n)) * self._idf.get(gram, self._unseen) for gram, n in counts.items()}
        return weights, math.sqrt(sum(w * w for w in weights.values()))

    def rank(self, text: str) -> list[tuple[Question, float]]:
        """Every question that shares anything with `text`, best first, with its score."""
        weights, norm = self._vector(grams(normalise(text)))
        if not norm:
            return []
        best: dict[str, float] = {}
        for question, (other, other_norm) in self._index:
            shared = sum(weight * other[gram] for gram, weight in weights.items() if gram in other)
            if shared:
                score = shared / (norm * other_norm)
                best[question.id] = max(best.get(question.id, 0.0), score)
        order = {question.id: n for n, question in enumerate(self.questions)}
        ranked = sorted(best.items(), key=lambda item: (-item[1], order[item[0]]))
        return [(self.by_id[key], score) for key, score in ranked]

    def match(self, text: str) -> Verdict:
        ranked = self.rank(text)
        if not ranked or ranked[0][1] < OFFER_AT:
            return Verdict("none")
        top = ranked[0][1]
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        if top >= SURE_AT or (top >= ANSWER_AT and top - runner_up >= MARGIN):
            return Verdict("answer", (ranked[0][0],), (top,))
        offered = [(q, s) for q, s in ranked[:MAX_CHOICES] if s >= OFFER_AT and s >= top - OFFER_WITHIN]
        return Verdict("choices", tuple(q for q, _ in offered), tuple(s for _, s in offered))
