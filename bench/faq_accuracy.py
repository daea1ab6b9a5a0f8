"""How many held-out phrasings the demo's FAQ bot answers correctly.

    .venv/bin/python -m bench.faq_accuracy                    the bot's verdicts (docs/chat.md quotes them)
    .venv/bin/python -m bench.faq_accuracy --scorer rapidfuzz  also rank with rapidfuzz, to compare

bench/faq_heldout.tsv holds phrasings written apart from rules/demo/faq.yaml and its tests. A
phrasing counts as correct when the bot answers it with the expected question (or, for `none`,
does not answer); one that gets the right question among its choices counts as offered.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from server.chat.bot import FaqBot
from server.chat.faq import normalise
from server.config import load_config

ROOT = Path(__file__).resolve().parent.parent
HELD_OUT = ROOT / "bench" / "faq_heldout.tsv"


@dataclass
class Tally:
    total: int = 0
    correct: int = 0
    offered: int = 0  # the right question among the choices
    wrong: list[str] | None = None


def held_out(path: Path = HELD_OUT) -> list[tuple[str, str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            expected, language, text = line.split("\t")
            rows.append((expected, language, text))
    return rows


def measure(bot: FaqBot, rows: list[tuple[str, str, str]]) -> Tally:
    tally = Tally(wrong=[])
    for expected, _language, text in rows:
        verdict = bot.decide(text)
        ids = [question.id for question in verdict.questions]
        tally.total += 1
        if (verdict.kind == "answer" and ids == [expected]) or (expected == "none" and verdict.kind == "none"):
            tally.correct += 1
        elif verdict.kind == "choices" and expected in ids:
            tally.offered += 1
        else:
            tally.wrong.append(f"{text!r}: expected {expected}, got {verdict.kind} {ids}")
    return tally


def top_one(rank, rows) -> tuple[int, int]:
    """(right, total): how often the best-ranked question is the expected one (questions only)."""
    scored = [(expected, text) for expected, _, text in rows if expected != "none"]
    right = sum(1 for expected, text in scored if (ranked := rank(text)) and ranked[0] == expected)
    return right, len(scored)


def rapidfuzz_rank(faq):
    from rapidfuzz import fuzz

    phrasings = [
        (question.id, normalise(text))
        for question in faq.questions
        for text in (*(t for ts in question.ask.values() for t in ts), *question.label.values())
    ]

    def rank(text: str) -> list[str]:
        folded = normalise(text)
        best: dict[str, float] = {}
        for key, phrasing in phrasings:
            best[key] = max(best.get(key, 0.0), fuzz.WRatio(folded, phrasing))
        return sorted(best, key=lambda key: -best[key])

    return rank


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scorer", choices=("rapidfuzz",), help="also rank with this scorer, to compare")
    parser.add_argument("--rules", default=str(ROOT / "rules"))
    args = parser.parse_args()
    config, problems = load_config(args.rules)
    if config is None:
        raise SystemExit("\n".join(problems.lines()))
    bot = FaqBot(config.sites["demo"], config.faqs["demo"])
    rows = held_out()
    tally = measure(bot, rows)
    for line in tally.wrong:
        print(f"  missed {line}")
    print(
        f"answered correctly: {tally.correct}/{tally.total} ({tally.correct / tally.total:.0%}); "
        f"right question offered among choices: {tally.offered}; wrong or missed: {len(tally.wrong)}"
    )
    right, total = top_one(lambda text: [q.id for q, _ in bot.faq.rank(text)], rows)
    print(f"best-ranked question right (n-grams, IDF): {right}/{total} ({right / total:.0%})")
    if args.scorer == "rapidfuzz":
        right, total = top_one(rapidfuzz_rank(bot.faq), rows)
        print(f"best-ranked question right (rapidfuzz WRatio): {right}/{total} ({right / total:.0%})")


if __name__ == "__main__":
    main()
