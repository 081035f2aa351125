"""User-facing errors: their message is meant for people, not tracebacks.

Front ends convert them once: the CLI to one line on stderr and exit 1, Discord
to a short ephemeral reply. Anything else is a bug and is logged with its traceback.
"""

from __future__ import annotations

from ingest.errors import IngestError


class CitebotError(Exception):
    """Base of every error whose message can be shown to a user as it is."""


class ConfigError(CitebotError):
    """A setting is missing or has a bad value."""


class NotIngestedError(CitebotError):
    """A question was asked before any document was ingested."""


class LLMError(CitebotError):
    """The configured chat model could not be reached or failed."""


#: Errors whose message is fit for users, from either package.
USER_ERRORS: tuple[type[Exception], ...] = (CitebotError, IngestError)
