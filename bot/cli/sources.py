"""`citebot sources`: the folders an index holds, and `citebot sources remove NAME`."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli import render
from bot.cli.common import JsonOption, print_json, services_of, user_errors

sources_app = typer.Typer(help="The sources (folders) the index holds.", no_args_is_help=False, rich_markup_mode=None)


@sources_app.callback(invoke_without_command=True)
@user_errors
def sources(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List the index's sources: name, folder, documents, chunks, last ingest."""
    if ctx.invoked_subcommand is not None:
        return
    rows = services_of(ctx).catalog.summaries()
    if as_json:
        print_json({"sources": rows})
    else:
        render.sources(rows)


@sources_app.command("remove")
@user_errors
def sources_remove(ctx: typer.Context, name: Annotated[str, typer.Argument(help="The source to remove.")]) -> None:
    """Remove a source and its documents from the index (the folder itself is not touched)."""
    removed = services_of(ctx).catalog.remove(name, on_wait=lambda line: render.err.print(line))
    render.err.print(f"removed source '{name}' ({removed} documents)")
