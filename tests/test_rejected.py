"""A question that names what does not serve the asker is answered with something else."""

from __future__ import annotations

import pytest

from bot.answering.extractive import AnswerOptions, extractive_answer
from bot.answering.rejected import Rejection, rejected_in
from bot.schema import Passage

ALWAYS = AnswerOptions(answer_confidence=0.0, closest_confidence=0.0)

CALLING = (
    "You can call a task using the `delay` method:\n\n"
    "```python\nadd.delay(2, 2)\n```\n\n"
    "The `apply_async` method takes execution options, such as `countdown`, the seconds to wait before "
    "the task runs:\n\n"
    "```python\nadd.apply_async((2, 2), countdown=600)\n```"
)
INSTALLING = (
    "Run the install script to get the standalone binary:\n\n"
    "```sh\ncurl -fsSL https://get.example.org/install.sh | sh -\n```\n\n"
    "If you don't have curl installed, use wget to run the install script:\n\n"
    "```sh\nwget -qO- https://get.example.org/install.sh | sh -\n```"
)


def page(text: str, source: str, section: str) -> Passage:
    return Passage(chunk_id=f"{source}#{section}", source=source, text=text, score=1.0, title="Docs", section=section)


@pytest.mark.parametrize(
    ("question", "lacking", "failing"),
    [
        ("our image has no curl. how do i run the install script?", {"curl"}, set()),
        ("how do I start it later? delay() runs it right away", set(), {"delay"}),
        ("the timedelta schedule only does intervals. what do I use for mondays?", set(), {"timedelta"}),
        ("I put a pdb.set_trace() in my task and the worker just blows past it", set(), {"pdb", "set_trace"}),
        ("validate a bare list from json, don't want to wrap it in a BaseModel. how?", set(), {"basemodel"}),
    ],
)
def test_what_the_asker_lacks_or_says_fails_is_read_from_the_question(question, lacking, failing):
    rejection = rejected_in(question)
    assert (set(rejection.lacking), set(rejection.failing)) == (lacking, failing)


@pytest.mark.parametrize(
    "question",
    [
        "EmailStr keeps yelling that email-validator isn't installed. what's the pip command?",  # wanted, not rejected
        "what's the time limit if I don't pass --time_limit?",
        "the schedule only runs once a day, how do I make it hourly?",  # common words are never rejected
        "how do I retry a task that failed?",
        "who planned an expert board for the company without investor directors?",  # not the asker's setup
        "with failover urls I get \"AttributeError: 'list' object has no attribute 'strip'\". which release fixed it?",
    ],
)
def test_a_question_that_rejects_nothing_specific_has_no_rejection(question):
    assert not rejected_in(question)


def test_a_sentence_echoes_the_rejected_name_unless_it_sets_it_aside_or_names_something_new():
    rejection = Rejection(failing=frozenset({"delay"}), asked=frozenset({"delay"}))
    assert rejection.echoes("You can call a task using the `delay` method:")
    assert not rejection.echoes("`delay` is a shortcut to `apply_async`, which takes execution options.")
    assert not rejection.echoes("Don't use `delay` when the task must wait.")
    assert not rejection.echoes("Use `apply_async` with a countdown.")
    assert not rejection.echoes("Switched the examples from `delay` to keyword arguments.")


def test_a_sentence_about_being_without_what_the_asker_lacks_is_their_case():
    rejection = rejected_in("our image has no curl. how do i run the install script?")
    assert rejection.stance("If you don't have curl installed, use wget:") == 1
    assert rejection.stance("Run the install script with curl:", "curl -fsSL https://x | sh -") == -1
    assert rejection.stance("Run the install script:", "curl -fsSL https://x | sh -") == -1  # the code it brings
    assert rejection.stance("The install script picks a build for your system.") == 0


def test_the_approach_the_question_says_runs_too_soon_is_not_the_answer():
    question = "how do I queue a job now but have it only start ten minutes later? delay() runs it right away"
    answer = extractive_answer(question, [page(CALLING, "userguide/calling.md", "Basics")], embed=None, options=ALWAYS)
    assert "apply_async((2, 2), countdown=600)" in answer.text
    assert "add.delay(2, 2)" not in answer.text


def test_a_tool_the_asker_does_not_have_is_not_the_command_given():
    question = "our docker image has no curl. how do i run the install script?"
    answer = extractive_answer(
        question, [page(INSTALLING, "installation.md", "Using a shell script")], embed=None, options=ALWAYS
    )
    assert "wget -qO-" in answer.text
    assert "curl -fsSL" not in answer.text
