"""`citebot eval FILE`: run every question of a JSON-lines file through search and ask, report metrics.

FILE lines: ``{"id", "question", "answers": [..], "sources": [..], "type"?, "evidence"?: [{"source", "fact"}]}``.
A question is *unanswerable* when its type is "unanswerable" or it has no answers.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import CitebotError
from bot.evaluation.metrics import Outcome, Summary, summarize
from bot.schema import Answer, Passage

SearchFn = Callable[[str, int], Sequence[Passage]]
AskFn = Callable[[str, int], Answer]

RANKED_DEPTH = 10  # MRR@10


@dataclass(frozen=True)
class EvalItem:
    """One question of an eval file."""

    id: str
    question: str
    answers: list[str]
    sources: list[str]
    facts: list[str]
    unanswerable: bool
    kind: str = ""  # "how", "config", ... ("kind", else "type", from the file)


def load_items(path: Path) -> list[EvalItem]:
    """Parse an eval file; a malformed line is a one-line error naming the line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise CitebotError(f"eval file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CitebotError(f"cannot read eval file {path}: {exc}") from None
    items = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, dict):
                raise ValueError("not a JSON object")
            question = row["question"]
            answers = [str(a) for a in row.get("answers") or []]
            sources = [str(s) for s in row.get("sources") or []]
            facts = [str(e["fact"]) if isinstance(e, dict) else str(e) for e in row.get("evidence") or []]
            if not isinstance(question, str) or not question.strip():
                raise ValueError("empty question")
        except (ValueError, KeyError, TypeError) as exc:
            raise CitebotError(f"{path}:{number}: bad eval line ({type(exc).__name__}: {exc})") from None
        unanswerable = row.get("type") == "unanswerable" or not answers
        kind = str(row.get("kind") or row.get("type") or "")
        items.append(EvalItem(str(row.get("id", number)), question, answers, sources, facts, unanswerable, kind))
    if not items:
        raise CitebotError(f"no questions in {path}")
    return items


def run_eval(
    items: Sequence[EvalItem],
    search: SearchFn,
    ask: AskFn,
    k: int,
    *,
    out: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Summary:
    """Search (top 10, for MRR) and ask (top k) every question; write per-question results to ``out``."""
    outcomes: list[Outcome] = []
    try:
        sink = out.open("w", encoding="utf-8") if out is not None else None
    except OSError as exc:
        raise CitebotError(f"cannot write results to {out}: {exc.strerror or exc}") from None
    try:
        for done, item in enumerate(items, 1):
            ranked = list(search(item.question, max(k, RANKED_DEPTH)))
            result = ask(item.question, k)
            outcomes.append(
                Outcome(
                    answers=item.answers,
                    sources=item.sources,
                    facts=item.facts,
                    unanswerable=item.unanswerable,
                    retrieved=[p.path for p in result.passages],
                    passages_k=[p.text for p in result.passages],
                    ranked=[p.path for p in ranked],
                    answer=result.text,
                    abstained=result.abstained,
                    retrieve_ms=result.timings_ms.get("retrieve", 0.0),
                    total_ms=result.timings_ms.get("total", 0.0),
                    kind=item.kind,
                )
            )
            if sink is not None:
                sink.write(json.dumps(_result_line(item, result), ensure_ascii=False) + "\n")
            if progress:
                progress(done, len(items))
    finally:
        if sink is not None:
            sink.close()
    return summarize(outcomes, k)


def _result_line(item: EvalItem, result: Answer) -> dict[str, Any]:
    return {
        "id": item.id,
        "question": item.question,
        "answer": result.text,
        "abstained": result.abstained,
        "passages": [{"source": p.path, "text": p.text, "score": round(p.score, 6)} for p in result.passages],
    }


def format_summary(s: Summary) -> str:
    """The metrics as an aligned text table, then one line of answer metrics per kind of question."""

    def pct(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.3f}"

    rows = [
        ("questions", f"{s.questions} ({s.answerable} answerable, {s.unanswerable} unanswerable)"),
        (f"Hit@{s.k}", pct(s.hit_at_k)),
        (f"Recall@{s.k}", pct(s.recall_at_k)),
        ("MRR@10", pct(s.mrr_at_10)),
        (f"fact Hit@{s.k}", f"{pct(s.fact_hit_at_k)} ({s.facts} facts)"),
        (f"fact Hit@{s.k}, per question", f"{pct(s.question_fact_hit_at_k)} (some fact of the question found)"),
        ("answer accuracy", f"{pct(s.answer_accuracy)} (a gold answer in the answer given)"),
        (f"answer in top-{s.k} passages", pct(s.answer_in_passages)),
        ("abstained, unanswerable", pct(s.abstain_unanswerable)),
        ("abstained, answerable", pct(s.abstain_answerable)),
        ("abstention precision / recall", f"{pct(s.abstain_precision)} / {pct(s.abstain_recall)}"),
        (
            "answer chars p50 / p90 / max",
            f"{s.answer_chars_p50:.0f} / {s.answer_chars_p90:.0f} / {s.answer_chars_max:.0f}",
        ),
        ("retrieval ms p50 / p95", f"{s.retrieve_p50_ms:.1f} / {s.retrieve_p95_ms:.1f}"),
        ("ask ms p50 / p95", f"{s.total_p50_ms:.1f} / {s.total_p95_ms:.1f}"),
    ]
    width = max(len(name) for name, _ in rows)
    lines = [f"{name:<{width}}  {value}" for name, value in rows]
    if s.by_kind:
        lines.append("")
        lines.append(
            f"{'kind':<14}{'n':>4}  {'accuracy':>8}  {'in top-' + str(s.k):>8}  {'Hit@' + str(s.k):>6}  abstained"
        )
        for kind, k in s.by_kind.items():
            abstained = k.abstain_unanswerable if k.unanswerable and not k.answerable else k.abstain_answerable
            lines.append(
                f"{kind:<14}{k.questions:>4}  {pct(k.answer_accuracy):>8}  {pct(k.answer_in_passages):>8}  "
                f"{pct(k.hit_at_k):>6}  {pct(abstained)}"
            )
    return "\n".join(lines)
