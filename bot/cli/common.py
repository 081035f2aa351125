"""What every `citebot` command shares: its Services, the error boundary, JSON output, common options."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer

from bot.errors import USER_ERRORS
from bot.services import Services
from bot.settings import load_settings

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger("citebot")

KOption = Annotated[int | None, typer.Option("-k", min=1, max=50, help="Passages to retrieve (default CITEBOT_TOP_K).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")]


def services_of(ctx: typer.Context) -> Services:
    """The command's Services, built from the settings on first use."""
    if ctx.obj is None:
        given = {"collection": ctx.meta.get("citebot.collection"), "sources": ctx.meta.get("citebot.sources")}
        ctx.obj = Services(load_settings(**{key: value for key, value in given.items() if value}))
    return ctx.obj  # type: ignore[no-any-return]


def user_errors(func: F) -> F:
    """Turn user-facing errors into one line on stderr and exit 1; let usage errors through."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except USER_ERRORS as exc:
            typer.echo("error: " + " ".join(str(exc).split()), err=True)  # one line, whatever the message
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


#: The logger of what a user is told once as it happens (ingest/embedding/onnx_export.py): shown by default.
NOTICES = "citebot.notices"


class PlainFormatter(logging.Formatter):
    """``warning: message``: what a user reads, without the time and the logger's name."""

    def format(self, record: logging.LogRecord) -> str:
        if record.levelno < logging.WARNING:  # a notice (see NOTICES): said as it is
            return record.getMessage()
        return f"{record.levelname.lower()}: {record.getMessage()}"


class VerboseFormatter(logging.Formatter):
    """``--verbose``: the time, the level and the logger's name too."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
