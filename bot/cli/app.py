"""The `citebot` command line: each command parses its options, calls Services, and formats the result.

Heavy libraries (torch, chromadb, llama-index, discord.py) are imported by the functions that use
them, so `citebot --help` stays fast and `citebot ask` never loads torch.
"""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from bot import __version__
from bot.cli import gaps_view, render
from bot.cli.chat import run_chat
from bot.cli.common import (
    NOTICES,
    JsonOption,
    KOption,
    PlainFormatter,
    VerboseFormatter,
    log,
    print_json,
    services_of,
    user_errors,
)
from bot.cli.doctor import run_checks
from bot.cli.sources import sources_app
from bot.errors import USER_ERRORS, CitebotError, ConfigError
from bot.evaluation.runner import format_summary, load_items, run_eval
from bot.questions.gaps import DEFAULT_SIMILARITY, build_report, parse_since
from bot.questions.recording import ask_and_log
from bot.questions.votes import summarise
from bot.schema import IngestReport, passage_json
from bot.source_catalog import watched_folders
from ingest.sources.site import is_url
from ingest.watch import WAIT_FOR_OTHER_INGEST_S, watch_changes

app = typer.Typer(
    name="citebot",
    help="Answers questions from your documents, citing the passage behind every claim.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


app.add_typer(sources_app, name="sources")


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
    collection: Annotated[
        str | None,
        typer.Option("--collection", help="The document set (Chroma collection) to use; default CITEBOT_COLLECTION."),
    ] = None,
    source: Annotated[
        list[str] | None,
        typer.Option(
            "--source",
            metavar="NAME",
            help="Answer only from this source of the index (repeatable; `citebot sources` lists them).",
        ),
    ] = None,
) -> None:
    """Answers questions from your documents, citing the passage behind every claim."""
    ctx.meta["citebot.collection"] = collection
    ctx.meta["citebot.sources"] = source
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(VerboseFormatter() if verbose else PlainFormatter())
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, handlers=[handler])
    logging.getLogger(NOTICES).setLevel(logging.INFO)
    ctx.obj = None  # Services are built on first use, inside the error boundary


@app.command()
@user_errors
def ingest(
    ctx: typer.Context,
    location: Annotated[
        str | None,
        typer.Argument(
            metavar="[PATH|URL]",
            help="Folder of documents, or the address of a published docs site (https://...: its pages are "
            "crawled), to add or refresh as a source; without it, every source the index has is refreshed "
            "(an index with none: CITEBOT_DOCS_DIR).",
            show_default=False,
        ),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option("--name", help="Name of the source PATH adds (default: the folder's name).", show_default=False),
    ] = None,
    site_url: Annotated[
        str | None,
        typer.Option(
            "--site-url",
            metavar="URL",
            help="Where PATH is published, so that citations link to its pages (default: read from mkdocs.yml, "
            "Sphinx conf.py, docusaurus.config.* or .vitepress/config.*).",
            show_default=False,
        ),
    ] = None,
    rebuild: Annotated[
        bool,
        typer.Option(
            "--rebuild", help="Build the index anew beside the old one, which answers until the new one is done."
        ),
    ] = False,
    watch: Annotated[
        bool, typer.Option("--watch", help="After ingesting, follow the folders and re-ingest changes.")
    ] = False,
    exclude: Annotated[
        list[str] | None,
        typer.Option(
            "--exclude",
            metavar="GLOB",
            help="Leave out files matching this gitignore-style glob (repeatable; remembered for the source; "
            "see also .citebotignore).",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Chunk and embed a folder of documents (.txt .md .mdx .rst .html .pdf .ipynb) into the index, incrementally.

    The index holds several sources: `citebot ingest PATH` adds a folder (or refreshes it), and each
    source is brought up to date alone; `citebot sources` lists them.
    """
    path: Path | str | None = location if location is None or is_url(location) else Path(location)
    if watch and isinstance(path, str):
        raise CitebotError("--watch follows folders; run `citebot ingest URL` again to re-crawl a site")
    services = services_of(ctx)
    with render.ingest_progress(enabled=not as_json) as progress:
        report = services.ingest(
            path,
            name=name,
            site_url=site_url,
            rebuild=rebuild,
            excludes=exclude,
            progress=progress,
            on_wait=lambda line: render.err.print(line),
        )
    where = str(path) if path is not None else services.catalog.label()
    if as_json:
        print_json(report.to_json())
    else:
        render.ingest_report(report, where)
    if not watch and not report.failed and not (report.added or report.updated or report.unchanged or report.removed):
        raise typer.Exit(1)  # a folder with nothing to index is a mistake to report, not a success
    if watch:
        _interrupt_on_ctrl_c()
        folders = [Path(path)] if path is not None else watched_folders(services.catalog.sources())
        render.err.print(f"watching {', '.join(str(f) for f in folders)} for changes (Ctrl-C to stop)")
        show = _report_printer(where, as_json, report)
        watch_changes(
            folders,
            lambda: services.ingest(path, wait=WAIT_FOR_OTHER_INGEST_S, on_wait=log.info),
            show,
            user_errors=USER_ERRORS,
        )
        render.err.print("stopped watching")


def _interrupt_on_ctrl_c() -> None:
    """Make Ctrl-C (SIGINT) stop the watch, whatever disposition this process inherited.

    A background job started by a non-interactive shell (``make test &``, a CI step, ``nohup``-style
    wrappers) gets SIGINT ignored, and an ignored signal stays ignored across exec, so Python never
    installs its KeyboardInterrupt handler and `kill -INT` would not stop the watch.
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _report_printer(folder: str, as_json: bool, first: IngestReport) -> Callable[[IngestReport], None]:
    """How the watch shows each re-ingest: one JSON object per line, or one summary line and the new problems."""
    if not as_json:
        return render.WatchReports(folder, first)

    def show(report: IngestReport) -> None:
        print(json.dumps(report.to_json(), ensure_ascii=False), flush=True)

    return show


@app.command()
@user_errors
def ask(
    ctx: typer.Context,
    question: Annotated[str, typer.Argument(help="The question to answer.")],
    k: KOption = None,
    as_json: JsonOption = False,
) -> None:
    """Answer a question from the indexed documents, with numbered citations."""
    services = services_of(ctx)
    if as_json or services.llm is None:
        result = ask_and_log(services, question, k=k, origin="cli").answer
        if as_json:
            print_json(result.to_json())
        else:
            render.answer(result)
        return
    with render.Streamer() as streamer:  # a model's answer appears one verified sentence at a time
        result = ask_and_log(services, question, k=k, origin="cli", on_sentence=streamer).answer
    render.answer(result, streamed=streamer.text)


@app.command()
@user_errors
def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="What to look for.")],
    k: KOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show the passages retrieval finds for a query, without composing an answer."""
    passages = services_of(ctx).search(query, k=k)
    if as_json:
        print_json({"query": query, "passages": [passage_json(i, p) for i, p in enumerate(passages, 1)]})
    else:
        render.passages(passages)


@app.command()
@user_errors
def chat(ctx: typer.Context, k: KOption = None) -> None:
    """Hold a conversation about the indexed documents; follow-up questions keep their context."""
    run_chat(services_of(ctx), k=k)


@app.command("eval")
@user_errors
def eval_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="JSON lines of {id, question, answers, sources, type?, evidence?}.")],
    k: KOption = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write one JSON line of results per question.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as one JSON object.")] = False,
) -> None:
    """Measure retrieval and answers on a file of questions with known sources and answers."""
    items = load_items(file)
    services = services_of(ctx)
    top_k = k or services.settings.top_k

    def progress(done: int, total: int) -> None:
        if not as_json and (done % 20 == 0 or done == total):
            render.err.print(f"  {done}/{total} questions")

    summary = run_eval(
        items,
        lambda q, n: services.search(q, n),
        lambda q, n: services.ask(q, k=n),
        top_k,
        out=out,
        progress=progress,
    )
    if as_json:
        print_json(summary.to_json())
    else:
        typer.echo(format_summary(summary))


@app.command()
@user_errors
def doctor(ctx: typer.Context) -> None:
    """Check settings, the model, the index, the Chroma server and the LLM, and say what to fix."""
    checks = run_checks(services_of(ctx))
    render.checks(checks)
    if any(c.status == "fail" for c in checks):
        raise typer.Exit(1)


@app.command("discord")
@user_errors
def discord_(
    ctx: typer.Context,
    sync: Annotated[bool, typer.Option("--sync", help="Sync slash commands now, even if they did not change.")] = False,
) -> None:
    """Run the Discord bot (CITEBOT_DISCORD_TOKEN); answers /ask and mentions until stopped."""
    # Imported here: discord.py costs about half a second, which no other command should pay.
    from bot.discord_bot.app import run_discord

    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how the bot is stopped
        run_discord(services_of(ctx), sync=sync)
    typer.echo("bot stopped", err=True)


@app.command()
@user_errors
def feedback(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Summarise the 👍/👎 votes given to the Discord bot's answers."""
    services = services_of(ctx)
    questions = services.questions
    if questions is None:
        raise ConfigError("the questions log is off (CITEBOT_QUESTIONS_LOG): votes are recorded there")
    votes = questions.votes()
    if not votes:
        raise CitebotError(f"no votes recorded yet in {questions.path}")
    summary = summarise(votes)
    if as_json:
        print_json(summary.to_json())
        return
    share = f" ({100 * summary.up / summary.votes:.0f}% positive)" if summary.votes else ""
    typer.echo(f"{summary.votes} vote(s) on {summary.answers} answer(s): {summary.up} 👍, {summary.down} 👎{share}")
    if summary.first:
        typer.echo(f"from {summary.first} to {summary.last}")
    if summary.most_downvoted:
        typer.echo("most 👎:")
        for question, n in summary.most_downvoted:
            typer.echo(f"  {n} × {question or '(question unknown)'}")


@app.command()
@user_errors
def gaps(
    ctx: typer.Context,
    since: Annotated[str, typer.Option("--since", help="Period: 7d, 12h, 2w, or a date (2026-11-01).")] = "7d",
    as_json: JsonOption = False,
    as_markdown: Annotated[bool, typer.Option("--markdown", help="Print Markdown, for pasting into an issue.")] = False,
    top: Annotated[int, typer.Option("--top", min=1, max=100, help="Topics shown in each list.")] = 10,
    similarity: Annotated[
        float,
        typer.Option(
            "--similarity",
            min=0.0,
            max=1.0,
            help="How alike two questions must be to group (0-1: meaning and shared rare words).",
        ),
    ] = DEFAULT_SIMILARITY,
) -> None:
    """Report what the documents don't answer: abstained and 👎 questions grouped by topic, with the closest pages.

    Reads the questions log (CITEBOT_QUESTIONS_LOG); with --collection, only that document set's questions.
    """
    services = services_of(ctx)
    start = parse_since(since)
    if services.questions is None:
        raise ConfigError("the questions log is off (CITEBOT_QUESTIONS_LOG=false): there is nothing to report")
    asked = services.questions.questions(since=start, collection=ctx.meta.get("citebot.collection"))
    embed, rarity = services.query_embedder.embed, services.rarity_if_indexed()
    report = build_report(asked, embed, since=start, similarity=similarity, rarity=rarity, top=top)
    if as_json:
        print_json(report.to_json())
    elif as_markdown:
        typer.echo(gaps_view.markdown(report))
    else:
        typer.echo(gaps_view.table(report))


def run() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    run()
