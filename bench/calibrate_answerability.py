"""Fit the answerability model (bot/answering/answerability.py) on the dev sets together.

Run by hand, once per change to the evidence scores. Step 1 collects the signals of every dev
question from an index of its corpus (ingested with the default settings); step 2 fits a logistic
model over all sets, each set weighing the same, and prints the weights and what each threshold
does to every set (abstention on unanswerable and answerable questions):

    CITEBOT_INDEX_DIR=/tmp/idx-news .venv/bin/python bench/calibrate_answerability.py collect \\
        ../shared/eval/multihop-news/dev.jsonl --out bench/results/answerability-news.jsonl
    ... (the same for techdocs and squad2-dev, each with its own index)
    .venv/bin/python bench/calibrate_answerability.py fit bench/results/answerability-*.jsonl \
        --features similarity,unseen,typed --set-weight squad2-dev=0.1

Never tuned per question: the model has a few inputs and is fitted on all questions at once. SQuAD 2.0's
unanswerable questions are adversarial rewrites of answerable ones (only a reading model tells them
apart), so that set is down-weighted: its signals would only blur the other two.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.answering.answerability import SIGNALS, WEIGHTS, features
from bot.answering.evidence import gather_evidence
from bot.evaluation.metrics import contains_answer
from bot.evaluation.runner import load_items
from bot.services import Services
from bot.settings import load_settings


def collect(questions: Path, out: Path) -> None:
    services = Services(load_settings())
    k = services.settings.top_k
    embed = services.answer_embedder.embed
    rarity = services.rarity
    rows = []
    for item in load_items(questions):
        passages = services.whole_sections(services.retriever.retrieve(item.question, k))  # as answer() sees them
        evidence = gather_evidence(item.question, passages, embed, rarity)
        rows.append(
            {
                "set": questions.parent.name,
                "id": item.id,
                "kind": item.kind,
                "answerable": not item.unanswerable,
                "in_passages": contains_answer(item.answers, "\n".join(p.text for p in passages)),
                "features": features(evidence),
            }
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(r) + "\n" for r in rows))
    print(f"{len(rows)} questions -> {out}")


def fit(files: list[Path], names: list[str], set_weights: dict[str, float], l2: float) -> None:
    """Logistic regression by iteratively reweighted least squares; every set weighs the same (times its weight)."""
    import numpy as np

    rows = [json.loads(line) for f in files for line in f.read_text().splitlines() if line.strip()]
    x = np.array([[r["features"][n] for n in names] + [1.0] for r in rows], dtype=float)
    y = np.array([1.0 if r["answerable"] else 0.0 for r in rows])
    sets = sorted({r["set"] for r in rows})
    size = {s: sum(1 for r in rows if r["set"] == s) for s in sets}
    weight = np.array([set_weights.get(r["set"], 1.0) / size[r["set"]] for r in rows])
    weight *= len(rows) / weight.sum()
    beta = np.zeros(x.shape[1])
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-(x @ beta)))
        hessian = x.T @ (x * (weight * p * (1 - p))[:, None]) + l2 * np.eye(len(beta))
        beta -= np.linalg.solve(hessian, x.T @ (weight * (p - y)) + l2 * beta)
    print("WEIGHTS = {" + ", ".join(f'"{n}": {v:.3f}' for n, v in zip(names, beta[:-1])) + "}")
    print(f"BIAS = {beta[-1]:.3f}")
    probs = 1.0 / (1.0 + np.exp(-(x @ beta)))
    print("\nthreshold  " + "  ".join(f"{s[:14]:>14} abstained: unanswerable / answerable" for s in sets))
    for t in np.arange(0.3, 0.76, 0.05):
        cells = []
        for s in sets:
            unans = [probs[i] < t for i, r in enumerate(rows) if r["set"] == s and not r["answerable"]]
            ans = [probs[i] < t for i, r in enumerate(rows) if r["set"] == s and r["answerable"]]
            u = sum(unans) / len(unans) if unans else math.nan
            a = sum(ans) / len(ans) if ans else math.nan
            cells.append(f"{u:>14.3f}            / {a:.3f}      ")
        print(f"{t:9.2f}  " + "  ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("collect", help="signals of every question of one dev set (uses CITEBOT_* settings)")
    c.add_argument("questions", type=Path)
    c.add_argument("--out", type=Path, required=True)
    f = sub.add_parser("fit", help="fit the model on collected signals of all sets")
    f.add_argument("files", type=Path, nargs="+")
    f.add_argument(
        "--features",
        default=",".join(WEIGHTS),
        help=f"comma-separated signals the model uses, of: {', '.join(SIGNALS)}",
    )
    f.add_argument(
        "--set-weight",
        action="append",
        default=[],
        metavar="SET=W",
        help="down-weight a set (e.g. squad2-dev=0.1: its unanswerable questions are adversarial rewrites)",
    )
    f.add_argument("--l2", type=float, default=0.001)
    args = parser.parse_args()
    if args.command == "collect":
        collect(args.questions, args.out)
    else:
        set_weights = {k: float(v) for k, v in (item.split("=") for item in args.set_weight)}
        fit(args.files, args.features.split(","), set_weights, args.l2)


if __name__ == "__main__":
    main()
