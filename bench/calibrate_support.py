"""Calibrate the citation checker's support threshold (bot/answering/verify.py) on multihop-news evidence.

Each dev question lists evidence facts with their source article. For a fact we score:
  positive       the fact against the passage of its article that holds it
  near negative  the fact against another passage of the same article (right document, wrong passage)
  far negative   the fact against the closest passage of another article (wrong document)
and report how well the score separates them at a range of thresholds, with and without embeddings.
Run by hand:  PYTHONPATH=. python bench/calibrate_support.py [--limit 200]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

from bot.answering.verify import OVERLAP_ONLY_THRESHOLD, SUPPORT_THRESHOLD, support_score
from bot.schema import Passage

EVAL = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "multihop-news"  # /work/main layout


def passages_of(path: Path, size: int = 900) -> list[str]:
    """Paragraph-packed passages of about ``size`` characters (like the ingest chunks)."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")) if p.strip()]
    out, current = [], ""
    for para in paragraphs:
        if current and len(current) + len(para) > size:
            out.append(current)
            current = ""
        current = f"{current}\n\n{para}".strip()
    if current:
        out.append(current)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--eval-dir", type=Path, default=EVAL)
    parser.add_argument("--limit", type=int, default=200)
    args = parser.parse_args()
    from ingest.embedding.embedder import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder()
    corpus = {p.stem: passages_of(p) for p in sorted((args.eval_dir / "corpus").glob("*.txt"))}
    facts = []
    for line in (args.eval_dir / "dev.jsonl").read_text().splitlines():
        for ev in json.loads(line).get("evidence", []):
            if ev.get("source") in corpus and ev.get("fact"):
                facts.append((ev["fact"], ev["source"]))
    random.Random(0).shuffle(facts)
    facts = facts[: args.limit]
    from bot.answering.term_overlap import overlap, term_weights

    rows: dict[str, list[tuple[float, float]]] = {"positive": [], "near negative": [], "far negative": []}
    for fact, source in facts:
        w = term_weights(fact)
        own = sorted(corpus[source], key=lambda t: overlap(w, t), reverse=True)
        others = [t for name, ts in corpus.items() if name != source for t in ts]
        far = max(others, key=lambda t: overlap(w, t))
        pairs = [("positive", own[0]), ("far negative", far)]
        if len(own) > 1:
            pairs.append(("near negative", own[-1]))
        for kind, text in pairs:
            passage = Passage(chunk_id="x", source=source, text=text, score=0.0)
            rows[kind].append((support_score(fact, passage, embedder.embed), support_score(fact, passage, None)))
    for col, name, current in [(0, "with embeddings", SUPPORT_THRESHOLD), (1, "overlap only", OVERLAP_ONLY_THRESHOLD)]:
        print(f"\n{name} (current threshold {current}); share of pairs judged supported:")
        print("threshold  " + "  ".join(f"{k:>13}" for k in rows))
        for t in [x / 100 for x in range(30, 86, 5)]:
            shares = [sum(r[col] >= t for r in v) / max(1, len(v)) for v in rows.values()]
            print(f"{t:9.2f}  " + "  ".join(f"{s:13.1%}" for s in shares))
    print(f"\n{len(facts)} facts; counts: " + ", ".join(f"{k} {len(v)}" for k, v in rows.items()), file=sys.stderr)


if __name__ == "__main__":
    main()
