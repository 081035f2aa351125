"""What logging a question costs: rows written to a real questions log (SQLite, WAL), in ms per question.

Each row is what `citebot ask` logs: a salted hash of a user id, a question of about 80 characters,
three cited and six found documents. Run alone, and with a second process writing the same file.

    PYTHONPATH=. .venv/bin/python bench/questions_log_speed.py [-n 2000]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bot.questions.store import NewQuestion, QuestionLog

ROOT = Path(__file__).resolve().parent.parent


def run(path: Path, n: int) -> list[float]:
    log = QuestionLog(path)
    log.record(NewQuestion("cli", "docs", "warm up", "warm up", True))  # the file is made and pruned once
    out = []
    for i in range(n):
        question = f"how do I configure the retry policy of the client number {i} when the server is slow?"
        t0 = time.perf_counter()
        log.record(
            NewQuestion(
                origin="discord",
                collection="docs",
                question=question,
                condensed=question,
                abstained=i % 3 == 0,
                cited=[f"docs/page-{i % 7}.md", "docs/intro.md", "docs/faq.md"],
                passages=[(f"docs/page-{j}.md", "Section › Subsection") for j in range(6)],
                latency_ms=123.4,
                channel=123456789012345678,
                user=log.hash_user(987654321098765432),
            )
        )
        out.append((time.perf_counter() - t0) * 1000)
    log.close()
    return out


def show(label: str, ms: list[float]) -> None:
    ordered = sorted(ms)
    print(
        f"{label}: {statistics.mean(ms):.3f} ms mean, {ordered[len(ordered) // 2]:.3f} p50, "
        f"{ordered[int(0.95 * len(ordered))]:.3f} p95, {ordered[-1]:.3f} max per question ({len(ms)} rows)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "questions.sqlite"
        show("alone", run(path, args.n))
        other = subprocess.Popen(
            [sys.executable, "-m", "tests.questions_writer", str(path), "0", "other"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        try:
            time.sleep(0.5)
            show("with a second process writing", run(path, args.n))
        finally:
            other.kill()
            other.wait()


if __name__ == "__main__":
    main()
