"""One cog per feature of the Discord bot: asking, keeping the index current, feedback votes."""
