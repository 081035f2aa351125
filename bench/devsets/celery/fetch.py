#!/usr/bin/env python3
"""Fetch the Celery documentation corpus for the citebot `celery` dev set.

Downloads the pinned Celery sdist from PyPI with ``python -m pip download``,
checks its sha256, and extracts the prose sources under ``docs/`` into
``--dest`` (default: bench/devsets/celery/corpus, git-ignored).

Kept: files ending in .rst, .txt or .md, with their sub-folders.
Dropped: images, Sphinx themes and extensions (_static/, _templates/, _ext/,
templates/), build scripts (Makefile, make.bat, conf.py and other .py),
"Moved" .html redirect stubs, .DS_Store, THANKS (no suffix) and
spelling_wordlist.txt (a spell-checker word list, not prose).

Idempotent: if --dest already holds exactly the expected files (checked by a
digest over paths and contents) nothing is done. Standard library only.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

PACKAGE = "celery"
VERSION = "5.5.3"
SDIST = f"{PACKAGE}-{VERSION}.tar.gz"
SDIST_SHA256 = "6c972ae7968c2b5281227f01c3a3f984037d21c5129d07bf3550cc2afc6b10a5"
# Digest of the extracted corpus (see corpus_digest).
CORPUS_DIGEST = "b3fa06fa92d0c205803d3dd501964eb53367bd0118945c075f7593c07653e391"  # 236 files

KEEP_SUFFIXES = {".rst", ".txt", ".md"}
DROP_DIRS = {"_static", "_templates", "_ext", "_build", "templates", "images"}
DROP_FILES = {"spelling_wordlist.txt"}
DEFAULT_DEST = Path(__file__).resolve().parent / "corpus"


class FetchError(Exception):
    pass


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def corpus_digest(root: Path) -> tuple[str, int]:
    """sha256 over sorted 'relpath\\0sha256(content)\\n' lines of every file under root."""
    lines = []
    for p in sorted(root.rglob("*")):
        if p.is_file() or p.is_symlink():
            rel = p.relative_to(root).as_posix()
            lines.append(f"{rel}\0{sha256_file(p)}\n")
    return hashlib.sha256("".join(lines).encode()).hexdigest(), len(lines)


def keep(rel: PurePosixPath) -> bool:
    if any(part in DROP_DIRS or part.startswith(".") for part in rel.parts):
        return False
    return rel.suffix.lower() in KEEP_SUFFIXES and rel.name not in DROP_FILES


def download(workdir: Path) -> Path:
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--no-binary",
        ":all:",
        "--disable-pip-version-check",
        "-q",
        "-d",
        str(workdir),
        f"{PACKAGE}=={VERSION}",
    ]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise FetchError(f"pip download failed: {exc}") from None
    path = workdir / SDIST
    if proc.returncode != 0 or not path.is_file():
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise FetchError(f"pip download of {PACKAGE}=={VERSION} failed: {last}")
    return path


def extract(sdist: Path, out: Path) -> int:
    prefix = PurePosixPath(f"{PACKAGE}-{VERSION}", "docs")
    count = 0
    try:
        with tarfile.open(sdist, "r:gz") as tar:
            for member in tar:
                name = PurePosixPath(member.name)
                if not member.isfile() or name.parts[:2] != prefix.parts:
                    continue
                rel = PurePosixPath(*name.parts[2:])
                if ".." in rel.parts or rel.is_absolute() or not keep(rel):
                    continue
                target = out.joinpath(*rel.parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                src = tar.extractfile(member)
                if src is None:
                    continue
                with src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst)
                count += 1
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise FetchError(f"cannot extract {sdist}: {exc}") from None
    if count == 0:
        raise FetchError(f"no docs/ files found in {sdist}")
    return count


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dest", type=Path, default=DEFAULT_DEST, help="corpus folder to create (default: %(default)s)")
    ap.add_argument(
        "--sdist", type=Path, default=None, help=f"use an already downloaded {SDIST} instead of calling pip"
    )
    ap.add_argument("--force", action="store_true", help="replace --dest if it exists but does not match")
    args = ap.parse_args(argv)
    dest: Path = args.dest.resolve()

    try:
        if dest.exists():
            if not dest.is_dir():
                raise FetchError(f"{dest} exists and is not a folder")
            digest, n = corpus_digest(dest)
            if digest == CORPUS_DIGEST:
                print(f"corpus up to date: {dest} ({n} files, celery {VERSION})")
                return 0
            if any(dest.iterdir()) and not args.force:
                raise FetchError(
                    f"{dest} exists but does not match celery {VERSION} docs "
                    f"({n} files); rerun with --force to replace it"
                )

        with tempfile.TemporaryDirectory(prefix="celery-devset-") as tmp:
            tmpdir = Path(tmp)
            sdist = args.sdist if args.sdist else download(tmpdir)
            if not sdist.is_file():
                raise FetchError(f"sdist not found: {sdist}")
            got = sha256_file(sdist)
            if got != SDIST_SHA256:
                raise FetchError(f"sha256 mismatch for {sdist.name}: got {got}, expected {SDIST_SHA256}")
            staging = tmpdir / "corpus"
            staging.mkdir()
            count = extract(sdist, staging)
            digest, _ = corpus_digest(staging)
            if CORPUS_DIGEST and digest != CORPUS_DIGEST:
                raise FetchError(f"extracted corpus digest {digest} != expected {CORPUS_DIGEST}")
            dest.parent.mkdir(parents=True, exist_ok=True)
            if dest.exists():
                shutil.rmtree(dest)
            shutil.copytree(staging, dest)
        size = sum(p.stat().st_size for p in dest.rglob("*") if p.is_file())
        print(f"extracted {count} files ({size / 1e6:.2f} MB) from {SDIST} into {dest}")
        return 0
    except FetchError as exc:
        print(f"fetch.py: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("fetch.py: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
