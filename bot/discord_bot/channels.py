"""Which document set answers in which Discord channel: the channel map, parsed once per setting value.

Written in ``CITEBOT_DISCORD_CHANNELS`` (``ID=SET``, ``ID=-`` to leave a channel out, ``*=SET`` for
every other channel; bare ids are the old allow-list) or in a TOML file named by
``CITEBOT_DISCORD_CHANNELS_FILE`` (docs/channels.md). An id may be a channel, a category, or a thread's
parent: a thread follows its parent channel, a channel its category, unless mapped itself.
"""

from __future__ import annotations

import re
import threading
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import discord

from bot.errors import ConfigError
from bot.services import Services
from bot.settings import Settings

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,58}[A-Za-z0-9]$")  # a Chroma collection name
LEAVE_OUT = "-"


@dataclass(frozen=True)
class DocSet:
    """A named set of documents: its Chroma collection and the folder /reingest reads, or some of the
    collection's sources (``citebot sources``): a channel that answers from the guide alone."""

    name: str
    collection: str
    docs_dir: Path
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChannelMap:
    """Channel, category or parent id -> set name (None: left out); ``default`` for the rest (None: left out)."""

    sets: dict[str, DocSet]
    channels: dict[int, str | None] = field(default_factory=dict)
    default: str | None = None

    def set_for(
        self, channel_id: int | None, parent_id: int | None = None, category_id: int | None = None
    ) -> DocSet | None:
        """The set that answers here, or None where the bot stays silent; the most specific id wins."""
        for key in (channel_id, parent_id, category_id):
            if key is not None and key in self.channels:
                name = self.channels[key]
                return None if name is None else self.sets[name]
        return None if self.default is None else self.sets[self.default]


def base_set(settings: Settings) -> DocSet:
    """The set the settings themselves describe (CITEBOT_COLLECTION over CITEBOT_DOCS_DIR)."""
    return DocSet(settings.collection, settings.collection, settings.docs_dir)


def from_entries(entries: list[int | str], settings: Settings) -> ChannelMap:
    """The map written in CITEBOT_DISCORD_CHANNELS; a set named there reads DOCS_DIR/<name>."""
    base = base_set(settings)
    sets = {base.name: base}
    channels: dict[int, str | None] = {}
    default: str | None = base.name
    bare = False
    star = False
    for raw in entries:
        text = str(raw).strip()
        key, eq, value = (part.strip() for part in text.partition("="))
        if not eq:
            bare = True
            channels[_id(key, text)] = base.name
            continue
        name = None if value == LEAVE_OUT else _set_name(value, text)
        if name is not None and name not in sets:
            sets[name] = DocSet(name, name, settings.docs_dir / name)
        if key == "*":
            star, default = True, name
        else:
            channels[_id(key, text)] = name
    if bare and not star:
        default = None  # a plain allow-list: the channels not listed get no answers
    return ChannelMap(sets, channels, default)


def from_file(path: Path, settings: Settings) -> ChannelMap:
    """The map in a TOML file: ``default``, ``[sets.NAME]`` (docs, collection) and ``[channels]``."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"CITEBOT_DISCORD_CHANNELS_FILE: cannot read {path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"CITEBOT_DISCORD_CHANNELS_FILE: {path} is not valid TOML: {exc}") from None
    where = f"CITEBOT_DISCORD_CHANNELS_FILE ({path})"
    unknown = set(data) - {"default", "sets", "channels"}
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; use default, [sets.NAME], [channels]")
    base = base_set(settings)
    sets = {base.name: base}
    for name, spec in _table(data.get("sets", {}), where, "sets").items():
        spec = _table(spec, where, f"sets.{name}")
        _set_name(name, f"[sets.{name}]")
        unknown_keys = set(spec) - {"docs", "collection", "sources"}
        if unknown_keys:
            raise ConfigError(f"{where}: [sets.{name}] has unknown key(s) {', '.join(sorted(unknown_keys))}")
        sources = spec.get("sources", [])
        if not isinstance(sources, list) or not all(isinstance(x, str) and x for x in sources):
            raise ConfigError(f"{where}: sets.{name}.sources must be a list of source names (see `citebot sources`)")
        # A set of sources is part of an index: the base collection unless it names another.
        collection = str(spec.get("collection", base.collection if sources else name))
        docs = Path(str(spec.get("docs", settings.docs_dir if sources else settings.docs_dir / name))).expanduser()
        sets[name] = DocSet(name, _set_name(collection, f"sets.{name}.collection"), path.parent / docs, tuple(sources))
    channels: dict[int, str | None] = {}
    for key, value in _table(data.get("channels", {}), where, "channels").items():
        channels[_id(key, f"[channels] {key}")] = _set_ref(value, sets, where, f"channel {key}")
    default = _set_ref(data.get("default", base.name), sets, where, "default")
    return ChannelMap(sets, channels, default)


def _set_ref(value: Any, sets: dict[str, DocSet], where: str, what: str) -> str | None:
    if value is False or value == LEAVE_OUT:
        return None
    if not isinstance(value, str) or value not in sets:
        known = ", ".join(sorted(sets))
        raise ConfigError(
            f"{where}: {what} names set {value!r}, which is not defined (sets: {known}; false leaves it out)"
        )
    return value


def _table(value: Any, where: str, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: {name} must be a table")
    return value


def _id(key: str, entry: str) -> int:
    if not key.isdigit():
        raise ConfigError(
            f"CITEBOT_DISCORD_CHANNELS: {entry!r} is not a channel or category id (digits), ID=SET, ID=- or *=SET"
        )
    return int(key)


def _set_name(name: str, entry: str) -> str:
    if not _NAME.match(name):
        raise ConfigError(
            f"CITEBOT_DISCORD_CHANNELS: {entry!r}: a set name is 3-60 letters, digits, '.', '_' or '-' "
            "(a Chroma collection name)"
        )
    return name


class ChannelSets:
    """The channel map (re-read when its setting or file changes) and one Services per set, sharing models."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.settings = services.settings
        self._lock = threading.Lock()
        self._map_key: tuple[Any, ...] | None = None
        self._map: ChannelMap | None = None
        self._services: dict[tuple[str, Path, tuple[str, ...]], Services] = {}

    @property
    def map(self) -> ChannelMap:
        """The current map; a bad one is a ConfigError with a one-line reason."""
        s = self.settings
        path = s.discord_channels_file
        stamp = path.stat().st_mtime_ns if path is not None and path.exists() else None
        key = (tuple(s.discord_channels), path, stamp, s.collection, s.docs_dir)
        with self._lock:
            if self._map is None or key != self._map_key:
                if path is not None and s.discord_channels:
                    raise ConfigError("set one of CITEBOT_DISCORD_CHANNELS and CITEBOT_DISCORD_CHANNELS_FILE, not both")
                self._map = from_file(path, s) if path is not None else from_entries(list(s.discord_channels), s)
                self._map_key = key
            return self._map

    def set_for(self, channel: Any, in_guild: bool = True) -> DocSet | None:
        """The set answering in a Discord channel or thread (DMs: the base set when allowed)."""
        if not in_guild:
            return base_set(self.settings) if self.settings.discord_allow_dms else None
        thread = isinstance(channel, discord.Thread)
        parent_id = channel.parent_id if thread else None
        holder = channel.parent if thread else channel
        category_id = getattr(holder, "category_id", None)
        return self.map.set_for(getattr(channel, "id", None), parent_id, category_id)

    def services_for(self, doc_set: DocSet) -> Services:
        """The Services answering from ``doc_set`` (one per set, built once; the models are the base's)."""
        key = (doc_set.collection, doc_set.docs_dir, doc_set.sources)
        if key == (self.settings.collection, self.settings.docs_dir, tuple(self.settings.sources)):
            return self.services
        with self._lock:
            if key not in self._services:
                self._services[key] = self.services.for_set(*key)
            return self._services[key]
