"""The real `citebot` command line, run with the fake embedder: for tests that need a second process.

    python tests/cli_driver.py [citebot arguments...]

Everything is the shipped CLI (settings from the environment, Services, Chroma, the ingest lock,
the error boundary) except the embedding model, swapped through Services' own seam. With
``CLI_DRIVER_EMBED_DELAY=S`` every embedding call sleeps S seconds and the first one prints
``EMBEDDING`` on stderr, so a test knows the run is under way (holding the ingest lock) and has
time to act beside it.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support import FakeEmbedder


class SlowFakeEmbedder(FakeEmbedder):
    """The fake embedder, announcing its first call and sleeping before each one."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if self.calls == 0 and self.delay:
            print("EMBEDDING", file=sys.stderr, flush=True)
        time.sleep(self.delay)
        return super().embed(texts)


def main() -> None:
    import bot.cli.app as cli
    import bot.cli.common as common
    from bot.services import Services

    delay = float(os.environ.get("CLI_DRIVER_EMBED_DELAY", "0"))

    def services(settings: Any) -> Services:
        return Services(settings, embedder=SlowFakeEmbedder(delay))

    common.Services = services  # type: ignore[misc,assignment]
    cli.app(prog_name="citebot")


if __name__ == "__main__":
    main()
