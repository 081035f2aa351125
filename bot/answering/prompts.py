"""Prompt templates are files (``prompts/*.md``) with declared variables, rendered into chat messages.

A template starts with front matter declaring its variables, then has one section per message::

    ---
    variables: [passages, question]
    ---
    # system
    ...instructions...
    # user
    ...{{passages}}...{{question}}

A placeholder that is not declared, a declared variable the text never uses, a variable missing
at render time, or an unknown one passed in are all errors: a prompt and its caller cannot drift
apart silently. Values are substituted in one pass, so a document containing ``{{question}}`` is
never expanded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.answering.llm import Message, Role
from bot.errors import ConfigError

#: The prompts shipped with the project (the repository's top-level prompts/ folder).
DEFAULT_PROMPTS_DIR = Path(__file__).resolve().parents[2] / "prompts"

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_SECTION = re.compile(r"^# (system|user|assistant)\s*$", re.MULTILINE)
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


class PromptError(ConfigError):
    """A prompt file is missing or malformed, or was rendered with the wrong variables."""


@dataclass(frozen=True)
class PromptTemplate:
    """A parsed prompt file: its declared variables and its message sections."""

    name: str
    variables: frozenset[str]
    sections: tuple[tuple[Role, str], ...]

    @classmethod
    def parse(cls, name: str, text: str) -> PromptTemplate:
        """Parse and check a template's text (see the module docstring for the format)."""
        match = _FRONT_MATTER.match(text)
        if not match:
            raise PromptError(f"prompt '{name}' must start with front matter declaring its variables")
        try:
            meta = yaml.safe_load(match.group(1)) or {}
        except yaml.YAMLError as exc:
            raise PromptError(f"prompt '{name}': bad front matter ({exc})") from None
        declared = meta.get("variables") if isinstance(meta, dict) else None
        if not isinstance(declared, list) or not all(isinstance(v, str) for v in declared):
            raise PromptError(f"prompt '{name}': front matter needs `variables: [name, ...]`")
        body = text[match.end() :]
        heads = list(_SECTION.finditer(body))
        if not heads or body[: heads[0].start()].strip():
            raise PromptError(f"prompt '{name}': the text must be in sections '# system', '# user'...")
        sections: list[tuple[Role, str]] = []
        for i, head in enumerate(heads):
            end = heads[i + 1].start() if i + 1 < len(heads) else len(body)
            role: Role = head.group(1)  # type: ignore[assignment]
            sections.append((role, body[head.end() : end].strip()))
        used = {m.group(1) for _, content in sections for m in _PLACEHOLDER.finditer(content)}
        if undeclared := used - set(declared):
            raise PromptError(f"prompt '{name}' uses undeclared variables: {', '.join(sorted(undeclared))}")
        if unused := set(declared) - used:
            raise PromptError(f"prompt '{name}' declares variables it never uses: {', '.join(sorted(unused))}")
        return cls(name, frozenset(declared), tuple(sections))

    def render(self, values: Mapping[str, str]) -> list[Message]:
        """The messages with every placeholder replaced; the values must match the declaration."""
        if missing := self.variables - set(values):
            raise PromptError(f"prompt '{self.name}' needs values for: {', '.join(sorted(missing))}")
        if unknown := set(values) - self.variables:
            raise PromptError(f"prompt '{self.name}' has no variables named: {', '.join(sorted(unknown))}")
        return [
            Message(role, _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), content))
            for role, content in self.sections
        ]


@dataclass(frozen=True)
class Prompts:
    """The templates the LLM path uses."""

    answer: PromptTemplate
    condense: PromptTemplate


def load_prompts(folder: Path | None = None) -> Prompts:
    """Read and check ``answer.md`` and ``condense.md`` from ``folder`` (default: the shipped ones)."""
    folder = folder or DEFAULT_PROMPTS_DIR
    return Prompts(answer=load_template(folder / "answer.md"), condense=load_template(folder / "condense.md"))


def load_template(path: Path) -> PromptTemplate:
    """Read and check one prompt file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PromptError(f"cannot read prompt file {path}: {exc.strerror or exc}") from None
    return PromptTemplate.parse(path.stem, text)
