"""The Discord bot's features, one cog each; each receives its services through its constructor."""
