"""Prompt files: declared variables are enforced, each shipped prompt renders."""

from pathlib import Path

import pytest

from bot.answering.prompts import DEFAULT_PROMPTS_DIR, PromptError, PromptTemplate, load_prompts, load_template


def test_each_shipped_prompt_renders_with_its_variables():
    prompts = load_prompts()
    answer = prompts.answer.render({"passages": '<passage id="1">Text.</passage>', "question": "Why?"})
    assert [m.role for m in answer] == ["system", "user"]
    assert "untrusted" in answer[0].content and "[n]" in answer[1].content
    assert '<passage id="1">Text.</passage>' in answer[1].content and "Question: Why?" in answer[1].content
    assert "{{" not in "".join(m.content for m in answer)
    condense = prompts.condense.render({"history": "User: why?\nAssistant: because.", "question": "when?"})
    assert [m.role for m in condense] == ["system", "user"]
    assert "User: why?" in condense[1].content and "when?" in condense[1].content


def test_missing_and_unknown_variables_are_errors():
    template = load_template(DEFAULT_PROMPTS_DIR / "answer.md")
    with pytest.raises(PromptError, match="needs values for: question"):
        template.render({"passages": "p"})
    with pytest.raises(PromptError, match="no variables named: extra"):
        template.render({"passages": "p", "question": "q", "extra": "x"})


def test_values_are_substituted_once():
    template = PromptTemplate.parse("t", "---\nvariables: [a, b]\n---\n# user\n{{a}} / {{ b }}")
    (message,) = template.render({"a": "{{b}}", "b": "B"})
    assert message.content == "{{b}} / B"  # a document quoting a placeholder is not expanded


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("# user\n{{a}}", "front matter"),
        ("---\nvariables: [a]\n---\n# user\n{{a}} {{b}}", "undeclared variables: b"),
        ("---\nvariables: [a, b]\n---\n# user\n{{a}}", "never uses: b"),
        ("---\nvariables: [a]\n---\nhello {{a}}", "sections"),
        ("---\nvariables: a\n---\n# user\n{{a}}", "variables: \\[name"),
    ],
)
def test_malformed_prompt_files_are_errors(text, error):
    with pytest.raises(PromptError, match=error):
        PromptTemplate.parse("t", text)


def test_a_missing_prompt_folder_is_a_clear_error(tmp_path: Path):
    with pytest.raises(PromptError, match="cannot read prompt file"):
        load_prompts(tmp_path)
