"""Calibrate CITEBOT_MIN_EVIDENCE: the extractive answerer's best-sentence score on answerable vs
unanswerable questions, and the abstention rates each threshold would give.

    CITEBOT_INDEX_DIR=/tmp/mh-index .venv/bin/python bench/calibrate_abstention.py [--questions dev.jsonl]

Run by hand; prints a table. Choose the threshold on the whole set's trade-off, never per question.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bot.answering.extractive import score_sentences
from bot.services import Services
from bot.settings import load_settings

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "multihop-news"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=SHARED / "dev.jsonl")
    args = parser.parse_args()
    services = Services(load_settings())
    k = services.settings.top_k
    answerable: list[float] = []
    unanswerable: list[float] = []
    for line in args.questions.read_text().splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        passages = services.retriever.retrieve(item["question"], k)
        scored = score_sentences(item["question"], passages, services.query_embedder.embed)
        best = max((s.score for s in scored), default=0.0)
        (answerable if item.get("answers") else unanswerable).append(best)
    print(f"{len(answerable)} answerable, {len(unanswerable)} unanswerable questions, k={k}")
    print("threshold  abstain(unanswerable)  abstain(answerable)")
    for step in range(26, 47, 2):
        t = step / 100
        u = sum(x < t for x in unanswerable) / max(1, len(unanswerable))
        a = sum(x < t for x in answerable) / max(1, len(answerable))
        print(f"{t:9.2f}  {u:21.2f}  {a:19.2f}")


if __name__ == "__main__":
    main()
