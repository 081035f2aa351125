"""The result of one ingest run."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class IngestReport:
    """What an ingest run did; ``to_json`` is the `citebot ingest --json` contract."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    chunks: int = 0  # chunks written in this run
    embedded: int = 0  # chunks whose embedding was computed (the rest were reused)
    sentences_embedded: int = 0  # sentences added to the answerer's sentence cache
    failed: list[dict[str, str]] = field(default_factory=list)  # files that could not be read
    skipped: list[dict[str, str]] = field(default_factory=list)  # files left out on purpose (size, links)
    seconds: float = 0.0

    def fail(self, path: str, reason: str) -> None:
        self.failed.append({"path": path, "reason": reason})

    def skip(self, path: str, reason: str) -> None:
        self.skipped.append({"path": path, "reason": reason})

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        """The run in one line, as every front end shows it."""
        return (
            f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, {self.removed} removed, "
            f"{len(self.failed)} failed; {self.chunks} chunks written ({self.embedded} embedded) in {self.seconds:.1f}s"
        )

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["seconds"] = round(self.seconds, 3)
        return data
