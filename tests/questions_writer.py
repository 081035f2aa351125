"""A second process for the questions-log drills: writes rows (and votes), printing each committed id.

``python -m tests.questions_writer LOG_PATH COUNT TAG`` (COUNT 0: until killed).
"""

from __future__ import annotations

import sys
from pathlib import Path

from bot.questions.store import NewQuestion, QuestionLog


def main() -> None:
    path, count, tag = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    questions = QuestionLog(path)
    i = 0
    while count == 0 or i < count:
        qid = questions.record(
            NewQuestion(
                origin="cli",
                collection="c",
                question=f"{tag} question {i} " + "padding " * 50,
                condensed=f"{tag} question {i}",
                abstained=i % 2 == 0,
                cited=[f"{tag}.md"],
                passages=[(f"{tag}.md", "S")],
                latency_ms=1.0,
                message_id=f"{tag}-{i}",
            )
        )
        questions.vote(message_id=f"{tag}-{i}", user="u", vote="down")
        print(qid, flush=True)
        i += 1


if __name__ == "__main__":
    main()
