"""The answerer: question (+ history) -> Answer with numbered, quoted citations.

With no LLM the answer is *extractive* (bot/answering/extractive.py). With an LLM the model
writes the answer (bot/answering/llm_answer.py) and its citations are checked
(bot/answering/verify.py); if the model fails, the extractive answer is given with a notice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from bot.answering.evidence import EmbedFn, RarityFn
from bot.answering.extractive import NOT_FOUND, AnswerOptions, Composed, extractive_answer
from bot.answering.focus import CountFn
from bot.answering.followup import contextual_query
from bot.answering.llm import ChatModel
from bot.answering.llm_answer import condense, generate, model_passages
from bot.answering.prompts import Prompts
from bot.answering.screen import prefer_model, screen
from bot.answering.sentence_stream import SentenceStream
from bot.answering.subject import LookupFn, with_subject_sections
from bot.answering.verify import PassageSupport, verify_answer
from bot.errors import LLMError
from bot.retrieval.base import Retriever
from bot.schema import Answer, Claim, Passage, Turn

__all__ = ["NOT_FOUND", "AnswerOptions", "answer"]

log = logging.getLogger(__name__)


def answer(
    question: str,
    history: Sequence[Turn],
    retriever: Retriever,
    *,
    embed: EmbedFn | None = None,
    options: AnswerOptions | None = None,
    llm: ChatModel | None = None,
    prompts: Prompts | None = None,
    on_sentence: Callable[[str], None] | None = None,
    rarity: RarityFn | None = None,
    counts: CountFn | None = None,
    widen: Callable[[Sequence[Passage]], list[Passage]] | None = None,
    lookup: LookupFn | None = None,
) -> Answer:
    """Answer ``question`` from the retriever's passages, citing each sentence used.

    Args:
        history: earlier turns of the conversation, oldest first (empty for a single question).
            A follow-up is made standalone before retrieval: by the LLM when there is one, else by
            carrying the earlier questions' names into the query (bot/followup.py).
        embed: embeds sentences for semantic similarity; without it only term overlap counts.
        llm, prompts: write the answer with a chat model; its citations are then checked and what
            they do not support is withheld (bot/answering/screen.py). If the model fails, or keeps
            less than the extractive answer says, the extractive answer is returned with a
            ``notice`` saying why.
        on_sentence: receives the model's answer as it streams, one verified sentence (or code
            block) at a time (LLM path only).
        rarity: how rare terms are in the index (IDF); rare question terms count more when judging
            whether the passages answer (bot/answering/answerability.py).
        counts: how many chunks of the index hold a term: a name the question asks about that only a few
            chunks hold, and the passages do not cover, is a subject the documents do not explain
            (bot/answering/focus.py).
        widen: widens each retrieved chunk to (most of) its section, so that the answer, and a
            model, see the code with its explanation instead of the retrieved chunk alone.
        lookup: looks a name up in the index; a name the question asks about that the passages do not
            cover is looked for in its own section before the answer may say the documents don't cover
            it (bot/answering/subject.py).
    """
    options = options or AnswerOptions()
    timings: dict[str, float] = {}
    notice = ""
    t0 = time.perf_counter()
    query: str | None = None
    if history and llm is not None and prompts is not None:
        try:
            query = condense(llm, prompts, question, history)  # None: unusable, the rule-based one below
        except LLMError as exc:
            notice, llm = _fallback_notice(exc), None  # it is down: do not wait for it twice
        timings["condense"] = (time.perf_counter() - t0) * 1000
    if query is None:
        query = contextual_query(question, history, rarity)
    t1 = time.perf_counter()
    passages = retriever.retrieve(query, options.k)
    if widen is not None and passages:  # the code a how-to needs often sits next to the chunk that was found
        passages = widen(passages)
    if lookup is not None and options.subject_lookup and passages:
        passages = with_subject_sections(query, passages, lookup, rarity, counts, widen)
    timings["retrieve"] = (time.perf_counter() - t1) * 1000
    t2 = time.perf_counter()
    result = extractive_answer(query, passages, embed=embed, options=options, rarity=rarity, counts=counts)
    claims: list[Claim] = []
    # The model writes the answer only where the passages answer the question: an abstention is
    # the calibrated one, with or without a model.
    if llm is not None and prompts is not None and passages and not result.abstained:
        t3 = time.perf_counter()
        written, claims, model_notice = _model_answer(
            llm, prompts, question, history, passages, embed, result, on_sentence, options.model_chars
        )
        timings["llm"] = (time.perf_counter() - t3) * 1000
        result = written or result
        notice = "; ".join(n for n in (notice, model_notice) if n)
    timings["answer"] = (time.perf_counter() - t2) * 1000
    timings["total"] = (time.perf_counter() - t0) * 1000
    return Answer(
        question=question,
        text=result.text,
        abstained=result.abstained,
        citations=result.citations,
        passages=passages,
        timings_ms=timings,
        notice=notice,
        claims=claims,
        query=query,
    )


def _model_answer(
    llm: ChatModel,
    prompts: Prompts,
    question: str,
    history: Sequence[Turn],
    passages: Sequence[Passage],
    embed: EmbedFn | None,
    extractive: Composed,
    on_sentence: Callable[[str], None] | None,
    model_chars: int,
) -> tuple[Composed | None, list[Claim], str]:
    """The model's answer with only its verified parts, or None when the extractive one is better."""
    passages = model_passages(passages, {c.passage.chunk_id for c in extractive.citations}, model_chars)
    support = PassageSupport(passages, embed)
    stream = SentenceStream(passages, support, on_sentence)  # with no one watching, it still counts
    try:
        generated = generate(llm, prompts, question, history, passages, stream.feed, lambda: stream.hopeless)
    except LLMError as exc:
        return None, [], _fallback_notice(exc)
    stream.close(generated.finished)
    if generated.given_up:
        log.info("model answer stopped early: %d sentences held back, %d shown", stream.held, stream.shown)
    screened = screen(verify_answer(generated.text, passages, embed, support), passages, embed, support)
    if generated.given_up or not prefer_model(screened, extractive):
        total = screened.kept + screened.withheld
        why = (
            f"the model's answer was not supported by its passages ({screened.kept} of {total} sentences verified)"
            if total
            else "the model's answer did not answer from the passages"
        )
        log.info("model answer not kept: %s", why)
        return None, [], f"{why}; showing the extractive answer instead"
    checked = screened.verified
    notices = [n for n in (generated.cut_off, screened.notice) if n]
    return Composed(checked.text, False, checked.citations), checked.claims, "; ".join(notices)


def _fallback_notice(exc: LLMError) -> str:
    log.info("LLM failed, falling back to the extractive answer: %s", exc)  # the notice tells the user
    return f"{exc}; showing the extractive answer instead"
