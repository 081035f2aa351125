"""Lines of ``.env`` that are not settings: said once, naming the file and the line.

pydantic-settings reads ``.env`` with python-dotenv once per ``Settings``, and a command builds
several: python-dotenv's own warning about a line it cannot parse came once per read, in logging's
format and without the file's name. It is silenced here, and ``check_env_file`` says it instead.
"""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger("bot.settings")
logging.getLogger("dotenv.main").setLevel(logging.ERROR)
_checked: set[tuple[str, float]] = set()


def check_env_file(path: Path = Path(".env")) -> None:
    """Warn, once per version of the file, about each line of ``.env`` that is not ``NAME=value`` (it is ignored)."""
    try:
        key = (str(path.resolve()), path.stat().st_mtime)
    except OSError:
        return
    if key in _checked:
        return
    _checked.add(key)
    from dotenv.parser import parse_stream  # pydantic-settings' own .env reader

    try:
        with path.open(encoding="utf-8") as stream:
            bad = [b.original for b in parse_stream(stream) if b.error]
    except (OSError, UnicodeDecodeError):
        return  # reading it for the settings says what is wrong
    for line in bad:
        log.warning("%s line %d is not NAME=value and is ignored: %s", key[0], line.line, line.string.strip()[:60])
