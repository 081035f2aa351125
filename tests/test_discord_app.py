"""The bot's start-up and support parts: token handling, command sync, rate limit, policy, feedback."""

from __future__ import annotations

import json
import logging
import time
from types import SimpleNamespace

import discord
import pytest
from typer.testing import CliRunner

from bot.cli.app import app
from bot.discord_bot.app import COMMANDS_STATE, CitebotBot, RedactSecret, command_digest
from bot.discord_bot.policy import channel_allowed, is_admin
from bot.discord_bot.ratelimit import RateLimiter
from bot.questions.store import NewQuestion, QuestionLog
from bot.questions.votes import summarise
from bot.services import Services
from bot.settings import Settings

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.secret-token-value-xyz"
runner = CliRunner()


def invoke(*args: str):
    result = runner.invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


# -- start-up ------------------------------------------------------------------------------
def test_missing_token_is_a_one_line_error():
    result = invoke("discord")
    assert result.exit_code == 1
    assert result.stderr.strip().count("\n") == 0
    assert "CITEBOT_DISCORD_TOKEN is not set" in result.stderr


def test_rejected_token_is_a_clear_error_without_traceback_or_token(monkeypatch, tmp_path):
    attempts = []

    async def static_login(self, token):
        attempts.append(token)
        raise discord.LoginFailure("Improper token has been passed.")

    monkeypatch.setattr(discord.http.HTTPClient, "static_login", static_login)
    monkeypatch.setenv("CITEBOT_DISCORD_TOKEN", TOKEN)
    monkeypatch.setenv("CITEBOT_DATA_DIR", str(tmp_path / "data"))
    result = invoke("--verbose", "discord")
    assert attempts == [TOKEN]  # the token really was presented to the login
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "error: Discord rejected CITEBOT_DISCORD_TOKEN (login failed): check or reset the bot token"
    )
    assert "Traceback" not in result.stderr and TOKEN not in result.output + result.stderr


def test_token_is_redacted_from_log_records():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "connecting with %s now", (TOKEN,), None)
    assert RedactSecret(TOKEN).filter(record)
    assert record.getMessage() == "connecting with [redacted] now"


def test_bot_is_safe_by_default(tmp_path):
    bot = CitebotBot(Services(Settings(data_dir=tmp_path)))
    assert bot.allowed_mentions is not None and bot.allowed_mentions.to_dict() == {"parse": []}
    assert bot.intents.message_content and not bot.intents.members and not bot.intents.presences


# -- command sync --------------------------------------------------------------------------
class SyncRecorder:
    def __init__(self):
        self.calls = []

    async def __call__(self, *, guild=None):
        self.calls.append(guild.id if guild else None)
        return []


async def synced(tmp_path, *, sync=False, guild_id=None) -> list:
    bot = CitebotBot(Services(Settings(data_dir=tmp_path, discord_guild_id=guild_id)), sync=sync)
    await bot.load_features()
    recorder = SyncRecorder()
    bot.tree.sync = recorder  # type: ignore[method-assign]
    await bot.sync_commands()
    return recorder.calls


async def test_commands_sync_when_new_then_only_when_asked_or_changed(tmp_path):
    assert await synced(tmp_path) == [None]  # first start: global sync
    assert await synced(tmp_path) == []  # unchanged: no sync
    assert await synced(tmp_path, sync=True) == [None]  # --sync forces it
    state = json.loads((tmp_path / COMMANDS_STATE).read_text())
    state["global"] = "something else"  # as if the command set had changed since
    (tmp_path / COMMANDS_STATE).write_text(json.dumps(state))
    assert await synced(tmp_path) == [None]
    assert await synced(tmp_path, guild_id=1234) == [1234]  # the dev guild is its own scope
    assert await synced(tmp_path, guild_id=1234) == []


async def test_a_failed_sync_is_logged_and_retried_next_start(tmp_path, caplog):
    bot = CitebotBot(Services(Settings(data_dir=tmp_path, discord_guild_id=999)))
    await bot.load_features()

    async def forbidden(*, guild=None):
        raise discord.Forbidden(SimpleNamespace(status=403, reason="Forbidden"), {"message": "Missing Access"})

    bot.tree.sync = forbidden  # type: ignore[method-assign]
    assert await bot.sync_commands() is False
    assert "could not sync slash commands to guild:999" in caplog.text
    assert await synced(tmp_path, guild_id=999) == [999]  # nothing was recorded as synced


async def test_command_digest_changes_with_the_command_set(tmp_path):
    bot = CitebotBot(Services(Settings(data_dir=tmp_path)))
    await bot.load_features()
    before = command_digest(bot.tree, None)
    assert {c.name for c in bot.tree.get_commands()} == {"ask", "reingest", "citebot"}
    bot.tree.remove_command("reingest")
    assert command_digest(bot.tree, None) != before


# -- rate limit and policy -----------------------------------------------------------------
def test_rate_limiter_is_per_user_and_slides():
    now = [0.0]
    limiter = RateLimiter(2, 60, clock=lambda: now[0])
    assert limiter.hit(1) == 0 and limiter.hit(1) == 0
    assert limiter.hit(1) == pytest.approx(60)
    assert limiter.hit(2) == 0
    now[0] = 30
    assert limiter.hit(1) == pytest.approx(30)
    now[0] = 60.5
    assert limiter.hit(1) == 0
    assert RateLimiter(0).hit(1) == 0  # 0 disables


def test_rate_limiter_memory_is_bounded():
    limiter = RateLimiter(1, 60, clock=lambda: 0.0, max_keys=100)
    for user in range(1000):
        limiter.hit(user)
    assert len(limiter) == 100


def test_channel_policy():
    open_all = Settings()
    assert channel_allowed(open_all, 1, None, True)
    assert not channel_allowed(open_all, 1, None, False)  # DMs off by default
    assert channel_allowed(Settings(discord_allow_dms=True), 1, None, False)
    only = Settings(discord_channels="10,20")
    assert channel_allowed(only, 10, None, True)
    assert channel_allowed(only, 99, 20, True)  # a thread of an allowed channel
    assert not channel_allowed(only, 99, 30, True)


def test_admin_policy():
    s = Settings(discord_admin_roles="5")
    assert is_admin(s, True, [])
    assert is_admin(s, False, [1, 5])
    assert not is_admin(s, False, [1, 2])


# -- feedback ------------------------------------------------------------------------------
def test_user_hash_is_salted_per_questions_log_and_stable(tmp_path):
    def log_in(name: str) -> QuestionLog:
        return QuestionLog(tmp_path / f"{name}.sqlite")

    a, b = log_in("a"), log_in("b")
    assert a.hash_user(42) == a.hash_user(42) == log_in("a").hash_user(42)
    assert a.hash_user(42) != b.hash_user(42)  # a hash from one deployment says nothing elsewhere
    assert a.hash_user(42) != a.hash_user(43)


def test_summary_keeps_each_persons_latest_vote():
    votes = [
        {"time": "1", "vote": "up", "user": "u1", "message_id": "10", "question": "What is A?"},
        {"time": "2", "vote": "down", "user": "u1", "message_id": "10", "question": "What is A?"},  # changed
        {"time": "3", "vote": "down", "user": "u2", "message_id": "10", "question": "What is A?"},
        {"time": "4", "vote": "up", "user": "u2", "message_id": "11", "question": "What is B?"},
    ]
    summary = summarise(votes)
    assert (summary.votes, summary.up, summary.down, summary.answers) == (3, 1, 2, 2)
    assert summary.most_downvoted == [("What is A?", 2)]


def test_feedback_command_counts_the_votes_in_the_questions_log(tmp_path, monkeypatch):
    monkeypatch.setenv("CITEBOT_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("CITEBOT_DATA_DIR", str(tmp_path / "data"))
    result = invoke("feedback")
    assert result.exit_code == 1 and "no votes recorded yet" in result.stderr
    questions = Services(Settings()).questions
    assert questions is not None
    questions.record(
        NewQuestion(
            origin="discord",
            collection="",
            question="Why?",
            condensed="Why?",
            abstained=False,
            cited=["a.md"],
            time=time.time(),
            message_id="10",
        )
    )
    questions.vote(message_id="10", user=questions.hash_user(1), vote="down")
    questions.vote(message_id="10", user=questions.hash_user(2), vote="up")
    result = invoke("feedback")
    assert result.exit_code == 0, result.stderr
    assert "2 vote(s) on 1 answer(s): 1 👍, 1 👎 (50% positive)" in result.stdout
    assert "1 × Why?" in result.stdout
    data = json.loads(invoke("feedback", "--json").stdout)
    assert data["votes"] == 2 and data["most_downvoted"] == [{"question": "Why?", "down": 1}]
    monkeypatch.setenv("CITEBOT_QUESTIONS_LOG", "false")
    result = invoke("feedback")
    assert result.exit_code == 1 and "questions log is off" in result.stderr
