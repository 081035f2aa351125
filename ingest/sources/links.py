"""Where a folder's documents are published: the page URL of each file and the anchor of each section.

A docs folder is usually the source of a site: MkDocs, Sphinx, Docusaurus or VitePress build it into
pages whose addresses follow from the file's path, and whose section anchors follow from the
heading (an explicit ``{#id}`` or Sphinx label first, else the generator's own slug rule); a
Docusaurus page's front-matter ``slug`` replaces its path. ``detect``
reads the generator's configuration as data (YAML, Python's ``ast`` for ``conf.py``, a literal in a
JavaScript config), never by running it; ``--site-url`` gives the address where the configuration
does not.
"""

from __future__ import annotations

import ast
import json
import logging
import re
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Any

log = logging.getLogger(__name__)

Style = str  # "mkdocs", "mkdocs-files", "sphinx", "docusaurus", "vitepress", "vitepress-clean", "plain", "site"

_PAGES = {".md", ".mdx", ".markdown", ".rst", ".txt", ".ipynb"}  # files that become a page of their own
_INDEX = {"index", "readme"}


@dataclass(frozen=True)
class SiteLinks:
    """How a source's files map to published pages: ``base`` + the page path (+ ``#anchor``).

    ``root`` is the folder inside the source that the site is built from (``docs/`` when the source is
    the repository holding ``mkdocs.yml``); files outside it have no page. ``route`` is a path the
    generator puts before every page (Docusaurus' ``docs/``).
    """

    base: str
    style: Style = "plain"
    root: str = ""
    route: str = ""

    def page(self, path: str, slug: str = "") -> str:
        """The published page of the file at ``path`` in the source, or "" when it has none.

        ``slug`` is the address its front matter gives (Docusaurus): from the docs root when it
        starts with ``/``, else from the file's folder.
        """
        if not self.base or not path.startswith(self.root):
            return ""
        if self.style == "site":  # a crawled page: its id is its URL's path, "index.html" for a folder
            return self.base + (path[: -len("index.html")] if path.rpartition("/")[2] == "index.html" else path)
        rel = PurePosixPath(path[len(self.root) :])
        folder = "" if str(rel.parent) == "." else f"{rel.parent}/"
        if slug and self.style == "docusaurus":
            return self.base + self.route + (slug.lstrip("/") if slug.startswith("/") else folder + slug)
        suffix = rel.suffix.lower()
        if suffix not in _PAGES:
            return self.base + str(rel) if suffix in {".html", ".htm", ".pdf"} else ""
        stem = rel.with_suffix("")
        index = stem.name.lower() in _INDEX
        if self.style == "mkdocs":
            page = folder if index else f"{stem}/"
        elif self.style == "sphinx":
            page = f"{stem}.html"
        elif self.style == "vitepress":
            page = folder if index else f"{stem}.html"
        elif self.style == "vitepress-clean":
            page = folder if index else str(stem)
        elif self.style == "docusaurus":
            parts = [re.sub(r"^\d+[-_.]", "", p) for p in stem.parts]
            page = "/".join(parts[:-1]) + ("/" if len(parts) > 1 else "") if index else "/".join(parts)
        else:  # mkdocs-files, plain: a page per file, an index as the folder's index.html
            page = f"{folder}index.html" if index else f"{stem}.html"
        return self.base + self.route + page

    def anchor(self, explicit: str, heading: str) -> str:
        """The id of a section: its explicit one, else the generator's slug of its heading."""
        if explicit or not heading or self.style == "site":  # a crawled page's ids are in the page itself
            return explicit
        if self.style.startswith("mkdocs") or self.style == "plain":
            return mkdocs_slug(heading)
        if self.style == "sphinx":
            return sphinx_slug(heading)
        if self.style == "docusaurus":
            return github_slug(heading)
        return vitepress_slug(heading)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> SiteLinks | None:
        try:
            data = json.loads(text) if text else None
            return cls(**data) if isinstance(data, dict) and data.get("base") else None
        except (ValueError, TypeError):
            return None


def with_base(links: SiteLinks | None, site_url: str) -> SiteLinks:
    """``links`` (as detected, or plain ones) published at ``site_url`` instead."""
    base = site_url.rstrip("/") + "/"
    return SiteLinks(base, links.style, links.root, links.route) if links else SiteLinks(base)


# -- the generators' slug rules -----------------------------------------------------------------
def mkdocs_slug(heading: str) -> str:
    """Python-Markdown's toc slugify (MkDocs' default): ASCII, word characters, spaces to ``-``."""
    value = unicodedata.normalize("NFKD", heading).encode("ascii", "ignore").decode("ascii")
    value = re.sub(r"[^\w\s-]", "", value).strip().lower()
    return re.sub(r"[-\s]+", "-", value)


def github_slug(heading: str) -> str:
    """github-slugger (Docusaurus): lower case, punctuation dropped, each space a ``-``."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def vitepress_slug(heading: str) -> str:
    """VitePress' slugify: accents and specials out, runs of them one ``-``, lower case."""
    value = re.sub(r"[\u0300-\u036f]", "", unicodedata.normalize("NFKD", heading))
    value = re.sub(r"[\s~`!@#$%^&*()\-_+=\[\]{}|\\;:\"'“”‘’<>,.?/]+", "-", value)
    value = re.sub(r"^-+|-+$", "", value)
    return re.sub(r"^(\d)", r"_\1", value).lower()


def sphinx_slug(heading: str) -> str:
    """docutils' ``make_id`` (Sphinx and MyST section ids)."""
    from docutils import nodes  # here: docutils is only needed where a Sphinx folder is linked

    return str(nodes.make_id(heading))


# -- reading the generator's configuration ---------------------------------------------------------
def detect(folder: Path) -> SiteLinks | None:
    """The links of a docs folder, from its generator's configuration in it or the folder above it.

    A configuration without a published address still gives the style (``base`` is then empty, and
    ``--site-url`` supplies it). None where no generator's configuration is found.
    """
    for read in (_mkdocs, _sphinx, _docusaurus, _vitepress):
        try:
            found = read(folder)
        except (OSError, ValueError, SyntaxError) as exc:
            log.warning("cannot read the site configuration near %s: %s", folder, exc)
            continue
        if found is not None:
            return found
    return None


def _root(folder: Path, site_dir: Path) -> str | None:
    """``site_dir`` as a path inside ``folder`` ("" when it is the folder), None when it is neither."""
    folder, site_dir = folder.resolve(), site_dir.resolve()
    if site_dir == folder:
        return ""
    if site_dir.is_relative_to(folder):
        return site_dir.relative_to(folder).as_posix() + "/"
    return None


def _base(url: object) -> str:
    return str(url).rstrip("/") + "/" if isinstance(url, str) and url.strip() else ""


def _mkdocs(folder: Path) -> SiteLinks | None:
    import yaml

    class Loader(yaml.SafeLoader):
        """Reads mkdocs.yml as data: ``!ENV`` and ``!!python/name:`` tags become plain values."""

    Loader.add_multi_constructor("", lambda loader, suffix, node: None)
    for config in (folder / "mkdocs.yml", folder / "mkdocs.yaml", folder.parent / "mkdocs.yml"):
        if not config.is_file():
            continue
        data = yaml.load(config.read_text(encoding="utf-8", errors="replace"), Loader=Loader) or {}
        if not isinstance(data, dict):
            return None
        root = _root(folder, config.parent / str(data.get("docs_dir") or "docs"))
        if root is None:
            continue
        style = "mkdocs-files" if data.get("use_directory_urls") is False else "mkdocs"
        return SiteLinks(_base(data.get("site_url")), style, root)
    return None


def _sphinx(folder: Path) -> SiteLinks | None:
    for here in (folder, folder / "docs", folder / "source", folder / "docs" / "source", folder / "doc"):
        config = here / "conf.py"
        if not config.is_file():
            continue
        root = _root(folder, here)
        if root is None:
            continue
        values = _assignments(config.read_text(encoding="utf-8", errors="replace"))
        return SiteLinks(_base(values.get("html_baseurl")), "sphinx", root)
    return None


def _assignments(source: str) -> dict[str, Any]:
    """The module-level ``NAME = literal`` assignments of a Python file, never running it."""
    out: dict[str, Any] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                out[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue  # computed (os.environ, f-strings): not data
    return out


_JS_STRING = r"""\s*:\s*(['"`])([^'"`$]*)\1"""


def _js_value(source: str, key: str) -> str | None:
    """A plain string literal given to ``key`` in a JavaScript/TypeScript config, if there is one."""
    found = re.search(rf"(?<![\w.]){key}{_JS_STRING}", source)
    return found.group(2) if found else None


def _docusaurus(folder: Path) -> SiteLinks | None:
    for here in (folder, folder.parent):
        for name in ("docusaurus.config.js", "docusaurus.config.ts", "docusaurus.config.mjs", "docusaurus.config.cjs"):
            config = here / name
            if not config.is_file():
                continue
            root = _root(folder, here / "docs")
            if root is None:
                continue
            source = config.read_text(encoding="utf-8", errors="replace")
            url, base_url = _js_value(source, "url"), _js_value(source, "baseUrl") or "/"
            site = _base(url.rstrip("/") + "/" + base_url.strip("/")) if url else ""
            route = _js_value(source, "routeBasePath")
            return SiteLinks(site, "docusaurus", root, "docs/" if route is None else _base(route).lstrip("/"))
    return None


def _vitepress(folder: Path) -> SiteLinks | None:
    for here in (folder, folder / "docs"):
        for name in ("config.mts", "config.ts", "config.mjs", "config.js"):
            config = here / ".vitepress" / name
            if not config.is_file():
                continue
            root = _root(folder, here)
            if root is None:
                continue
            source = config.read_text(encoding="utf-8", errors="replace")
            host, base = _js_value(source, "hostname"), _js_value(source, "base") or "/"
            site = _base(host.rstrip("/") + "/" + base.strip("/")) if host else ""
            clean = re.search(r"cleanUrls\s*:\s*true", source) is not None
            return SiteLinks(site, "vitepress-clean" if clean else "vitepress", root)
    return None
