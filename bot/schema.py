"""Value types owned by the project: what retrieval returns and what an answer is."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ingest.index.registry import name_of
from ingest.report import IngestReport

__all__ = ["HISTORY_TURNS", "Answer", "Citation", "Claim", "IngestReport", "Passage", "Turn", "passage_json"]

#: Turns of a conversation the front ends keep and the answerer reads; older ones rarely matter.
HISTORY_TURNS = 4


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk of a document, with where it came from."""

    chunk_id: str
    source: str  # the document's id in the index: its path in its source, after that source's prefix
    text: str
    score: float
    source_name: str = ""  # the index's source (a named folder) the document is in
    title: str = ""
    url: str = ""  # the document's link, with ``#anchor`` when the section has an id
    date: str = ""
    page: int | None = None
    start: int = 0
    end: int = 0
    section: str = ""  # the heading trail, "CORS › Use CORSMiddleware"; empty where the document has none
    dense_rank: int | None = None  # where retrieval's rankings put its document (1 = first), when they did
    keyword_rank: int | None = None

    @property
    def path(self) -> str:
        """The document's path inside its source's folder, ``/`` separators (what the JSON calls ``source``)."""
        return name_of(self.source, self.source_name)[1]

    @property
    def label(self) -> str:
        """How a person would name the passage's document: its title, else its path."""
        return self.title or self.path

    @property
    def where(self) -> str:
        """Where in the folder it is: ``cors.md § Use CORSMiddleware``, with the page for PDFs."""
        out = self.path
        if self.section:
            out += f" § {self.section}"
        if self.page:
            out += f", page {self.page}"
        return out


@dataclass(frozen=True)
class Citation:
    """One numbered source of an answer: ``[id]`` in the answer text points here."""

    id: int
    passage: Passage
    quote: str
    supported: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "source": self.passage.path,
            "source_name": self.passage.source_name,
            "title": self.passage.title,
            "url": self.passage.url,
            "quote": self.quote,
            "section": self.passage.section,
            "page": self.passage.page,
            "supported": self.supported,
        }


@dataclass(frozen=True)
class Claim:
    """One sentence of a model-written answer and whether its cited passages support it."""

    text: str  # the sentence without its markers
    citations: tuple[int, ...]  # ids of the citations it carries (empty: uncited)
    supported: bool
    score: float = 0.0  # best support score among its citations
    start: int = 0  # span of the sentence in Answer.text
    end: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "citations": list(self.citations), "supported": self.supported}


@dataclass(frozen=True)
class Turn:
    """One exchange of a conversation, as the answerer needs it."""

    question: str
    answer: str


@dataclass(frozen=True)
class Answer:
    """An answer with its citations, the passages it saw, and how long each step took."""

    question: str
    text: str
    abstained: bool
    citations: list[Citation]
    passages: list[Passage]
    timings_ms: dict[str, float] = field(default_factory=dict)
    notice: str = ""  # e.g. "LLM unreachable; extractive answer shown"
    claims: list[Claim] = field(default_factory=list)  # per sentence, for model-written answers
    query: str = ""  # what was searched: the question, made standalone when it followed others

    def to_json(self) -> dict[str, Any]:
        """The `citebot ask --json` contract."""
        out: dict[str, Any] = {
            "question": self.question,
            "answer": self.text,
            "abstained": self.abstained,
            "citations": [c.to_json() for c in self.citations],
            "passages": [passage_json(i, p) for i, p in enumerate(self.passages, 1)],
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
        }
        if self.notice:
            out["notice"] = self.notice
        if self.claims:
            out["claims"] = [c.to_json() for c in self.claims]
        return out


def passage_json(rank: int, passage: Passage) -> dict[str, Any]:
    """A passage as the JSON contracts show it; ``id`` is its rank, 1-based."""
    return {
        "id": rank,
        "source": passage.path,
        "source_name": passage.source_name,
        "title": passage.title,
        "url": passage.url,
        "text": passage.text,
        "score": round(passage.score, 4),
        "section": passage.section,
        "page": passage.page,
        "chunk_id": passage.chunk_id,
    }
