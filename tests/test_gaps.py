"""`citebot gaps`: grouping the questions log by topic, naming groups, the closest documents, the report's forms."""

from __future__ import annotations

import json
import time

import pytest

from bot.cli import gaps_view
from bot.questions.gaps import DEFAULT_SIMILARITY, build_report, group, parse_since, similarities, topics
from bot.questions.stats import compute, percentile
from bot.questions.store import NewQuestion, QuestionLog
from tests.support import FakeEmbedder, run_cli

#: Three topics a docs team might be missing, in several wordings (the fake model groups shared words).
KEYS = [
    "how do I rotate the api keys?",
    "rotate api keys without downtime",
    "can api keys be rotated automatically?",
    "rotating api keys every 90 days",
]
WEBHOOKS = [
    "does a webhook delivery retry when my server is down?",
    "webhook delivery retry policy",
    "how many times is a failed webhook delivery retried?",
]
EXPORT = ["export invoices to csv", "can I export my invoices as a csv file?"]
SIMILARITY = DEFAULT_SIMILARITY


def fill(log: QuestionLog) -> None:
    for q in KEYS:
        log.record(NewQuestion("cli", "docs", q, q, True, passages=[("security/keys.md", "Keys"), ("intro.md", "")]))
    for q in WEBHOOKS:
        log.record(NewQuestion("discord", "docs", q, q, True, passages=[("webhooks.md", "Delivery")], channel=5))
    for i, q in enumerate(EXPORT):  # answered, but the answer got a 👎
        log.record(NewQuestion("cli", "docs", q, q, False, cited=["billing.md"], message_id=f"m{i}"))
        log.vote(message_id=f"m{i}", user="someone", vote="down")
    for _ in range(3):
        q = "what is the rate limit of the api?"
        log.record(NewQuestion("cli", "docs", q, q, False, cited=["limits.md"], passages=[("limits.md", "")]))


def embed(texts):
    return FakeEmbedder().embed(texts)


def test_groups_hold_one_topic_each_named_by_their_most_typical_question(tmp_path):
    log = QuestionLog(tmp_path / "q.sqlite")
    fill(log)
    report = build_report(log.questions(), embed, since=0, similarity=SIMILARITY)
    groups = {t.name: t for t in report.gaps}
    assert sorted(t.count for t in report.gaps) == [2, 3, 4]
    keys = next(t for t in report.gaps if t.count == 4)
    assert keys.name in KEYS and set(keys.examples) <= set(KEYS) and len(keys.examples) == 3
    assert keys.documents[0].source == "security/keys.md" and keys.documents[0].section == "Keys"
    assert keys.documents[0].questions == 4
    hooks = next(t for t in report.gaps if t.count == 3)
    assert hooks.name in WEBHOOKS and hooks.documents[0].source == "webhooks.md"
    export = next(t for t in report.gaps if t.count == 2)
    assert export.downvoted == 2 and export.abstained == 0 and len(groups) == 3
    assert [(t.name, t.count) for t in report.asked] == [("what is the rate limit of the api?", 3)]
    assert report.cited == [("limits.md", 3)]
    assert (report.questions, report.abstained, report.downvoted, report.unanswered) == (12, 7, 2, 9)


def test_unrelated_questions_stay_apart_and_nothing_is_grouped_from_nothing():
    texts = ["rotate api keys", "bake sourdough bread", "rotate the api keys"]
    assert group(similarities(texts, embed(texts)), SIMILARITY) == [[0, 2], [1]]
    assert group(similarities([], []), SIMILARITY) == []
    assert topics([], embed) == []


def test_the_report_as_json_markdown_and_a_table(tmp_path):
    log = QuestionLog(tmp_path / "q.sqlite")
    fill(log)
    report = build_report(log.questions(), embed, since=time.time() - 86_400, similarity=SIMILARITY)
    data = json.loads(json.dumps(report.to_json()))
    assert data["gaps"][0]["count"] == 4 and data["gaps"][0]["closest_documents"][0]["source"] == "security/keys.md"
    assert data["most_cited"] == [{"source": "limits.md", "citations": 3}]
    md = gaps_view.markdown(report)
    assert md.startswith("## What the docs don't answer") and "| 1 | 4 |" in md and "`security/keys.md` § Keys" in md
    text = gaps_view.table(report)
    assert "12 question(s)" in text and "9 not answered (75%)" in text and "closest: security/keys.md § Keys" in text


def test_since_takes_periods_and_dates_and_refuses_nonsense():
    now = 1_000_000.0
    assert parse_since("7d", now) == now - 7 * 86_400
    assert parse_since("12h", now) == now - 12 * 3600
    assert parse_since("2026-11-01") > 0
    code, _, err = run_cli("gaps", "--since", "last tuesday")
    assert code == 1 and err.count("\n") == 1 and "--since" in err


def test_the_cli_reports_an_empty_log_without_loading_a_model(tmp_path, monkeypatch):
    monkeypatch.setenv("CITEBOT_DATA_DIR", str(tmp_path / "data"))
    code, out, _ = run_cli("gaps", "--since", "30d")
    assert code == 0 and "0 question(s)" in out and "No unanswered questions" in out
    code, out, _ = run_cli("--collection", "api-docs", "gaps", "--json")
    assert code == 0 and json.loads(out)["gaps"] == []
    code, _, err = run_cli("--collection", "no", "gaps")  # not a collection name: the settings' one-line error
    assert code == 1 and "CITEBOT_COLLECTION" in err and err.count("\n") == 1


def test_the_cli_says_so_when_the_log_is_off(monkeypatch):
    monkeypatch.setenv("CITEBOT_QUESTIONS_LOG", "false")
    code, _, err = run_cli("gaps")
    assert code == 1 and "CITEBOT_QUESTIONS_LOG" in err


def test_stats_count_abstentions_votes_and_the_p95_latency(tmp_path):
    log = QuestionLog(tmp_path / "q.sqlite")
    for i in range(20):
        log.record(NewQuestion("cli", "docs", f"q{i}", f"q{i}", i < 5, latency_ms=float(i + 1), message_id=i))
    log.vote(message_id=0, user="a", vote="up")
    log.vote(message_id=1, user="a", vote="down")
    stats = compute(log.questions())
    assert (stats.questions, stats.abstained, stats.up, stats.down) == (20, 5, 1, 1)
    assert stats.abstention_rate == 0.25 and stats.p95_ms == 19.0 and stats.p50_ms == 10.0
    assert percentile([], 95) is None


#: Three topics the docs don't cover, each in four wordings: a full question, a terse keyword line, a symptom.
OFF_TOPIC = {
    "sentry": [
        "how do I hook up Sentry so exceptions from tasks show up there with the task name and args?",
        "sentry celery integration",
        "task exceptions aren't showing up in Sentry, how do I wire it up?",
        "report failed celery tasks to sentry with their arguments",
    ],
    "prometheus": [
        "how do I expose celery worker metrics to Prometheus so grafana can show queue lengths?",
        "prometheus metrics for celery",
        "how do I get queue length graphs in grafana for celery?",
        "is there a /metrics endpoint for celery workers?",
    ],
    "docker": [
        "is there an official docker image for running the celery worker in production?",
        "official celery docker image?",
        "docker-compose service definition for a celery worker",
        "how should I containerize the celery worker for production?",
    ],
}


@pytest.mark.e2e
def test_one_topic_in_four_wordings_is_one_group_with_the_real_model(tmp_path, monkeypatch):
    monkeypatch.setenv("CITEBOT_INDEX_DIR", str(tmp_path / "index"))  # no index: rarity from the log itself
    log = QuestionLog(tmp_path / "index" / "questions.sqlite")
    for wordings in zip(*OFF_TOPIC.values()):  # asked interleaved, as a channel would
        for q in wordings:
            log.record(NewQuestion("cli", "celery", q, q, True))
    code, out, err = run_cli("gaps", "--json")
    assert code == 0, err
    groups = [set(g["examples"]) | {g["topic"]} for g in json.loads(out)["gaps"]]
    assert sorted(groups, key=sorted) == sorted((set(w) for w in OFF_TOPIC.values()), key=sorted)


@pytest.mark.e2e
def test_the_cli_groups_a_log_with_the_real_model(tmp_path, monkeypatch):
    monkeypatch.setenv("CITEBOT_INDEX_DIR", str(tmp_path / "index"))
    log = QuestionLog(tmp_path / "index" / "questions.sqlite")  # the log of that index, in its folder
    for q in ["how do I rotate the api keys?", "rotating API keys without downtime", "what is the refund policy?"]:
        log.record(
            NewQuestion(
                "cli", "citebot", q, q, True, passages=[("keys.md" if "key" in q.lower() else "billing.md", "")]
            )
        )
    code, out, err = run_cli("gaps", "--json")
    assert code == 0, err
    gaps = json.loads(out)["gaps"]
    assert [g["count"] for g in gaps] == [2, 1]
    assert gaps[0]["closest_documents"][0]["source"] == "keys.md"


def test_a_group_is_named_by_a_question_that_stands_on_its_own(tmp_path):
    log = QuestionLog(tmp_path / "q.sqlite")
    follow = "and can the api keys be rotated for it?"
    for _ in range(3):  # the most asked wording leans on its conversation
        log.record(NewQuestion("cli", "docs", follow, f"{follow} vault", True))
    log.record(NewQuestion("cli", "docs", "rotate api keys in vault", "rotate api keys in vault", True))
    (topic,) = build_report(log.questions(), embed, since=0, similarity=0.2).gaps
    assert topic.name == "rotate api keys in vault"
    only = QuestionLog(tmp_path / "only.sqlite")
    only.record(NewQuestion("cli", "docs", follow, f"{follow} vault", True))
    (topic,) = build_report(only.questions(), embed, since=0, similarity=0.2).gaps
    assert topic.name == f"{follow} vault"  # as it was searched: with the subject its conversation gave it
