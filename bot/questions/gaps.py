"""What the documents don't answer: abstained and 👎 questions grouped by topic, from the questions log.

Near-duplicate questions are grouped by how alike two questions are: a blend of their embeddings' cosine
similarity (the model already used for questions) and the rare words they share (IDF-weighted Jaccard,
with the index's IDF when there is one: "zookeeper" or "sentry" says more about a question's topic than
"celery" or "configure", which every question about the docs shares). Average-link clustering merges
groups while their questions' mean similarity is at least a threshold. A group is named by its most
typical question (the one closest on average to the rest), and shows the documents retrieval found
closest for it, which is the page a writer would most likely extend.

Measured on three paraphrase sets (bench/gaps_purity.py: techdocs, celery, pydocs; 36 topics, 278
questions), each blend weight and threshold chosen on two sets and scored on the third: B-cubed F1 0.904
with the embeddings alone, 0.971 with the blend.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.answering.evidence import RarityFn
from bot.answering.followup import is_follow_up
from bot.errors import CitebotError
from bot.questions.store import LoggedQuestion
from bot.text import content_terms

#: Two groups merge while their questions' mean similarity is at least this (all-MiniLM-L6-v2; chosen
#: leave-one-set-out on the paraphrase sets of bench/gaps_purity.py, the same in each fold).
DEFAULT_SIMILARITY = 0.2
#: The share of a similarity that is the embeddings' cosine; the rest is the shared rare words.
EMBEDDING_WEIGHT = 0.3
#: Most questions grouped in one report (the most recent are kept): clustering is quadratic in them.
MAX_GROUPED = 1500

EmbedFn = Callable[[Sequence[str]], list[list[float]]]
_SINCE = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$", re.IGNORECASE)
_UNIT_S = {"m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}


@dataclass(frozen=True)
class DocumentHit:
    """A document retrieval found for a topic's questions: in how many of them, and its most frequent section."""

    source: str
    section: str
    questions: int

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "section": self.section, "questions": self.questions}


@dataclass(frozen=True)
class Topic:
    """Questions about one thing: named by the most typical, with examples and the closest documents."""

    name: str
    count: int
    examples: list[str]
    documents: list[DocumentHit]
    abstained: int = 0
    downvoted: int = 0
    collections: list[str] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)  # the log rows of its questions

    def to_json(self) -> dict[str, Any]:
        return {
            "topic": self.name,
            "count": self.count,
            "abstained": self.abstained,
            "downvoted": self.downvoted,
            "examples": self.examples,
            "closest_documents": [d.to_json() for d in self.documents],
            "collections": self.collections,
            "question_ids": self.ids,
        }


@dataclass(frozen=True)
class GapsReport:
    """The report `citebot gaps` and `/citebot gaps` show."""

    since: float
    until: float
    questions: int
    abstained: int
    downvoted: int
    gaps: list[Topic]
    asked: list[Topic]
    cited: list[tuple[str, int]]

    @property
    def unanswered(self) -> int:
        """Questions counted as gaps (abstained or 👎)."""
        return sum(t.count for t in self.gaps)

    def to_json(self) -> dict[str, Any]:
        return {
            "since": _iso(self.since),
            "until": _iso(self.until),
            "questions": self.questions,
            "abstained": self.abstained,
            "downvoted": self.downvoted,
            "gaps": [t.to_json() for t in self.gaps],
            "most_asked_answered": [t.to_json() for t in self.asked],
            "most_cited": [{"source": s, "citations": n} for s, n in self.cited],
        }


def parse_since(text: str, now: float | None = None) -> float:
    """``7d``, ``12h``, ``30m``, ``2w`` back from now, or a date ``2026-11-01``: Unix seconds."""
    now = time.time() if now is None else now
    m = _SINCE.match(text)
    if m:
        return now - int(m[1]) * _UNIT_S[m[2].lower()]
    try:
        return time.mktime(time.strptime(text.strip(), "%Y-%m-%d"))
    except ValueError:
        raise CitebotError(
            f"--since {text!r}: give a period such as 7d, 12h, 2w, or a date such as 2026-11-01"
        ) from None


def similarities(texts: Sequence[str], vectors: Sequence[Sequence[float]], rarity: RarityFn | None = None) -> Any:
    """How alike each two questions are (an n x n array): ``EMBEDDING_WEIGHT`` x their cosine plus the rest x
    the IDF-weighted Jaccard of their content terms. IDF from ``rarity`` (a term the documents never use
    counts as the rarest they do), else from the questions themselves."""
    # numpy here, not at the top: `citebot --help` should not pay for importing it.
    import numpy as np

    n = len(texts)
    if n == 0:
        return np.zeros((0, 0))
    x = np.asarray(vectors, dtype=np.float64)
    x /= np.linalg.norm(x, axis=1, keepdims=True) + 1e-12
    terms = [set(content_terms(t)) for t in texts]
    vocabulary = sorted(set().union(*terms))
    if not vocabulary:
        return x @ x.T
    known = rarity(vocabulary) if rarity is not None else {}
    if known:
        rarest = max(known.values())
        idf = np.array([known.get(t, rarest) for t in vocabulary])
    else:
        df = Counter(t for ts in terms for t in ts)
        idf = np.array([math.log((n + 1) / (df[t] + 0.5)) for t in vocabulary])
    column = {t: i for i, t in enumerate(vocabulary)}
    has = np.zeros((n, len(vocabulary)))
    for row, ts in enumerate(terms):
        has[row, [column[t] for t in ts]] = 1.0
    shared = (has * idf) @ has.T
    mass = has @ idf
    union = mass[:, None] + mass[None, :] - shared
    lexical = np.divide(shared, union, out=np.zeros_like(shared), where=union > 0)
    return EMBEDDING_WEIGHT * (x @ x.T) + (1 - EMBEDDING_WEIGHT) * lexical


def group(similarity: Any, threshold: float) -> list[list[int]]:
    """Average-link clusters (indices) of the items whose pairwise ``similarity`` (an n x n array) is given,
    merged while two groups' mean similarity is at least ``threshold``; biggest first, ties by first index."""
    # numpy here, not at the top: see similarities().
    import numpy as np

    n = len(similarity)
    if n == 0:
        return []
    sums = np.array(similarity, dtype=np.float64)  # sum of pairwise similarities between two groups
    sizes = np.ones(n)
    active = np.ones(n, dtype=bool)
    members: list[list[int]] = [[i] for i in range(n)]
    while active.sum() > 1:
        valid = np.outer(active, active)
        np.fill_diagonal(valid, False)
        mean = np.where(valid, sums / np.outer(sizes, sizes), -np.inf)
        i, j = np.unravel_index(int(np.argmax(mean)), mean.shape)
        if mean[i, j] < threshold:
            break
        i, j = min(i, j), max(i, j)
        sums[i, :] += sums[j, :]
        sums[:, i] += sums[:, j]
        sizes[i] += sizes[j]
        active[j] = False
        members[i].extend(members[j])
    groups = [sorted(members[i]) for i in range(n) if active[i]]
    return sorted(groups, key=lambda g: (-len(g), g[0]))


def build_report(
    questions: Sequence[LoggedQuestion],
    embed: EmbedFn,
    *,
    since: float,
    until: float | None = None,
    similarity: float = DEFAULT_SIMILARITY,
    rarity: RarityFn | None = None,
    top: int = 10,
    examples: int = 3,
) -> GapsReport:
    """Group the log's questions into gaps (abstained or 👎) and answered topics, and count cited documents;
    ``rarity``: the index's IDF (see ``similarities``)."""
    gaps = [q for q in questions if q.abstained or q.downvoted]
    answered = [q for q in questions if not (q.abstained or q.downvoted)]
    cited = Counter(s for q in answered for s in dict.fromkeys(q.cited))
    return GapsReport(
        since=since,
        until=time.time() if until is None else until,
        questions=len(questions),
        abstained=sum(q.abstained for q in questions),
        downvoted=sum(q.downvoted for q in questions),
        gaps=topics(gaps, embed, similarity=similarity, rarity=rarity, examples=examples)[:top],
        asked=topics(answered, embed, similarity=similarity, rarity=rarity, examples=examples)[:top],
        cited=cited.most_common(top),
    )


def topics(
    questions: Sequence[LoggedQuestion],
    embed: EmbedFn,
    *,
    similarity: float = DEFAULT_SIMILARITY,
    rarity: RarityFn | None = None,
    examples: int = 3,
) -> list[Topic]:
    """``questions`` grouped by topic, most asked first."""
    questions = list(questions)[-MAX_GROUPED:]
    if not questions:
        return []
    texts = list(dict.fromkeys(_key(q) for q in questions))  # each distinct question embedded once
    alike = similarities(texts, embed(texts), rarity)
    by_text: dict[str, list[LoggedQuestion]] = defaultdict(list)
    for q in questions:
        by_text[_key(q)].append(q)
    out = []
    for members in group(alike, similarity):
        member_texts = [texts[i] for i in members]
        asked = [q for t in member_texts for q in by_text[t]]
        ranked = _by_typicality(alike[members][:, members], member_texts, [len(by_text[t]) for t in member_texts])
        name = _label(by_text[t][0] for t in ranked)
        shown = list(dict.fromkeys(by_text[t][0].question for t in ranked))
        out.append(
            Topic(
                name=name,
                count=len(asked),
                examples=[e for e in shown if e != name][:examples],
                documents=closest_documents(asked),
                abstained=sum(q.abstained for q in asked),
                downvoted=sum(q.downvoted for q in asked),
                collections=sorted({q.collection for q in asked if q.collection}),
                ids=sorted(q.id for q in asked),
            )
        )
    return sorted(out, key=lambda t: -t.count)


def closest_documents(questions: Sequence[LoggedQuestion], top: int = 3) -> list[DocumentHit]:
    """The documents retrieval put first for these questions: weighted by rank, counted once per question."""
    weight: defaultdict[str, float] = defaultdict(float)
    seen_in: Counter[str] = Counter()
    sections: dict[str, Counter[str]] = defaultdict(Counter)
    for q in questions:
        found: set[str] = set()
        for rank, (source, section) in enumerate(q.passages):
            if source in found:
                continue
            found.add(source)
            weight[source] += 1.0 / (rank + 1)
            seen_in[source] += 1
            sections[source][section] += 1
    return [
        DocumentHit(source, sections[source].most_common(1)[0][0], seen_in[source])
        for source in sorted(weight, key=lambda k: -weight[k])[:top]
    ]


def _by_typicality(alike: Any, texts: list[str], counts: list[int]) -> list[str]:
    """The group's distinct questions, most typical first: highest mean similarity to the group (count-weighted)."""
    # numpy here, not at the top: see similarities().
    import numpy as np

    w = np.asarray(counts, dtype=np.float64)
    score = np.asarray(alike) @ w / w.sum()
    order = sorted(range(len(texts)), key=lambda i: (-score[i], i))
    return [texts[i] for i in order]


def _label(typical_first: Iterable[LoggedQuestion]) -> str:
    """A group's name: its most typical question that stands on its own ("and for it?" names nothing), else
    the most typical one as it was searched, with the subject its conversation gave it."""
    ranked = list(typical_first)
    alone = next((q for q in ranked if not is_follow_up(q.question)), None)
    return alone.question if alone is not None else (ranked[0].condensed or ranked[0].question)


def _key(q: LoggedQuestion) -> str:
    return " ".join((q.condensed or q.question).lower().split())


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
