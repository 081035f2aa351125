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
from urllib.parse import urlsplit

from ingest.errors import IngestError
from ingest.index.registry import SourceRecord, check_name, default_name
from ingest.index.store import Store
from ingest.report import IngestReport
from ingest.sources.folder import FolderSource
from ingest.sources.links import SiteLinks, detect, with_base
from ingest.sources.site import check_start_url, site_links

#: An unrecorded (pre-sources) index is taken to come from the folder ingested when that folder
#: still holds at least this share of its documents.
_SAME_FOLDER_SHARE = 0.5


def sources_to_ingest(
    store: Store,
    path: Path | str | None,
    *,
    name: str | None = None,
    excludes: Sequence[str] | None = None,
    site_url: str | None = None,
    default_folder: Path,
    max_bytes: int,
) -> list[SourceRecord]:
    """The sources to bring up to date (recorded in the index's registry before they are ingested).

    ``path``: the folder (or, as a string, the site's address) to add or refresh; None refreshes every
    source (or, for an index with none, adds ``default_folder``). ``name`` names a new source (default:
    the folder's name). ``excludes`` (gitignore globs) and ``site_url`` (where the folder is published),
    when given, replace the source's remembered ones. Each source's links are read again from its
    folder's site configuration.
    """
    if name is not None:
        check_name(name)
    if site_url is not None:
        site_url = check_site_url(site_url)
    records = store.sources()
    if path is None and records:
        given = "--name" if name is not None else "--site-url" if site_url is not None else ""
        if given:
            raise IngestError(f"{given} is for one folder: give its path too (citebot ingest PATH {given} ...)")
        return [_save(store, r) for r in records]
    if isinstance(path, str):
        record = _site(records, path, name, excludes, site_url)
    else:
        folder = path if path is not None else default_folder
        location = str(folder.expanduser().resolve())
        record = _match(store, records, location, name, max_bytes) or _new(records, location, name)
        if excludes:
            record = replace(record, excludes=tuple(excludes))
        if site_url is not None:
            record = replace(record, site_url=site_url)
    for other in records:  # an unrecorded (pre-sources) index is recorded now, where it is
        if not other.remembered and other.name != record.name:
            store.registry.save(other)
    return [_save(store, record)]


def check_site_url(url: str) -> str:
    """``url`` if it can be the address of a published site (http or https), else an ``IngestError``."""
    parsed = urlsplit(url.strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise IngestError(f"--site-url must be an http(s) address such as https://docs.example.org/, not {url!r}")
    return url.strip()


def _site(
    records: list[SourceRecord], url: str, name: str | None, excludes: Sequence[str] | None, site_url: str | None
) -> SourceRecord:
    """The record of the site crawled from ``url``: the one the index has, or a new one."""
    if excludes or site_url:
        raise IngestError(f"{'--exclude' if excludes else '--site-url'} is for folders; a site is crawled as it is")
    url = check_start_url(url)
    same = next((r for r in records if r.location == url), None)
    if same is None:
        return _new(records, url, name, kind="site")
    if name is not None and name != same.name:
        raise IngestError(f"{url} is already the source '{same.name}'")
    return same


def _new(records: list[SourceRecord], location: str, name: str | None, kind: str = "folder") -> SourceRecord:
    """A new source at ``location``, named ``name`` (default: from the location's last part), unless taken."""
    name = name or default_name(location)
    taken = next((r for r in records if r.name == name), None)
    if taken is not None:
        raise IngestError(
            f"the index already has a source named '{name}' ({taken.location}); name this one with --name NAME"
        )
    return SourceRecord(name=name, location=location, prefix="" if not records else f"/{name}/", kind=kind)


def _save(store: Store, record: SourceRecord) -> SourceRecord:
    """Remember ``record`` with its links (a folder's read again from its site configuration); readers see
    them at once."""
    if record.kind == "site":
        links: SiteLinks | None = site_links(record.location)
    else:
        links = detect(Path(record.location)) if record.location else None
        if record.site_url:
            links = with_base(links, record.site_url)
        links = links if links and links.base else None
    saved = store.registry.save(replace(record, links=links))
    store.refresh_lookup()
    return saved


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
