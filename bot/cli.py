"""The `citebot` command line: a thin shell over Services.

Heavy libraries (torch, chromadb, llama-index) are imported inside the commands that need them,
so `citebot --help` stays fast.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from bot import __version__

if TYPE_CHECKING:
    from bot.services import Services

app = typer.Typer(
    name="citebot",
    help="Answers questions from your documents, citing the passage behind every claim.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger("citebot")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"citebot {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress and details to stderr.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Answers questions from your documents, citing the passage behind every claim."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    ctx.obj = None  # Services are built on first use, inside the error boundary


def _services(ctx: typer.Context) -> Services:
    if ctx.obj is None:
        from bot.services import Services
        from bot.settings import load_settings

        ctx.obj = Services(load_settings())
    return ctx.obj  # type: ignore[no-any-return]


def user_errors(func: F) -> F:
    """Turn user-facing errors into one line on stderr and exit 1; let usage errors through."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from bot.errors import USER_ERRORS

        try:
            return func(*args, **kwargs)
        except USER_ERRORS as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


@app.command()
@user_errors
def ingest(
    ctx: typer.Context,
    path: Annotated[
        Path | None, typer.Argument(help="Folder of documents; defaults to CITEBOT_DOCS_DIR.", show_default=False)
    ] = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Delete the index and build it from scratch.")] = False,
    watch: Annotated[
        bool, typer.Option("--watch", help="After ingesting, follow the folder and re-ingest changes.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")] = False,
) -> None:
    """Chunk and embed a folder of documents (.txt .md .html .pdf) into the index, incrementally."""
    from bot import render

    services = _services(ctx)
    folder = path or services.settings.docs_dir
    with render.ingest_progress(enabled=not as_json) as progress:
        report = services.ingest(folder, rebuild=rebuild, progress=progress)
    if as_json:
        _print_json(report.to_json())
    else:
        render.ingest_report(report, folder)
    if watch:
        from bot.watch import watch_folder

        watch_folder(services, folder, as_json=as_json)


@app.command()
@user_errors
def ask(
    ctx: typer.Context,
    question: Annotated[str, typer.Argument(help="The question to answer.")],
    k: Annotated[
        int | None, typer.Option("-k", min=1, max=50, help="Passages to retrieve (default CITEBOT_TOP_K).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")] = False,
) -> None:
    """Answer a question from the indexed documents, with numbered citations."""
    result = _services(ctx).ask(question, k=k)
    if as_json:
        _print_json(result.to_json())
    else:
        from bot import render

        render.answer(result)


@app.command()
@user_errors
def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="What to look for.")],
    k: Annotated[
        int | None, typer.Option("-k", min=1, max=50, help="Passages to return (default CITEBOT_TOP_K).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")] = False,
) -> None:
    """Show the passages retrieval finds for a query, without composing an answer."""
    from bot.schema import passage_json

    passages = _services(ctx).search(query, k=k)
    if as_json:
        _print_json({"query": query, "passages": [passage_json(i, p) for i, p in enumerate(passages, 1)]})
    else:
        from bot import render

        render.passages(passages)


@app.command("eval")
@user_errors
def eval_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="JSON lines of {id, question, answers, sources, type?, evidence?}.")],
    k: Annotated[
        int | None, typer.Option("-k", min=1, max=50, help="Passages per question (default CITEBOT_TOP_K).")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write one JSON line of results per question.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as one JSON object.")] = False,
) -> None:
    """Measure retrieval and answers on a file of questions with known sources and answers."""
    from bot.evaluate import eval_command

    eval_command(ctx, file, k, out, as_json)


@app.command()
@user_errors
def doctor(ctx: typer.Context) -> None:
    """Check settings, the model, the index, the Chroma server and the LLM, and say what to fix."""
    from rich.text import Text

    from bot import render
    from bot.doctor import run_checks

    checks = run_checks(_services(ctx))
    marks = {"ok": ("✓", "green"), "warn": ("!", "yellow"), "fail": ("✗", "red")}
    for check in checks:
        mark, style = marks[check.status]
        line = Text(f"{mark} ", style=style)
        line.append(f"{check.name}: ", style="bold")
        line.append(check.detail)
        render.out.print(line)
        if check.fix and check.status != "ok":
            render.out.print(Text(f"    fix: {check.fix}", style=style))
    if any(c.status == "fail" for c in checks):
        raise typer.Exit(1)


from bot.discord_cli import register as _register_discord  # noqa: E402

_register_discord(app)


@app.command()
@user_errors
def chat(
    ctx: typer.Context,
    k: Annotated[
        int | None, typer.Option("-k", min=1, max=50, help="Passages to retrieve (default CITEBOT_TOP_K).")
    ] = None,
) -> None:
    """Hold a conversation about the indexed documents; follow-up questions keep their context."""
    from bot.chat_cli import run_chat

    run_chat(_services(ctx), k=k)


def run() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    run()
