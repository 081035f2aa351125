"""The index the settings name, opened once per process and shared by everything in it.

One ``Store`` per process, checked against the settings' fingerprint whenever it is handed out;
readers follow a finished ``--rebuild`` through it, and a rebuild stages its new index here.
"""

from __future__ import annotations

import logging
import threading
import time

from bot import components
from bot.errors import NotIngestedError
from bot.questions.store import move_log
from bot.settings import QUESTIONS_FILE, Settings
from ingest.errors import IndexDamagedError
from ingest.index.chroma_client import Place, open_client, release_client
from ingest.index.store import Store

log = logging.getLogger(__name__)


class IndexAccess:
    """Opens the index (embedded folder or server), hands it out checked, follows and stages rebuilds."""

    def __init__(self, settings: Settings, store: Store | None = None) -> None:
        self.settings = settings
        self._store = store
        self._lock = threading.Lock()

    @property
    def default_folder(self) -> str:
        """The configured docs folder: where an index from before sources existed came from, as far as is known."""
        return str(self.settings.docs_dir.expanduser().resolve())

    @property
    def place(self) -> Place:
        """Where the index lives (embedded folder or server), with the server timeouts."""
        return components.place(self.settings)

    @property
    def missing(self) -> bool:
        """An embedded index whose folder does not exist yet: reading it must not create it."""
        p = self.place
        return not p.host and p.index_dir is not None and not p.index_dir.exists()

    def client(self) -> object:
        """A Chroma client for the index's place (the embedded one is shared per folder)."""
        p = self.place
        return open_client(p.index_dir, p.host, p.port, connect_timeout=p.connect_timeout, timeout=p.timeout)

    def store(self, *, create: bool = False) -> Store:
        """The index; with ``create`` it is made if missing. Checked against the settings either way."""
        with self._lock:
            if self._store is None or (create and not self._store.exists):
                fingerprint = components.fingerprint(self.settings)
                self._store = Store(
                    self.client(),
                    self.settings.collection,
                    fingerprint,
                    create=create,
                    place=self.place,
                    default_folder=self.default_folder,
                )
            self._store.check_fingerprint()
            return self._store

    def unchecked(self) -> Store:
        """The index as it is, not checked against the settings (a rebuild reads its sources from it)."""
        s = self.settings
        fingerprint = components.fingerprint(s)
        return Store(
            self.client(), s.collection, fingerprint, create=False, place=self.place, default_folder=self.default_folder
        )

    def current(self) -> Store | None:
        """The store this process has open, if any (without opening one)."""
        with self._lock:
            return self._store

    def follow(self) -> None:
        """Move this process's readers to the index a finished ``--rebuild`` switched to (a cheap check)."""
        store = self.current()
        if store is not None and store.follow():
            store.check_fingerprint()

    def ready(self) -> Store:
        """The index, which must hold documents (else a NotIngestedError saying how to fill it)."""
        store = None if self.missing else self.store()  # looking must not create it
        if store is None or not store.reader.has_chunks():
            s = self.settings
            where = f"Chroma server {s.chroma_host}:{s.chroma_port}" if s.chroma_host else str(s.index_dir)
            raise NotIngestedError(
                f"no documents are indexed yet in {where} (collection '{s.collection}'); "
                "run `citebot ingest [FOLDER]` first"
            )
        return store

    def staged_rebuild(self) -> Store:
        """The new, empty index a rebuild fills beside the live one; an embedded index too damaged to use is
        moved aside first (kept, renamed ``<folder>.damaged-<time>``), less its questions log, which stays."""
        s = self.settings
        fingerprint = components.fingerprint(s)
        try:
            return Store(
                self.client(),
                s.collection,
                fingerprint,
                create=False,
                place=self.place,
                default_folder=self.default_folder,
            ).staged()
        except IndexDamagedError:
            if s.chroma_host or not s.index_dir.is_dir():
                raise
        aside = s.index_dir.with_name(f"{s.index_dir.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
        release_client(s.index_dir)
        s.index_dir.rename(aside)
        log.warning("moved the damaged index %s aside to %s; building a new one", s.index_dir, aside)
        move_log(aside / QUESTIONS_FILE, s.index_dir / QUESTIONS_FILE)  # the questions asked are not the damage
        with self._lock:
            self._store = None
        return Store(
            self.client(), s.collection, fingerprint, create=False, place=self.place, default_folder=self.default_folder
        ).staged()

    def adopt(self, staged: Store) -> None:
        """After a rebuild switched readers over: a process that had no index open uses the new one."""
        with self._lock:
            if self._store is None:
                self._store = staged
