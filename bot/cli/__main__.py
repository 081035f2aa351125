"""`python -m bot.cli` runs the `citebot` command line."""

from bot.cli.app import run

run()
