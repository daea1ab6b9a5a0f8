"""The after-hours bot: answers a visitor from the site's FAQ and tells when a person will answer.

Pure: no HTTP, no store. The conversation service calls :meth:`FaqBot.reply` for each visitor
message of a conversation in ``bot`` status, and :meth:`FaqBot.handoff_note` when the visitor
chooses ``handoff``. Every reply offers that choice, 「スタッフに相談する」 / "Talk to a person".
The hand-off note's days and times come from the site's business hours, in the site's timezone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from server.chat import model
from server.chat.faq import Faq, Verdict, normalise
from server.sites import LANGUAGES, Site

HANDOFF = "handoff"  # the choice id that hands the conversation to a person

WORDS = {
    "ja": {
        "handoff": "スタッフに相談する",
        "unsure": "こちらのご質問でしょうか？",
        "none": "すみません、うまく理解できませんでした。よくあるご質問から選ぶか、スタッフにご相談ください。",
        "none_empty": "すみません、ここではお答えできません。スタッフにご相談ください。",
        "offer_handoff": "スタッフにおつなぎしますか？",
        "weekday": ("月曜日", "火曜日", "水曜日", "木曜日", "金曜日", "土曜日", "日曜日"),
        "today": "本日 {time}",
        "tomorrow": "明日 {time}",
        "on": "{day} {time}",
        "next_week": "来週の{day} {time}",
        "reply_from": "担当者は {when} から順にお返事します（{hours}）。",
        "shortly": "担当者がまもなくお返事します（{hours}）。",
        "no_hours": "担当者が確認しだいお返事します。",
    },
    "en": {
        "handoff": "Talk to a person",
        "unsure": "Did you mean one of these?",
        "none": "Sorry, I did not understand. Pick a common question, or talk to a person.",
        "none_empty": "Sorry, I cannot answer that here. Please talk to a person.",
        "offer_handoff": "Shall I pass you to a person?",
        "weekday": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        "today": "today from {time}",
        "tomorrow": "tomorrow from {time}",
        "on": "from {day} {time}",
        "next_week": "from next {day} {time}",
        "reply_from": "A person will reply {when} ({hours}).",
        "shortly": "A person will reply shortly ({hours}).",
        "no_hours": "A person will reply as soon as they can.",
    },
}

# A visitor who asks for a person is offered the hand-off choice, whatever the FAQ holds.
# Normalised texts that contain one of these.
ASKS_FOR_PERSON = (
    "スタッフ",
    "担当者",
    "オペレーター",
    "オペレータ",
    "人と話",
    "人間",
    "有人",
    "talk to a person",
    "talk to someone",
    "speak to someone",
    "a human",
    "real person",
    "operator",
    "agent",
    "staff",
)


@dataclass(frozen=True)
class BotReply:
    """One bot message: its text and the choices under it, (id, label), a FAQ id or ``handoff``."""

    text: str
    choices: tuple[tuple[str, str], ...] = ()


def language_of(tag: str, site: Site) -> str:
    """``ja`` or ``en`` from a language tag such as ``en-US``; the site's language for any other."""
    primary = (tag or "").split("-")[0].lower()
    return primary if primary in LANGUAGES else site.language


class FaqBot:
    """The bot of one site: its FAQ (None when the site has no faq.yaml) and its hours."""

    def __init__(self, site: Site, faq: Faq | None):
        self.site, self.faq = site, faq

    def decide(self, text: str) -> Verdict:
        """What the bot makes of `text`: an ``answer``, ``choices``, ``none``, or ``handoff`` (a person asked for)."""
        folded = normalise(text)
        if _asks_for_person(folded):
            return Verdict(HANDOFF)
        return self.faq.match(text) if self.faq is not None else Verdict("none")

    def reply(self, conversation: Any, text: str, language: str, now: float) -> list[BotReply]:
        """The bot's answer to a visitor's message in `language` (the conversation's)."""
        lang = language_of(language, self.site)
        words = WORDS[lang]
        handoff = (HANDOFF, words["handoff"])
        verdict = self.decide(text)
        if verdict.kind == HANDOFF:
            return [BotReply(words["offer_handoff"], (handoff,))]
        if verdict.kind == "answer":
            return [BotReply(verdict.questions[0].answer_in(lang, self.site.language), (handoff,))]
        if verdict.kind == "choices":
            return [BotReply(words["unsure"], (*self._choices(verdict.questions, lang), handoff))]
        popular = self.faq.popular if self.faq is not None else ()
        return [BotReply(words["none"] if popular else words["none_empty"], (*self._choices(popular, lang), handoff))]

    def _choices(self, questions, language: str) -> tuple[tuple[str, str], ...]:
        return tuple((q.id, q.label_in(language, self.site.language)) for q in questions)

    def handoff_note(self, site: Site, language: str, now: float) -> str:
        """When a person will answer: the next opening of the site's business hours, in its timezone."""
        words = WORDS[language_of(language, site)]
        hours = site.business_hours
        if hours is None:
            return words["no_hours"]
        described = hours.describe(language_of(language, site))
        local = datetime.fromtimestamp(now, site.timezone)
        if hours.contains(local.weekday(), local.hour * 60 + local.minute):
            return words["shortly"].format(hours=described)
        opening = next_opening(site, now)
        if opening is None:
            return words["no_hours"]
        days = (opening.date() - local.date()).days
        time = f"{hours.start // 60}:{hours.start % 60:02d}"
        day = words["weekday"][opening.weekday()]
        when = (
            words["today"]
            if days == 0
            else words["tomorrow"]
            if days == 1
            else words["next_week"]
            if days >= 7
            else words["on"]
        )
        return words["reply_from"].format(when=when.format(day=day, time=time), hours=described)


def next_opening(site: Site, now: float) -> datetime | None:
    """The first start of business hours after `now`, in the site's timezone (hours must be set)."""
    hours = site.business_hours
    local = datetime.fromtimestamp(now, site.timezone)
    for ahead in range(8):
        day = local.date() + timedelta(days=ahead)
        if day.weekday() not in hours.days:
            continue
        opening = datetime(day.year, day.month, day.day, tzinfo=site.timezone) + timedelta(minutes=hours.start)
        if opening.timestamp() > now:
            return opening
    return None  # hours on no day at all (`days: []`)


def _asks_for_person(folded: str) -> bool:
    """Japanese phrases anywhere in the text; English ones as whole words ("agent", not "management")."""
    if folded in (normalise(words["handoff"]) for words in WORDS.values()):
        return True
    padded = f" {folded} "
    return any((f" {phrase} " if phrase.isascii() else phrase) in padded for phrase in ASKS_FOR_PERSON)


class SiteBots:
    """The bot the conversation service talks to (:class:`server.chat.model.Bot`): each site's
    :class:`FaqBot`, built from the rules in force, so an edit of faq.yaml takes effect with
    the next reload like any rule file."""

    def __init__(self, faqs: Callable[[], Mapping[str, Faq]]):
        self._faqs = faqs  # the live configuration's FAQs, by site
        self._bots: dict[str, tuple[Site, Faq | None, FaqBot]] = {}

    def _bot(self, site: Site) -> FaqBot:
        faq = self._faqs().get(site.key)
        known = self._bots.get(site.key)
        if known is None or known[0] is not site or known[1] is not faq:
            known = self._bots[site.key] = (site, faq, FaqBot(site, faq))
        return known[2]

    def reply(
        self, site: Site, conversation: Any, text: str, language: str, now: float, choice: str = ""
    ) -> list[model.BotReply]:
        # A tapped choice arrives as its label, which the FAQ knows as a phrasing of its question.
        return [
            model.BotReply(text=reply.text, choices=[model.Choice(id, label) for id, label in reply.choices])
            for reply in self._bot(site).reply(conversation, text, language, now)
        ]

    def handoff_note(self, site: Site, language: str, now: float) -> str:
        return self._bot(site).handoff_note(site, language, now)
