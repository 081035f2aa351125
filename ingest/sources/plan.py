"""Which of an index's sources an ingest brings up to date, remembering a folder it has not seen.

``citebot ingest PATH`` adds the folder as a source (or refreshes it, if the index already has it);
``citebot ingest`` refreshes every source the index remembers. An index built before sources existed
is one source that nobody recorded: its first ingest records it, at the folder ingested if that
folder holds most of its documents (it was built from there), else at the configured docs folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from ingest.errors import IngestError
from ingest.index.registry import SourceRecord, check_name, default_name
from ingest.index.store import Store
from ingest.report import IngestReport
from ingest.sources.folder import FolderSource

#: An unrecorded (pre-sources) index is taken to come from the folder ingested when that folder
#: still holds at least this share of its documents.
_SAME_FOLDER_SHARE = 0.5


def sources_to_ingest(
    store: Store,
    path: Path | None,
    *,
    name: str | None = None,
    excludes: Sequence[str] | None = None,
    default_folder: Path,
    max_bytes: int,
) -> list[SourceRecord]:
    """The sources to bring up to date (recorded in the index's registry before they are ingested).

    ``path``: the folder to add or refresh; None refreshes every source (or, for an index with none,
    adds ``default_folder``). ``name`` names a new source (default: the folder's name). ``excludes``
    (gitignore globs), when given, replace the source's remembered ones.
    """
    if name is not None:
        check_name(name)
    records = store.sources()
    if path is None and records:
        if name is not None:
            raise IngestError(
                "--name names the folder being added: give its path too (citebot ingest PATH --name NAME)"
            )
        return [store.registry.save(r) if not r.remembered else r for r in records]
    folder = path if path is not None else default_folder
    location = str(folder.expanduser().resolve())
    record = _match(store, records, location, name, max_bytes)
    if record is None:
        name = name or default_name(location)
        taken = next((r for r in records if r.name == name), None)
        if taken is not None:
            raise IngestError(
                f"the index already has a source named '{name}' ({taken.location}); name this one with --name NAME"
            )
        record = SourceRecord(name=name, location=location, prefix="" if not records else f"/{name}/")
    if excludes:
        record = replace(record, excludes=tuple(excludes))
    for other in records:  # an unrecorded (pre-sources) index is recorded now, where it is
        if not other.remembered and other.name != record.name:
            store.registry.save(other)
    saved = store.registry.save(record)
    store.collections.first_source = next((r.name for r in store.sources() if not r.prefix), "")
    return [saved]


def _match(
    store: Store, records: list[SourceRecord], location: str, name: str | None, max_bytes: int
) -> SourceRecord | None:
    """The recorded source at ``location`` (or the unrecorded one the folder evidently built), if any."""
    same = next((r for r in records if r.location == location), None)
    if same is None:
        unrecorded = next((r for r in records if not r.remembered), None)
        if unrecorded is not None and _built_from(store, unrecorded, Path(location), max_bytes):
            same = replace(unrecorded, location=location, name=name or unrecorded.name)
    if same is not None and name is not None and name != same.name:
        raise IngestError(
            f"{location} is already the source '{same.name}'; to rename it, "
            f"`citebot sources remove {same.name}` and ingest it again with --name {name}"
        )
    return same


def _built_from(store: Store, record: SourceRecord, folder: Path, max_bytes: int) -> bool:
    """Whether ``folder`` holds most of the documents of ``record`` (an index recorded no folder for)."""
    if not folder.is_dir():
        return False
    keys = {key for key in store.manifest.documents() if record.owns(key)}
    if not keys:
        return False
    listing = FolderSource(folder, max_bytes).list(IngestReport())
    return len(keys & set(listing.stamps)) >= _SAME_FOLDER_SHARE * len(keys)
