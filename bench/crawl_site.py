"""Crawling a built docs site as a source, against `python -m http.server` on 127.0.0.1 (issue 35's targets).

Serves a copy of the techdocs dev set's built httpx site (15 pages, no sitemap: links are followed) and
measures, with the real model:

- the first crawl: pages indexed of the pages the site has, and its time;
- a re-crawl with nothing changed: its time against the first, and chunks embedded;
- one page edited, one deleted (and unlinked), one added (and linked): what the re-crawl reports;
- citations: every URL `citebot search` gives for the dev set's httpx questions answers 200, and its
  ``#anchor`` is an id in the page;
- answers: `citebot eval` on the dev set's questions about the httpx pages, the crawled index against
  an index of the same pages read from disk;
- memory: the peak RSS of crawling and indexing a generated site of 1,000 linked pages.

    PYTHONPATH=. .venv/bin/python bench/crawl_site.py

Writes bench/results/crawl_site.json. Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT.parent / "shared" / "eval" / "techdocs" / "corpus" / "httpx-site"
QUESTIONS = ROOT.parent / "shared" / "eval" / "techdocs" / "questions.jsonl"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/"
    for _ in range(100):
        try:
            httpx.get(base, timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    return proc, base


def citebot(env: dict[str, str], *args: str) -> tuple[dict[str, Any], float]:
    started = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "bot.cli", *args, "--json"], env=env, capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"citebot {' '.join(args)} failed: {run.stderr.strip()[-600:]}")
    return json.loads(run.stdout), round(time.perf_counter() - started, 2)


def httpx_questions(work: Path) -> tuple[Path, Path]:
    """The dev set's questions about the httpx pages: as the disk index names them, and as the crawl does."""
    disk, crawled = [], []
    for line in QUESTIONS.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        if item.get("sources") and all(s.startswith("httpx-site/") for s in item["sources"]):
            disk.append(item)
            crawled.append({**item, "sources": [s.removeprefix("httpx-site/") for s in item["sources"]]})
    paths = work / "q-disk.jsonl", work / "q-crawl.jsonl"
    for path, items in zip(paths, (disk, crawled)):
        path.write_text("".join(json.dumps(i) + "\n" for i in items), encoding="utf-8")
    return paths


def check_citations(env: dict[str, str], questions: Path) -> dict[str, Any]:
    urls: set[str] = set()
    for line in questions.read_text(encoding="utf-8").splitlines():
        found, _ = citebot(env, "search", json.loads(line)["question"], "-k", "4")
        urls.update(p["url"] for p in found["passages"] if p.get("url"))
    bad, elsewhere = [], [u for u in urls if not u.startswith("http://127.0.0.1:")]
    for url in sorted(set(urls) - set(elsewhere)):  # traffic to 127.0.0.1 only
        page, _, anchor = url.partition("#")
        response = httpx.get(page, timeout=10)
        if response.status_code != 200 or (anchor and not re.search(rf'id="{re.escape(anchor)}"', response.text)):
            bad.append(url)
    return {
        "urls": len(urls),
        "with_anchor": sum("#" in u for u in urls),
        "bad": bad,
        "not_the_crawled_site": elsewhere,
    }


def generated_site(folder: Path, pages: int) -> None:
    for i in range(pages):
        links = "".join(f'<a href="p{j}.html">page {j}</a> ' for j in (i + 1, i + 7, i * 3 + 1) if j < pages)
        body = " ".join(f"Paragraph {k} of page {i} says how setting {k} changes worker {i}." for k in range(12))
        (folder / ("index.html" if i == 0 else f"p{i}.html")).write_text(
            f"<html><head><title>Page {i}</title></head><body><nav>{links}</nav><main>"
            f'<h1 id="page-{i}">Page {i}</h1><h2 id="settings">Settings</h2><p>{body}</p></main></body></html>'
        )


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="citebot-crawl-bench-"))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "CITEBOT_CRAWL_DELAY": "0"}
    results: dict[str, Any] = {}
    site = work / "site"
    shutil.copytree(SITE, site)
    proc, base = serve(site)
    try:
        crawl_env = {**env, "CITEBOT_INDEX_DIR": str(work / "index-crawl")}
        first, seconds = citebot(crawl_env, "ingest", base)
        pages = len(list(site.rglob("*.html")))
        results["first_crawl"] = {
            "pages_in_site": pages,
            "indexed": first["added"],
            "failed": first["failed"],
            "skipped": first["skipped"],
            "chunks": first["chunks"],
            "seconds": seconds,
        }
        again, seconds_again = citebot(crawl_env, "ingest", base)
        results["first_crawl"]["pipeline_seconds"] = first["seconds"]
        results["recrawl_unchanged"] = {
            "pipeline_seconds": again["seconds"],
            "pipeline_share_of_first": round(again["seconds"] / first["seconds"], 3),
            "seconds": seconds_again,
            "share_of_first": round(seconds_again / seconds, 3),
            "embedded": again["embedded"],
            "unchanged": again["unchanged"],
        }

        disk_q, crawl_q = httpx_questions(work)
        results["citations"] = check_citations(crawl_env, crawl_q)
        crawled, _ = citebot(crawl_env, "eval", str(crawl_q))
        disk_env = {**env, "CITEBOT_INDEX_DIR": str(work / "index-disk")}
        shutil.copytree(SITE, work / "disk" / "httpx-site")
        citebot(disk_env, "ingest", str(work / "disk"))
        from_disk, _ = citebot(disk_env, "eval", str(disk_q))
        keys = ("questions", "hit_at_k", "recall_at_k", "mrr_at_10", "answer_accuracy", "abstain_answerable")
        results["answers"] = {"crawled": {k: crawled.get(k) for k in keys}, "disk": {k: from_disk.get(k) for k in keys}}

        edited = site / "quickstart" / "index.html"
        edited.write_text(edited.read_text().replace("</main>", "<p>A sentence added by the benchmark.</p></main>"))
        shutil.rmtree(site / "troubleshooting")
        home = site / "index.html"
        home.write_text(home.read_text().replace("</main>", '<p><a href="added.html">Added</a></p></main>'))
        (site / "added.html").write_text((site / "http2" / "index.html").read_text())
        changed, _ = citebot(crawl_env, "ingest", base)
        results["edit_delete_add"] = {k: changed[k] for k in ("added", "updated", "removed", "unchanged")}
    finally:
        proc.terminate()

    big = work / "big"
    big.mkdir()
    generated_site(big, 1000)
    proc, base = serve(big)
    try:
        big_env = {**env, "CITEBOT_INDEX_DIR": str(work / "index-big")}
        started = time.perf_counter()
        run = subprocess.run(
            ["/usr/bin/time", "-f", "MAXRSS_KB=%M", sys.executable, "-m", "bot.cli", "ingest", base, "--json"],
            env=big_env,
            capture_output=True,
            text=True,
        )
        peak_kb = int(re.findall(r"MAXRSS_KB=(\d+)", run.stderr)[-1])
        results["generated_1000_pages"] = {
            "indexed": json.loads(run.stdout)["added"],
            "seconds": round(time.perf_counter() - started, 1),
            "peak_rss_mb": peak_kb // 1024,  # the ingest process, or its reader child if larger (not summed)
        }
    finally:
        proc.terminate()
        shutil.rmtree(work, ignore_errors=True)
    out = ROOT / "bench" / "results" / "crawl_site.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
