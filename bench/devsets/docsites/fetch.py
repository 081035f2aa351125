#!/usr/bin/env python3
"""Assemble the docsites dev set's corpus from a git copy of the projects, at pinned commits.

    python bench/devsets/docsites/fetch.py --vitepress VITEPRESS_GIT_DIR --pnpm PNPM_IO_GIT_DIR   # -> corpus/

Each page is read with ``git show COMMIT:PATH`` and checked against the sha256 below, so the corpus
is the same wherever it is built. Standard library only; every failure is one line.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
VITEPRESS_COMMIT = "ed2bfb266ef788e86d1a73fe3cd7708a4cd5e260"
#: corpus path -> path in the vitepress repository (sha256 of each in SHA256SUMS beside this file)
VITEPRESS = {
    "vitepress/guide/getting-started.md": "docs/en/guide/getting-started.md",
    "vitepress/guide/deploy.md": "docs/en/guide/deploy.md",
    "vitepress/guide/routing.md": "docs/en/guide/routing.md",
    "vitepress/guide/frontmatter.md": "docs/en/guide/frontmatter.md",
    "vitepress/guide/asset-handling.md": "docs/en/guide/asset-handling.md",
    "vitepress/guide/i18n.md": "docs/en/guide/i18n.md",
    "vitepress/guide/sitemap-generation.md": "docs/en/guide/sitemap-generation.md",
    "vitepress/guide/using-vue.md": "docs/en/guide/using-vue.md",
    "vitepress/guide/markdown.md": "docs/en/guide/markdown.md",
}


PNPM_COMMIT = "4096ad35b19c7d7e0c2c64c704c57daf5bb91668"
#: corpus path -> path in the pnpm.io repository (a Docusaurus site: MDX partials, admonitions)
PNPM = {
    f"pnpm/{name}": f"docs/{name}"
    for name in (
        "installation.md",
        "motivation.md",
        "catalogs.md",
        "filtering.md",
        "cli/add.md",
        "cli/install.md",
        "settings/_catalogMode.mdx",
        "settings/_catalogPrune.mdx",
        "settings/_cpuFlag.mdx",
        "settings/_osFlag.mdx",
        "settings/_libcFlag.mdx",
    )
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vitepress", type=Path, required=True, help="the vitepress repository's git directory")
    ap.add_argument("--pnpm", type=Path, required=True, help="the pnpm/pnpm.io repository's git directory")
    ap.add_argument("--dest", type=Path, default=HERE / "corpus")
    args = ap.parse_args()
    sums = dict(line.split("  ", 1)[::-1] for line in (HERE / "SHA256SUMS").read_text().splitlines() if line)
    pages = [(rel, path, args.vitepress, VITEPRESS_COMMIT) for rel, path in VITEPRESS.items()]
    pages += [(rel, path, args.pnpm, PNPM_COMMIT) for rel, path in PNPM.items()]
    for rel, repo_path, repo, commit in pages:
        try:
            data = subprocess.run(
                ["git", "--git-dir", str(repo), "show", f"{commit}:{repo_path}"],
                check=True,
                capture_output=True,
            ).stdout
        except (OSError, subprocess.CalledProcessError) as exc:
            print(f"fetch.py: error: cannot read {repo_path} at {commit[:8]}: {exc}", file=sys.stderr)
            return 1
        digest = hashlib.sha256(data).hexdigest()
        if sums.get(rel) != digest:
            print(f"fetch.py: error: {rel} has sha256 {digest}, expected {sums.get(rel)}", file=sys.stderr)
            return 1
        out = args.dest / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
    print(f"corpus ready in {args.dest} ({len(pages)} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
