"""What the passages offer for a question: every quotable sentence and code block, scored, and coverage.

The evidence score of a sentence is semantic similarity plus (name-weighted) term overlap, read in
its paragraph, with a small bonus for the kind of fact the question asks for (a cause for "why", a
date for "when", a name as code spells it for "which setting"). Code blocks are scored for how-to
questions by the sentence that leads into them and the question's identifiers and words they hold.
The extractive answerer composes from this; the citation checker uses the overlap half.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from bot.answering.focus import CountFn, FocusReport, RarityFn, asks_change, assess_focus, is_release_notes
from bot.answering.question import Question, analyse
from bot.answering.rejected import CODE_SPAN, code_words, rejected_in
from bot.answering.setting_names import is_key_value, with_option
from bot.answering.term_overlap import overlap, prefix_match, term_weights
from bot.schema import Passage
from bot.text import Sentence, content_terms, words
from ingest.documents.clean import is_clutter_line
from ingest.documents.document import Part, passage_parts
from ingest.documents.sentences import ends_like_sentence, split_sentences
from ingest.embedding.embedder import cosine

EmbedFn = Callable[[Sequence[str]], list[list[float]]]

# Weights of the evidence score; calibrated on the dev sets (see bench/README.md).
_W_SIMILARITY = 0.6
_W_OVERLAP = 0.4
_TYPE_BONUS = 0.08
_RANK_PRIOR = 0.05  # a sentence of the first passage starts this much ahead of one of the last
_PARAGRAPH_SHARE = 0.25
_ANSWER_SENTENCES = 3  # the best this many sentences are what an answer quotes (for judging the focus)
_CAUSE = re.compile(
    r"\b(because|since|due to|owing to|so that|in order to|rather than|instead of|reasons?|cause[sd]?|"
    r"led to|result(ed|s)? (in|from)|wanted|demand(ed|s)?|refus\w*|forc\w*|decid\w*|would have meant|"
    r"no choice|not willing|unwilling|as a result|therefore|aim(ed)? (at|to)|otherwise|to avoid|prevent\w*)\b",
    re.IGNORECASE,
)
_DATE = re.compile(
    r"\b(\d{4}-\d{2}-\d{2}|\d{4}|\d{1,2}(st|nd|rd|th)?|v?\d+\.\d+(\.\d+)?|january|february|march|april|may|june|"
    r"july|august|september|october|november|december|monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"yesterday|today|tomorrow|week|month|year|days?|hours?)\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\d")
_ASKS_DEFAULT = re.compile(r"\bdefaults?\b|\bif I don'?t (set|pass|give|specify)\b|\bwithout setting\b", re.I)
_STATES_DEFAULT = re.compile(r"\bdefaults?\b[^.]{0,60}?(`[^`]+`|\d)|\(default: [^)]+\)", re.I)
#: A changelog entry as projects write them: "- Add X. PR #123 by @user", "(#4567)", ":issue:`890`".
#: (``by @user``, never a bare ``@name``: that is a Python decorator.)
_CHANGE_ENTRY = re.compile(r"(#\d{2,}|\bby @[\w-]+|\bPR\b|\bpull request\b|\bissue \d+|\(\s*\d{3,}\s*\))", re.I)
#: Sentences that point at content instead of giving it ("In this section you will see why ...").
_NAVIGATION = re.compile(
    r"^(in this (section|chapter|page|tutorial|guide|document|part)|this (section|page|chapter|guide|tutorial|"
    r"document) (describes|explains|covers|shows|will|is about)|(here )?you will (see|learn|find)|"
    r"we('ll| will) (see|look|learn|cover|explain|discuss)|let's|next,? (we|you)|see (the|also|below|above)\b|"
    r"for (more|further) (information|details)|read (more|on)|the following (sections?|pages?|chapters?)|"
    r"(this|the next) (section|chapter) )",
    re.IGNORECASE,
)
#: A field as the loaders write it ("release-date — 2025-03-31"): lower case at a passage's start, yet whole.
_FIELD_ROW = re.compile(r"^[\w.-]+ — \S")


@dataclass(frozen=True)
class SentenceWeights:
    """How a sentence's kind moves its score, beyond similarity and overlap.

    Chosen on the five dev sets by bench/loco.py (grid1 in bench/README.md); each moves docs
    answers by a question or two, and none changed news or encyclopedia answers.
    """

    release_notes: float = 0.1  # a line of release notes, unless the question asks what changed or when
    navigation: float = 0.1  # "In this section you will see ...", "See also ..."
    names_api: float = 0.1  # how-to / config: the sentence names an API, setting or option as code spells it
    #: a sentence or code that offers back what the question rejects ("delay() runs it right away"; "has no curl")
    #: (0.1 and 0.25 tied on every dev set left out; 0.25 drops the echo from more answers, bench/README.md)
    rejected: float = 0.25
    #: times the share of the question's terms its section's headings hold ("Installation › Setup Wizard" for "is
    #: there a wizard that scaffolds a site?"): left out in turn, 0.5 was chosen for every dev set among 0-0.8
    heading: float = 0.5


@dataclass(frozen=True)
class ScoredSentence:
    passage_rank: int  # 0-based index into the passages
    sentence: Sentence  # offsets in the passage's text
    similarity: float
    overlap: float
    bonus: float = 0.0  # the sentence has the kind of fact the question asks for
    item: bool = False  # a list item, read with the sentence that introduces its list
    prior: float = 0.0  # from its passage's place in the retrieval ranking
    adjust: float = 0.0  # from what kind of sentence it is (SentenceWeights)
    note: bool = False  # a line of release notes, and the question does not ask what changed

    @property
    def score(self) -> float:
        return _W_SIMILARITY * self.similarity + _W_OVERLAP * self.overlap + self.bonus + self.prior + self.adjust


@dataclass(frozen=True)
class ScoredCode:
    passage_rank: int
    part: Part
    lead: ScoredSentence | None  # the sentence that introduces it
    score: float
    offers_rejected: bool = False  # it uses what the asker lacks, or repeats the approach they say fails


@dataclass
class Evidence:
    """What the passages offer for a question: its reading, the scored sentences and code, coverage."""

    question: Question
    passages: Sequence[Passage]
    sentences: list[ScoredSentence]  # best first
    code: list[ScoredCode] = field(default_factory=list)  # best first
    coverage: list[float] = field(default_factory=list)  # per passage: share of the question's rare terms
    unseen: float = 0.0  # rarity-weighted share of the question's terms the index never holds
    absent: float = 0.0  # rarity-weighted share of its other terms that no passage holds
    rarity: dict[str, float] = field(default_factory=dict)  # weight of each question term (unseen: the rarest's)
    focus: FocusReport = field(default_factory=FocusReport.empty)  # what it names, and whether passages cover it

    def focus_share(self, sentence: ScoredSentence) -> float:
        """Rarity-weighted share of the question's rarer half of terms found in ``sentence`` and its section."""
        if not self.rarity:
            return 0.0
        ordered = sorted(self.rarity.values())
        median = ordered[len(ordered) // 2]
        rare = {t: w for t, w in self.rarity.items() if w >= median}
        passage = self.passages[sentence.passage_rank]
        present = set(content_terms(f"{passage.section} {sentence.sentence.text}"))
        found = sum(w for t, w in rare.items() if t in present or any(prefix_match(t, word) for word in present))
        return found / (sum(rare.values()) or 1.0)

    @property
    def best(self) -> ScoredSentence | None:
        return self.sentences[0] if self.sentences else None

    @property
    def wants_type(self) -> bool:
        """The question asks for a kind of thing (a cause, a date, a number, a name as code spells it)."""
        return _wanted(self.question) is not None


def gather_evidence(
    question: str,
    passages: Sequence[Passage],
    embed: EmbedFn | None,
    rarity: RarityFn | None = None,
    weights: SentenceWeights | None = None,
    counts: CountFn | None = None,
    embed_limit: int = 0,
) -> Evidence:
    """Score every quotable sentence and code block of the passages against ``question``.

    ``embed_limit``: embed only this many sentences, the best by their words (0: all).
    """
    q = analyse(question)
    scored = score_sentences(question, passages, embed, q, weights, embed_limit)
    scored.sort(key=lambda s: s.score, reverse=True)
    coverage, unseen, absent, rare = _term_evidence(question, passages, rarity)
    focus = assess_focus(question, passages, rarity, [s.sentence.text for s in scored[:_ANSWER_SENTENCES]], counts)
    evidence = Evidence(q, passages, scored, coverage=coverage, unseen=unseen, absent=absent, rarity=rare, focus=focus)
    if q.wants_code:
        evidence.code = _score_code(q, passages, scored, (weights or SentenceWeights()).rejected)
    return evidence


def score_sentences(
    question: str,
    passages: Sequence[Passage],
    embed: EmbedFn | None,
    q: Question | None = None,
    weights: SentenceWeights | None = None,
    embed_limit: int = 0,
) -> list[ScoredSentence]:
    """Every quotable sentence of the passages' prose, scored against the question."""
    q = q or analyse(question)
    kind_weights = weights or SentenceWeights()
    change = asks_change(question)  # then release notes are the answer, not noise
    notes = [not change and is_release_notes(p) for p in passages]
    wants_api = q.kind == "how" or q.wants_identifier
    asked = _plain(question)
    rejection = rejected_in(question)
    candidates: list[tuple[int, Sentence, str, bool]] = []
    # per candidate: -1 it (or the code it introduces) offers back what the question rejects, 1 it sets it aside
    stances: list[int] = []
    for rank, passage in enumerate(passages):
        parts = passage_parts(passage.text)
        for j, part in enumerate(parts):
            if part.kind == "code":
                continue
            item = part.kind == "item"
            shift = part.start + (2 if item else 0)
            block = parts[j + 1].text if j + 1 < len(parts) and parts[j + 1].kind == "code" else ""
            sentences = split_sentences(part.text)
            for i, sentence in enumerate(sentences):
                if i == 0 and sentence.text[:1].islower() and part.start == 0 and not _FIELD_ROW.match(sentence.text):
                    continue  # the passage starts mid-sentence; its start is elsewhere ("release-date — ..." does not)
                if asked and asked in _plain(sentence.text):
                    continue  # it restates the question ("the question ... is: why did X?"), it does not answer it
                if quotable(sentence.text) or (item and i == 0 and quotable_item(sentence.text)):
                    placed = Sentence(sentence.text, sentence.start + shift, sentence.end + shift)
                    candidates.append((rank, placed, part.text, item))
                    stances.append(rejection.stance(sentence.text, block if i == len(sentences) - 1 else ""))
    # A setting's row is read with its setting's name ("Default: `30`" under "timeout").
    read = [with_option(s.text, passages[rank].section) for rank, s, _, _ in candidates]
    if not candidates:
        return []
    term_weight = term_weights(question)
    wants = _wanted(q)
    lexical: list[ScoredSentence] = []
    paragraph_overlap: dict[str, float] = {}
    # A section's headings say what all its sentences are about ("Installation › Setup Wizard").
    heading_overlap = [overlap(term_weight, p.section) if kind_weights.heading else 0.0 for p in passages]
    for (rank, sentence, paragraph, item), text, stance in zip(candidates, read, stances):
        bonus = _TYPE_BONUS if wants is not None and wants.search(text) else 0.0
        note = notes[rank] or (not change and bool(_CHANGE_ENTRY.search(text)))
        adjust = _kind_adjustment(text, note, wants_api, kind_weights)
        adjust += stance * kind_weights.rejected
        prior = _RANK_PRIOR * (len(passages) - rank) / len(passages)  # retrieval's confidence in the passage
        if paragraph not in paragraph_overlap:
            paragraph_overlap[paragraph] = overlap(term_weight, paragraph)
        # A sentence is read in its paragraph: "he said" sentences inherit some of its topic.
        mixed = (1 - _PARAGRAPH_SHARE) * overlap(term_weight, text) + _PARAGRAPH_SHARE * paragraph_overlap[paragraph]
        mixed += kind_weights.heading * heading_overlap[rank]
        lexical.append(ScoredSentence(rank, sentence, 0.0, mixed, bonus, item, prior, adjust, note))
    if embed is None:
        return lexical
    # Embedding the sentences is most of a warm answer's time: only the best by words and place are embedded
    # (``embed_limit``); the others keep their word score, which would not have let them win.
    order = sorted(range(len(lexical)), key=lambda i: -lexical[i].score)
    chosen = sorted(order[:embed_limit]) if embed_limit else list(range(len(lexical)))
    vectors = embed([question, *(read[i] for i in chosen)])
    sims = dict(zip(chosen, (max(0.0, cosine(vectors[0], v)) for v in vectors[1:])))
    return [replace(s, similarity=sims[i]) if i in sims else s for i, s in enumerate(lexical)]


def _kind_adjustment(text: str, release_notes: bool, wants_api: bool, w: SentenceWeights) -> float:
    """Release-note lines and navigation down, API-naming sentences up (for how-to and config questions)."""
    out = 0.0
    if release_notes:
        out -= w.release_notes
    if _NAVIGATION.match(text):
        out -= w.navigation
    if wants_api and CODE_SPAN.search(text):
        out += w.names_api
    return out


def gives_reason(text: str) -> bool:
    """The sentence gives a cause or a purpose ("because", "so that", "to avoid")."""
    return bool(_CAUSE.search(text))


def _wanted(q: Question) -> re.Pattern[str] | None:
    """What a sentence that answers ``q`` tends to contain."""
    if _ASKS_DEFAULT.search(q.text):
        return _STATES_DEFAULT
    if q.kind == "why":
        return _CAUSE
    if q.kind == "when":
        return _DATE
    if q.kind == "number":
        return _NUMBER
    if q.wants_identifier:
        return CODE_SPAN
    return None


def _term_evidence(
    question: str, passages: Sequence[Passage], rarity: RarityFn | None
) -> tuple[list[float], float, float, dict[str, float]]:
    """How the question's terms, weighted by rarity, are covered: per passage (title and section too), by
    none of the passages, and by the whole index (an unseen term weighs as much as the rarest one)."""
    terms = list(dict.fromkeys(content_terms(question)))
    if not terms:
        return [0.0] * len(passages), 0.0, 0.0, {}
    known = rarity(terms) if rarity is not None else {}
    unseen_weight = max(known.values(), default=1.0)
    weights = {t: known.get(t, unseen_weight) for t in terms}
    total = sum(weights.values()) or 1.0
    coverage = []
    anywhere: set[str] = set()
    for p in passages:
        present = set(content_terms(f"{p.title} {p.section} {p.text}"))
        found = {t for t in terms if t in present or any(prefix_match(t, word) for word in present)}
        anywhere |= found
        coverage.append(sum(weights[t] for t in found) / total)
    unseen = sum(weights[t] for t in terms if rarity is not None and t not in known) / total
    absent = sum(weights[t] for t in terms if t in known and t not in anywhere) / total
    return coverage, unseen, absent, weights


def _score_code(
    q: Question, passages: Sequence[Passage], sentences: list[ScoredSentence], rejected: float
) -> list[ScoredCode]:
    """Code blocks scored by the sentence that leads into them plus the question's identifiers and words they hold.

    Code that uses what the asker lacks, or repeats the approach they say fails, loses ``rejected``.
    """
    rejection = rejected_in(q.text)
    by_passage: dict[int, list[ScoredSentence]] = {}
    for s in sentences:
        by_passage.setdefault(s.passage_rank, []).append(s)
    terms = set(content_terms(q.text))
    idents = {i.lower() for i in q.identifiers}
    out = []
    for rank, passage in enumerate(passages):
        parts = passage_parts(passage.text)
        for i, part in enumerate(parts):
            if part.kind != "code":
                continue
            lead = _lead_in(parts, i, by_passage.get(rank, []))
            held = code_words(part.text)
            code_terms = set(content_terms(" ".join(held).replace("_", " ")))
            word_share = len(terms & code_terms) / len(terms) if terms else 0.0
            ident_share = (
                sum(any(piece in held for piece in code_words(ident)) for ident in idents) / len(idents)
                if idents
                else 0.0
            )
            context = lead.score if lead is not None else 0.0
            score = context + 0.25 * word_share + 0.15 * ident_share - 0.02 * rank
            offers = rejection.offered_in_code(part.text, lead.sentence.text if lead is not None else None)
            out.append(ScoredCode(rank, part, lead, score - (rejected if offers else 0.0), offers))
    out.sort(key=lambda c: c.score, reverse=True)
    return out


def _lead_in(parts: list[Part], index: int, scored: list[ScoredSentence]) -> ScoredSentence | None:
    """The best-scored sentence of the prose just before code part ``index`` (the two prose parts before it)."""
    before = [p for p in parts[:index] if p.kind != "code"][-2:]
    spans = [(p.start, p.end) for p in before]
    near = [s for s in scored if any(a <= s.sentence.start < b for a, b in spans)]
    if not near:
        return None
    last = max(near, key=lambda s: s.sentence.start)  # the sentence right before the code leads into it
    return max(near, key=lambda s: s.score + (0.05 if s is last else 0.0))


def _plain(text: str) -> str:
    """Lowercase words joined by single spaces, padded: what "says the same words in the same order" compares.

    Empty for a text of fewer than four words, which could appear inside any sentence.
    """
    tokens = re.findall(r"[\w']+", text.lower())
    return f" {' '.join(tokens)} " if len(tokens) >= 4 else ""


def quotable(sentence: str) -> bool:
    """A sentence worth quoting: says something (not a headline or a question), not page clutter, mostly words.

    A setting's row ("Default: `30`", "`max_age` — Default: `600` — ...") counts, however short.
    """
    tokens = words(sentence)
    if is_key_value(sentence):
        return len(tokens) >= 2 and not is_clutter_line(sentence)
    if len(tokens) < 4 or len(tokens) > 90:
        return False
    if not ends_like_sentence(sentence) and not sentence.rstrip().endswith(":") and len(tokens) < 15:
        return False  # headings and headlines
    if sentence.rstrip().rstrip("\"”’')]").endswith("?"):
        return False  # a question in a document is not an answer
    if is_clutter_line(sentence):
        return False
    letters = sum(ch.isalpha() for ch in sentence)
    return letters >= 0.5 * len(sentence.replace(" ", ""))


def quotable_item(text: str) -> bool:
    """A list item, however short ("JSON Schema Draft 2020-12"): it is read with its list's lead-in."""
    return 2 <= len(words(text)) <= 90 and not is_clutter_line(text)
