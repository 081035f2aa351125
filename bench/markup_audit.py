"""Count passages and titles that show markup to users: what issue 11 set out to remove.

Run by hand, on a folder (loaded and chunked with today's code) or on an existing index (what it
holds, whatever code built it):

    PYTHONPATH=. python bench/markup_audit.py --folder ../shared/eval/techdocs/corpus
    PYTHONPATH=. python bench/markup_audit.py --index /path/to/index --collection citebot

Markup counted (outside code): heading anchors ``{ #id }``, include/snippet directives,
admonition and tab fences, pilcrows, raw inline HTML tags, emphasis markers, Markdown links, and
Markdown bullets (``* item``) left at the start of a line.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingest.documents.chunking import Chunker, ChunkParams
from ingest.documents.loaders import SUPPORTED_SUFFIXES, load_document
from ingest.embedding.embedder import token_counter
from ingest.errors import SkipFile
from ingest.index.chroma_client import open_client
from ingest.index.store import Store
from tests.support import markup_in


def from_folder(folder: Path) -> Iterator[tuple[str, str, str]]:
    """(source, title, chunk text) for every chunk today's loaders and chunker make of ``folder``."""
    chunker = Chunker(ChunkParams(), token_counter("all-MiniLM-L6-v2"))
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.suffix.lower() not in SUPPORTED_SUFFIXES:
            continue
        rel = path.relative_to(folder).as_posix()
        try:
            doc = load_document(path, folder)  # as ingest reads it: includes from inside the folder
        except SkipFile as exc:
            print(f"skipped {rel}: {exc}", file=sys.stderr)
            continue
        for chunk in chunker.chunk(doc, {"source": rel}):
            yield rel, doc.title, chunk.text


def from_index(index: Path, collection: str) -> Iterator[tuple[str, str, str]]:
    store = Store(open_client(index), collection, {}, create=False)
    for chunk in store.reader.iter_chunks():
        yield chunk.meta.source, chunk.meta.title, chunk.text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--folder", type=Path)
    where.add_argument("--index", type=Path)
    parser.add_argument("--collection", default="citebot")
    parser.add_argument("--examples", type=int, default=0, help="print this many offending passages")
    args = parser.parse_args()
    rows = list(from_folder(args.folder) if args.folder else from_index(args.index, args.collection))
    kinds: Counter[str] = Counter()
    bad_chunks = 0
    shown = 0
    for source, _title, text in rows:
        found = markup_in(text)
        kinds.update(found)
        bad_chunks += bool(found)
        if found and shown < args.examples:
            shown += 1
            print(f"--- {source}: {', '.join(found)}\n{text[:400]}\n", file=sys.stderr)
    titles = {(source, title) for source, title, _ in rows}
    bad_titles = sum(bool(markup_in(title)) for _, title in titles)
    report = {
        "chunks": len(rows),
        "chunks_with_markup": bad_chunks,
        "documents": len(titles),
        "titles_with_markup": bad_titles,
        "by_kind": dict(kinds.most_common()),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
