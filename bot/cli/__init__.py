"""The `citebot` command line: thin commands over Services, terminal rendering, chat, doctor."""
