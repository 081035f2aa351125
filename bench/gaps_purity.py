"""How well `citebot gaps` groups what the docs don't answer, with the real model over a dev set.

Builds a questions log of a dev set's unanswerable questions and paraphrases of them written by hand
(bench/data/gaps_paraphrases_SET.jsonl: techdocs 12 topics and 200 questions; celery 14 and 44; pydocs
10 and 34, each topic in several wordings, from a terse keyword line to a symptom), asked in a shuffled
order through the real answerer; an answer citebot did give to one of them gets a 👎 (it cannot be
right). Then groups the log as `citebot gaps` does and prints:

- purity: the share of grouped questions that belong to their group's majority topic (1.0: every group
  holds one topic);
- completeness: the share of questions in the largest group of their own topic (1.0: one group per topic);
- groups per topic: groups / topics (1.0 at best);
- target hits (techdocs): the share of groups whose closest documents include a page a writer would
  extend for its topic (bench/data/gaps_targets.json, chosen by reading the corpus);
- the logging cost per question (ms) on the way.

    make setup
    CITEBOT_INDEX_DIR=/tmp/td-index .venv/bin/citebot ingest ../shared/eval/techdocs/corpus
    PYTHONPATH=. .venv/bin/python bench/gaps_purity.py --set techdocs --index-dir /tmp/td-index [--sweep]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

from bot.questions.gaps import DEFAULT_SIMILARITY, Topic, build_report
from bot.questions.recording import record
from bot.questions.store import QuestionLog
from bot.services import Services
from bot.settings import Settings

HERE = Path(__file__).parent
SHARED_EVAL = HERE.parent.parent / "shared" / "eval"
#: Each set's dev questions (its unanswerable ones are topics) and whether it has target pages.
DEV_SETS = {
    "techdocs": SHARED_EVAL / "techdocs" / "questions.jsonl",
    "pydocs": SHARED_EVAL / "pydocs" / "questions.jsonl",
    "celery": HERE / "devsets" / "celery" / "questions.jsonl",
}


def load_questions(name: str) -> list[tuple[str, str]]:
    """(topic, question): the originals (topic = their id) and the paraphrases."""
    lines = DEV_SETS[name].read_text(encoding="utf-8").splitlines()
    items = [json.loads(line) for line in lines if line.strip()]
    out = [(i["id"], i["question"]) for i in items if i.get("kind") == "unanswerable"]
    for line in (HERE / "data" / f"gaps_paraphrases_{name}.jsonl").read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        out.append((item["topic"], item["question"]))
    return out


def build_log(
    services: Services, questions: QuestionLog, asked: list[tuple[str, str]]
) -> tuple[dict[int, str], list[float]]:
    """Ask each question, log it, 👎 the answers; the topic of each log row and the logging times (ms)."""
    topic_of: dict[int, str] = {}
    log_ms: list[float] = []
    for n, (topic, question) in enumerate(asked):
        result = services.ask(question)
        t0 = time.perf_counter()
        qid = record(questions, result, (), origin="cli", collection=services.settings.collection, latency_ms=1.0)
        log_ms.append((time.perf_counter() - t0) * 1000)
        assert qid is not None
        topic_of[qid] = topic
        if not result.abstained:
            questions.attach_message(qid, f"bench-{n}")
            questions.vote(message_id=f"bench-{n}", user="bench", vote="down")
    return topic_of, log_ms


def measure(groups: list[Topic], topic_of: dict[int, str], targets: dict[str, list[str]]) -> dict[str, float]:
    total = sum(len(g.ids) for g in groups)
    majority = [Counter(topic_of[i] for i in g.ids).most_common(1)[0] for g in groups]
    purity = sum(n for _, n in majority) / total
    per_topic: dict[str, Counter[int]] = {}
    for k, g in enumerate(groups):
        for i in g.ids:
            per_topic.setdefault(topic_of[i], Counter())[k] += 1
    completeness = sum(c.most_common(1)[0][1] for c in per_topic.values()) / total
    out = {
        "groups": len(groups),
        "topics": len(per_topic),
        "groups_per_topic": round(len(groups) / len(per_topic), 2),
        "purity": round(purity, 3),
        "completeness": round(completeness, 3),
        "mixed_groups": sum(1 for g, (_, n) in zip(groups, majority) if n < len(g.ids)),
    }
    if targets:
        hits = [any(d.source in targets[t] for d in g.documents) for g, (t, _) in zip(groups, majority)]
        out["target_hits"] = round(sum(hits) / len(hits), 3)
        out["target_hits_weighted"] = round(sum(len(g.ids) for g, h in zip(groups, hits) if h) / total, 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", choices=sorted(DEV_SETS), default="techdocs")
    parser.add_argument("--index-dir", type=Path, required=True, help="The set's corpus, ingested.")
    parser.add_argument("--similarity", type=float, default=DEFAULT_SIMILARITY)
    parser.add_argument("--sweep", action="store_true", help="Also group at other similarity thresholds.")
    parser.add_argument("--seed", type=int, default=22)
    parser.add_argument("--show", action="store_true", help="Print each group.")
    parser.add_argument("--save", type=Path, help="Write the logged questions and their topics (JSON lines).")
    args = parser.parse_args()

    asked = load_questions(args.set)
    random.Random(args.seed).shuffle(asked)
    targets = {}
    if args.set == "techdocs":
        targets = json.loads((HERE / "data" / "gaps_targets.json").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        services = Services(Settings(index_dir=args.index_dir, data_dir=Path(tmp)))
        questions = QuestionLog(Path(tmp) / "questions.sqlite")
        t0 = time.perf_counter()
        topic_of, log_ms = build_log(services, questions, asked)
        ask_s = time.perf_counter() - t0
        logged = questions.questions()
        if args.save:
            rows = [{"topic": topic_of[q.id], **dataclasses.asdict(q)} for q in logged]
            args.save.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        abstained = sum(q.abstained for q in logged)
        print(f"{len(logged)} questions asked in {ask_s:.0f} s: {abstained} abstained, {len(logged) - abstained} 👎")
        print(
            f"logging: {statistics.mean(log_ms):.2f} ms mean, {sorted(log_ms)[int(0.95 * len(log_ms))]:.2f} ms p95, "
            f"{max(log_ms):.2f} ms max per question"
        )
        embed = services.query_embedder.embed
        thresholds = [args.similarity]
        if args.sweep:
            thresholds = sorted({args.similarity, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5})
        for s in thresholds:
            t1 = time.perf_counter()
            report = build_report(logged, embed, since=0, similarity=s, rarity=services.rarity, top=10_000)
            ms = (time.perf_counter() - t1) * 1000
            print(f"similarity {s:.2f}: {json.dumps(measure(report.gaps, topic_of, targets))} (report {ms:.0f} ms)")
            if args.show and s == args.similarity:
                for g in report.gaps:
                    topics = Counter(topic_of[i] for i in g.ids)
                    print(f"  {g.count:>3} {dict(topics)} {g.name!r} -> {[d.source for d in g.documents]}")


if __name__ == "__main__":
    main()
