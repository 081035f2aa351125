"""The `citebot discord` and `citebot feedback` commands, registered on the CLI app by cli.py."""

from __future__ import annotations

import contextlib
import json
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add the Discord commands to ``app`` (called once by bot/cli.py)."""
    from bot.cli import _services, user_errors

    @app.command("discord")
    @user_errors
    def discord_command(
        ctx: typer.Context,
        sync: Annotated[
            bool, typer.Option("--sync", help="Sync slash commands now, even if they did not change.")
        ] = False,
    ) -> None:
        """Run the Discord bot (CITEBOT_DISCORD_TOKEN); answers /ask and mentions until stopped."""
        from bot.discord_app import run_discord

        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how the bot is stopped
            run_discord(_services(ctx), sync=sync)
        typer.echo("bot stopped", err=True)

    @app.command("feedback")
    @user_errors
    def feedback_command(
        ctx: typer.Context,
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")] = False,
    ) -> None:
        """Summarise the 👍/👎 votes given to the Discord bot's answers."""
        from bot.feedback import load_summary

        settings = _services(ctx).settings
        summary = load_summary(settings.data_dir)
        if as_json:
            typer.echo(json.dumps(summary.to_json(), ensure_ascii=False, indent=2))
            return
        share = f" ({100 * summary.up / summary.votes:.0f}% positive)" if summary.votes else ""
        typer.echo(f"{summary.votes} vote(s) on {summary.answers} answer(s): {summary.up} 👍, {summary.down} 👎{share}")
        if summary.first:
            typer.echo(f"from {summary.first} to {summary.last}")
        if summary.most_downvoted:
            typer.echo("most 👎:")
            for question, n in summary.most_downvoted:
                typer.echo(f"  {n} × {question or '(question unknown)'}")
