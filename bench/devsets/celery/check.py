#!/usr/bin/env python3
"""Validate questions.jsonl against the extracted corpus (run fetch.py first).

Checks: every line parses; required keys and kinds; ids unique; every source path
exists; every answer string of an answerable question occurs (case-insensitive,
whitespace-normalised) in at least one of its source files; unanswerable
questions have no answers and no sources. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
KINDS = {"how", "config", "fact", "why", "unanswerable"}
KEYS = {"id", "question", "answers", "sources", "kind"}


def norm(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip().casefold()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--questions", type=Path, default=HERE / "questions.jsonl")
    ap.add_argument("--corpus", type=Path, default=HERE / "corpus")
    args = ap.parse_args()
    if not args.corpus.is_dir():
        print(f"check.py: error: corpus {args.corpus} missing; run fetch.py first", file=sys.stderr)
        return 2
    errors, rows, cache = [], [], {}
    for n, line in enumerate(args.questions.read_text(encoding="utf-8").splitlines(), 1):
        try:
            r = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"line {n}: does not parse: {exc}")
            continue
        if set(r) != KEYS:
            errors.append(f"line {n}: keys {sorted(r)} != {sorted(KEYS)}")
            continue
        rows.append(r)
    ids = Counter(r["id"] for r in rows)
    errors += [f"duplicate id {i}" for i, c in ids.items() if c > 1]
    found_answers = 0
    for r in rows:
        qid, kind = r["id"], r["kind"]
        if kind not in KINDS:
            errors.append(f"{qid}: unknown kind {kind!r}")
        if kind == "unanswerable":
            if r["answers"] or r["sources"]:
                errors.append(f"{qid}: unanswerable must have empty answers and sources")
            continue
        if not r["answers"] or not r["sources"]:
            errors.append(f"{qid}: answerable question needs answers and sources")
        texts = []
        for src in r["sources"]:
            p = args.corpus / src
            if "\\" in src or not p.is_file():
                errors.append(f"{qid}: source {src} does not exist")
                continue
            if src not in cache:
                cache[src] = norm(p.read_text(encoding="utf-8", errors="replace"))
            texts.append(cache[src])
        for ans in r["answers"]:
            if any(norm(ans) in t for t in texts):
                found_answers += 1
            else:
                errors.append(f"{qid}: answer {ans!r} not found in {r['sources']}")
    kinds = Counter(r["kind"] for r in rows)
    print(
        f"{len(rows)} questions, {len(ids)} unique ids; kinds: " + ", ".join(f"{k}={kinds[k]}" for k in sorted(kinds))
    )
    print(f"{found_answers} answer strings found in their sources; {len(cache)} distinct source files checked")
    for e in errors:
        print("FAIL", e)
    print("OK" if not errors else f"{len(errors)} problem(s)")
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
