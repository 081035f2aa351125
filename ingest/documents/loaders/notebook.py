"""Jupyter notebooks -> blocks: Markdown cells as Markdown, code cells as code in the kernel's language.

Outputs are left out: they are results of running the code, often large, and rarely the answer's
words. nbformat reads every notebook version (and upgrades old ones) without running anything.
"""

from __future__ import annotations

from typing import Any

from ingest.documents.document import BlockBuilder, Document
from ingest.documents.loaders.markdown import walk_markdown
from ingest.errors import SkipFile


def load_notebook(text: str) -> Document:
    """A .ipynb file: its cells in order; the title from the notebook's metadata or its first heading."""
    import nbformat

    try:
        notebook = nbformat.reads(text, as_version=4, capture_validation_error={})
    except Exception as exc:  # nbformat raises JSON, schema and version errors of many kinds
        raise SkipFile(f"unreadable notebook ({type(exc).__name__})") from None
    meta: Any = notebook.get("metadata", {})
    language = str(
        (meta.get("language_info") or {}).get("name") or (meta.get("kernelspec") or {}).get("language") or ""
    )
    blocks = BlockBuilder()
    dropped: list[str] = []
    for cell in notebook.get("cells", []):
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        if cell.get("cell_type") == "markdown":
            walk_markdown(source, blocks, dropped)
        elif cell.get("cell_type") == "code":
            blocks.add("code", source, language)
    metadata: dict[str, Any] = {}
    if meta.get("title"):
        metadata["title"] = str(meta["title"])
    if dropped:
        metadata["dropped"] = dropped
    return Document(blocks.blocks, metadata)
