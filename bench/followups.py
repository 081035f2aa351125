"""Follow-up questions without a model: does the second turn of a conversation get its own answer?

A conversation's first question names its subject ("... in httpx"); the follow-up refers back to it
("and what timeout does it use ...?", "what about proxies?"). Each turn is asked as `citebot chat` asks
it (the earlier turns as history, no LLM), against the dev set's index, and scored as `citebot eval`
scores (a gold string in the answer given):

    .venv/bin/python bench/followups.py                   # indexes at /tmp/idx-<set> (bench/loco.py collect)
    .venv/bin/python bench/followups.py --show            # each follow-up's query and answer

It prints the accuracy of first turns and of follow-ups, how many follow-ups were declined, and how
many follow-up answers repeat a sentence the previous answer quoted (an answer padded with the earlier
one). The conversations (bench/devsets/conversations/conversations.jsonl) were written from the dev
sets' own questions and gold answers: each follow-up is a dev question reworded to lean on the turn
before it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent
CONVERSATIONS = ROOT / "bench" / "devsets" / "conversations" / "conversations.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", type=Path, default=CONVERSATIONS)
    parser.add_argument("--index", default="/tmp/idx-{set}", help="index folder per set ({set} is replaced)")
    parser.add_argument("--show", action="store_true", help="print each follow-up's query and answer")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    for key in [k for k in os.environ if k.startswith("CITEBOT_LLM")]:
        del os.environ[key]  # the rule-based condenser and the extractive answer are what is measured

    from bot.evaluation.metrics import contains_answer
    from bot.schema import Turn
    from bot.services import Services
    from bot.settings import load_settings

    conversations = [json.loads(line) for line in args.file.read_text().splitlines() if line.strip()]
    services: dict[str, Services] = {}
    first = follow = follow_right = first_right = declined = repeats = 0
    for conv in conversations:
        name = conv["set"]
        if name not in services:
            services[name] = Services(load_settings(index_dir=Path(args.index.format(set=name))))
        history: list[Turn] = []
        previous_quotes: list[str] = []
        for i, turn in enumerate(conv["turns"]):
            result = services[name].ask(turn["question"], history)
            right = not result.abstained and contains_answer(turn["answers"], result.text)
            quotes = [c.quote for c in result.citations]
            if i == 0:
                first += 1
                first_right += right
            else:
                follow += 1
                follow_right += right
                declined += result.abstained
                repeated = any(q and q in result.text for q in previous_quotes)
                repeats += repeated
                if args.show:
                    mark = "ok " if right else "MISS"
                    print(f"{mark} {conv['id']}: {turn['question']}")
                    print(f"     query: {result.query}")
                    print(f"     answer{' (repeats the previous one)' if repeated else ''}: {result.text[:240]!r}")
            history.append(Turn(turn["question"], result.text))
            previous_quotes = quotes
    print(f"first turns: {first_right}/{first} answered right")
    print(f"follow-ups:  {follow_right}/{follow} answered right, {declined} declined, ", end="")
    print(f"{repeats} repeat the previous answer")


if __name__ == "__main__":
    main()
