"""Soak the Discord bot: many mixed events through the real bot, cogs and answerer on dpytest.

Run by hand (never part of the tests):

    PYTHONPATH=. HF_HUB_OFFLINE=1 python bench/discord_soak.py --events 600 [--real-model]

It drives mentions, thread follow-ups, questions quoting a document that says @everyone,
over-long and empty questions, bursts that hit the rate limit, DMs, and vote clicks, from several
people across an allowed and a disallowed channel; then reports errors logged, payloads that
could ping, memory growth and throughput. Discord's network side is simulated by dpytest.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import random
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from types import SimpleNamespace
from unittest.mock import AsyncMock, MagicMock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import discord
import discord.ext.test as dpytest

from bot.discord_bot.cogs.feedback import VoteButton
from bot.services import Services
from bot.settings import Settings
from tests.discord_support import drain, make_docs, mention, record_payloads, start_bot
from tests.support import EXAMPLES, FakeEmbedder

QUESTIONS = [
    "How often does a sourdough starter need feeding?",
    "What is a tide pool?",
    "When does the Harbour Street office reopen?",
    "why did BlackBerry leave Pakistan?",
    "How does a heat pump heat a house in winter?",
    "Who won the 1998 chess olympiad?",  # not in the documents: abstains
]
FOLLOW_UPS = ["Why?", "Tell me more about that.", "And what lives in them?", "When was that?"]


class ErrorCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(self.format(record))


def pings(payload: dict) -> bool:
    allowed = payload.get("allowed_mentions") or {}
    return bool(
        "allowed_mentions" not in payload
        or allowed.get("parse")
        or allowed.get("users")
        or allowed.get("roles")
        or allowed.get("replied_user")
    )


async def soak(events: int, real_model: bool, seed: int) -> dict:
    rng = random.Random(seed)
    work = Path(tempfile.mkdtemp(prefix="citebot-soak-"))
    docs = work / "docs"
    shutil.copytree(EXAMPLES, docs)
    make_docs(docs)
    settings = Settings(
        docs_dir=docs,
        index_dir=work / "index",
        data_dir=work / "data",
        discord_rate_limit=6,
        answer_confidence=0.5 if real_model else 0.0,
    )
    services = Services(settings, embedder=None if real_model else FakeEmbedder())
    services.ingest(docs)

    bot = await start_bot(services)
    payloads = record_payloads(bot)
    errors = ErrorCounter()
    logging.getLogger().addHandler(errors)
    config = dpytest.get_config()
    general, other = config.channels[0], config.channels[1]
    settings.discord_channels = [general.id]
    settings.discord_allow_dms = True
    people = list(config.members)
    threads: list[discord.Thread] = []
    answers: list[discord.Message] = []
    counts: dict[str, int] = {}
    clock = [0.0]
    bot.get_cog("Ask").limiter.clock = lambda: clock[0]  # type: ignore[union-attr]

    tracemalloc.start()
    await drain()
    gc.collect()
    base_mem = tracemalloc.get_traced_memory()[0]
    start = time.perf_counter()
    for i in range(events):
        clock[0] += rng.uniform(1, 12)  # simulated seconds between events
        person = rng.choice(people)
        kind = rng.choices(
            ["ask", "follow", "everyone", "long", "empty", "burst", "other_channel", "dm", "vote"],
            weights=[30, 25, 8, 3, 3, 3, 5, 5, 8],
        )[0]
        if kind == "follow" and not threads:
            kind = "ask"
        if kind == "vote" and not answers:
            kind = "ask"
        counts[kind] = counts.get(kind, 0) + 1
        if kind == "ask":
            await dpytest.message(mention(bot, rng.choice(QUESTIONS)), general, person)
        elif kind == "follow":
            await dpytest.message(rng.choice(FOLLOW_UPS), rng.choice(threads[-20:]), person)
        elif kind == "everyone":
            await dpytest.message(mention(bot, QUESTIONS[2]), general, person)
        elif kind == "long":
            await dpytest.message(mention(bot, "why " * 700), general, person)
        elif kind == "empty":
            await dpytest.message(mention(bot, ""), general, person)
        elif kind == "burst":
            for _ in range(8):
                await dpytest.message(mention(bot, rng.choice(QUESTIONS)), general, person)
        elif kind == "other_channel":
            await dpytest.message(mention(bot, rng.choice(QUESTIONS)), other, person)
        elif kind == "dm":
            await dpytest.message(rng.choice(QUESTIONS), await person.create_dm(), person)
        elif kind == "vote":
            it = MagicMock(spec=discord.Interaction)
            it.user = SimpleNamespace(id=person.id)
            it.message = rng.choice(answers[-50:])
            it.client = bot
            it.response = MagicMock()
            it.response.send_message = AsyncMock()
            it.response.is_done = lambda: False
            await VoteButton(rng.choice(["up", "down"])).callback(it)
        for m in await drain():
            if m.embeds:
                answers.append(m)
            thread = bot.get_channel(m.id)
            if isinstance(thread, discord.Thread):
                threads.append(thread)
        answers = answers[-100:]
        if i == events // 2:
            gc.collect()
            mid_mem = tracemalloc.get_traced_memory()[0]
    seconds = time.perf_counter() - start
    gc.collect()
    end_mem = tracemalloc.get_traced_memory()[0]
    top = tracemalloc.take_snapshot().statistics("filename")[:6]
    tracemalloc.stop()
    await dpytest.empty_queue()
    votes = services.settings.data_dir / "feedback.jsonl"
    result = {
        "events": events,
        "kinds": counts,
        "messages_sent": len(payloads),
        "payloads_that_could_ping": sum(pings(p) for p in payloads),
        "longest_message": max((len(p.get("content") or "") for p in payloads), default=0),
        "errors_logged": len(errors.records),
        "threads_opened": len(threads),
        "votes_recorded": sum(1 for _ in votes.open()) if votes.exists() else 0,
        "seconds": round(seconds, 1),
        "events_per_s": round(events / seconds, 1),
        "python_heap_mb": {
            "start": round(base_mem / 1e6, 1),
            "middle": round(mid_mem / 1e6, 1),
            "end": round(end_mem / 1e6, 1),
        },
        "heap_by_file_mb": {st.traceback[0].filename.split("packages/")[-1]: round(st.size / 1e6, 2) for st in top},
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "model": "all-MiniLM-L6-v2" if real_model else "fake bag of words",
    }
    if errors.records:
        result["first_error"] = errors.records[0][:2000]
    shutil.rmtree(work, ignore_errors=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=600)
    parser.add_argument("--real-model", action="store_true")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print(json.dumps(asyncio.run(soak(args.events, args.real_model, args.seed)), indent=2))


if __name__ == "__main__":
    main()
