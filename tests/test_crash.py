"""Crash safety with real kills: SIGKILL an ingest between any two writes, or at a random moment.

After every kill the index must show only complete documents (each visible document is exactly
one version a clean ingest produces: never two versions, never half, never duplicates), and the
next run must bring it to exactly what a clean ingest gives.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.settings import Settings
from tests.crashcheck import (
    ROOT,
    IndexView,
    assert_complete,
    clean_view,
    driver_env,
    edit_corpus,
    open_view,
    record_writes,
    run_driver,
    view,
    write_corpus,
    writes,
)
from tests.support import FakeEmbedder, make_ingestor, make_store

#: Chunks per batch in the kill tests. Every test document has 4 chunks, so a batch holds the end of
#: one document and the start of the next, and each document becomes visible in its second batch.
BATCH = 3
Labelled = tuple[str, str, str, str]  # (collection role, method, "ids" or "where", what the write is)


@dataclass
class World:
    v1: Path
    v2: Path
    clean1: IndexView
    clean2: IndexView
    killed: dict[tuple[str, str], Path]  # (scenario, step) -> an index whose ingest was killed there


def protocol(changes: list[tuple[str, bool]], chunks: int, removals: bool) -> list[Labelled]:
    """The writes the crash-safe protocol makes for these changed documents (source, replaces an old version).

    Documents of ``chunks`` chunks each flow through batches of BATCH chunks. Each batch writes the
    placeholder manifest entries of the documents it starts, adds its chunks hidden, then, if it
    completes documents: one flip, the delete of their old versions (if any), their manifest entries.
    """
    batches: list[list[tuple[str, bool, bool, bool]]] = [[]]  # (source, starts here, ends here, has old)
    filled = 0
    for source, old in changes:
        start = 0
        while start < chunks:
            if filled == BATCH:
                batches.append([])
                filled = 0
            end = min(chunks, start + BATCH - filled)
            batches[-1].append((source, start == 0, end == chunks, old))
            filled += end - start
            start = end
    out: list[Labelled] = [("chunks", "modify", "ids", "begin")]
    for batch in batches:
        starting = [s for s, first, _, _ in batch if first]
        ending = [(s, old) for s, _, last, old in batch if last]
        if starting:
            out.append(("docs", "upsert", "ids", "placeholder " + " ".join(starting)))
        out.append(("chunks", "add", "ids", "add" + ("" if ending else " (no document completed)")))
        if ending:
            out.append(("chunks", "update", "ids", "flip " + " ".join(s for s, _ in ending)))
            if any(old for _, old in ending):
                out.append(("chunks", "delete", "ids", "delete old versions"))
            out.append(("docs", "upsert", "ids", "manifest " + " ".join(s for s, _ in ending)))
    if removals:
        out += [("chunks", "delete", "where", "removal"), ("docs", "delete", "ids", "removal from the manifest")]
    out.append(("chunks", "modify", "ids", "end"))
    return out


def _kill_points(fresh: list, edit: list) -> dict[tuple[str, str], int]:
    """Check both runs' writes against the protocol, then name the writes to kill after (1-based numbers)."""
    fresh_plan = protocol([(f"doc{d}.txt", False) for d in range(8)], 4, removals=False)
    edited = [("doc1.txt", True), ("doc3.txt", True), ("doc5.txt", True), ("renamed7.txt", False)]
    edit_plan = protocol([*edited, ("new/doc0.txt", False)], 4, removals=True)
    assert [w[1:] for w in fresh] == [p[:3] for p in fresh_plan]
    assert [w[1:] for w in edit] == [p[:3] for p in edit_plan]

    def first(plan: list[Labelled], label: str) -> int:
        return next(n for n, p in enumerate(plan, 1) if p[3].startswith(label))

    return {
        ("fresh", "after-partial-add"): first(fresh_plan, "add (no document completed)"),
        ("fresh", "after-flip"): first(fresh_plan, "flip"),
        ("fresh", "before-end"): len(fresh_plan) - 1,
        ("edit", "after-placeholder"): first(edit_plan, "placeholder"),
        ("edit", "after-hidden-add"): first(edit_plan, "add"),
        ("edit", "after-flip"): first(edit_plan, "flip"),
        ("edit", "after-delete-old"): first(edit_plan, "delete old"),
        ("edit", "after-removal"): first(edit_plan, "removal"),
        ("edit", "before-end"): len(edit_plan) - 1,
    }


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    base = tmp_path_factory.mktemp("crash")
    v1, v2 = base / "v1", base / "v2"
    write_corpus(v1, 8)
    edit_corpus(v1, v2)
    index_v1 = base / "index-v1"
    fresh = writes(run_driver(index_v1, v1, batch=BATCH))
    probe = base / "probe"
    shutil.copytree(index_v1, probe)
    edit = record_writes(probe, v2, batch=BATCH)  # in this process: the copy is not reused, so nothing must be flushed
    points = _kill_points(fresh, edit)
    points = {case: points[case] for case in STEPS}
    points[("orphan", "after-flip")] = points[("fresh", "after-flip")]

    def kill(case: tuple[str, str]) -> tuple[tuple[str, str], Path]:
        index = base / "-".join(case)
        if case[0] == "edit":
            shutil.copytree(index_v1, index)
        lines = run_driver(index, v2 if case[0] == "edit" else v1, points[case], batch=BATCH)
        assert lines[-1] == "PAUSED"
        return case, index

    with ThreadPoolExecutor(max_workers=4) as pool:  # the drivers are independent processes
        killed = dict(pool.map(kill, points))
    # the clean ingests use the default batch size: the end state must not depend on it
    return World(v1, v2, clean_view(v1, base / "clean1"), clean_view(v2, base / "clean2"), killed)


def _expect_at_kill(scenario: str, step: str, seen: IndexView, w: World) -> None:
    """Prove the kill landed where intended (the invariants alone would also hold for a no-op)."""
    d0, d1 = "doc0.txt", "doc1.txt"
    expected = {
        # doc0's first 3 chunks written, hidden: a document larger than a batch is not visible in part
        ("fresh", "after-partial-add"): lambda: seen.docs == {} and seen.hidden == 3 and seen.manifest == {d0: ""},
        # doc0 complete and visible; doc1's first 2 chunks hidden
        ("fresh", "after-flip"): lambda: (
            set(seen.docs) == {d0} and seen.hidden == 2 and seen.manifest == {d0: "", d1: ""}
        ),
        ("fresh", "before-end"): lambda: seen.state == w.clean1.state and seen.dirty,
        ("edit", "after-placeholder"): lambda: (
            seen.state == w.clean1.state and seen.manifest[d1] == "" and seen.hidden == 0
        ),
        ("edit", "after-hidden-add"): lambda: seen.state == w.clean1.state and seen.hidden == 3,
        # doc1's new version visible, its old 4 chunks and doc3's first 2 new ones hidden
        ("edit", "after-flip"): lambda: seen.state[d1] == w.clean2.state[d1] and seen.hidden == 6,
        ("edit", "after-delete-old"): lambda: seen.state[d1] == w.clean2.state[d1] and seen.hidden == 2,
        ("edit", "after-removal"): lambda: "doc6.txt" not in seen.docs and "doc6.txt" in w.clean1.docs,
        ("edit", "before-end"): lambda: seen.state == w.clean2.state and seen.dirty,
    }[(scenario, step)]
    assert expected(), f"state at the kill does not match {scenario}/{step}"


STEPS = [
    ("fresh", "after-partial-add"),
    ("fresh", "after-flip"),
    ("fresh", "before-end"),
    ("edit", "after-placeholder"),
    ("edit", "after-hidden-add"),
    ("edit", "after-flip"),
    ("edit", "after-delete-old"),
    ("edit", "after-removal"),
    ("edit", "before-end"),
]


@pytest.mark.drill
@pytest.mark.parametrize(("scenario", "step"), STEPS, ids=[f"{s}-{t}" for s, t in STEPS])
def test_sigkill_between_writes_leaves_complete_documents_and_next_run_finishes(world, tmp_path, scenario, step):
    index = world.killed[(scenario, step)]
    if scenario == "edit":
        docs, allowed, final = world.v2, (world.clean1, world.clean2), world.clean2
    else:
        docs, allowed, final = world.v1, (world.clean1,), world.clean1

    seen = open_view(index)
    assert_complete(seen, *allowed)
    _expect_at_kill(scenario, step, seen, world)

    store = make_store(index)
    report = make_ingestor(store, FakeEmbedder(), batch_chunks=BATCH).run(docs)
    done = view(store)
    assert done.state == final.state
    assert done.manifest == final.manifest
    assert done.hidden == 0 and not done.dirty
    assert done.generation > seen.generation  # caches refresh even when nothing was left to write
    assert not report.failed
    # nothing written before the kill is embedded again (hidden chunks included): a kill loses one batch at most
    assert report.embedded == len(final.stored - seen.stored)


def test_new_document_killed_after_flip_then_deleted_does_not_linger(world, tmp_path):
    """The placeholder manifest entry lets the next run remove chunks of a file deleted meanwhile."""
    index = world.killed[("orphan", "after-flip")]
    assert set(open_view(index).docs) == {"doc0.txt"}
    docs = tmp_path / "docs"
    shutil.copytree(world.v1, docs)
    (docs / "doc0.txt").unlink()
    store = make_store(index)
    make_ingestor(store, FakeEmbedder(), batch_chunks=BATCH).run(docs)
    assert view(store).state == clean_view(docs, tmp_path / "clean").state


@pytest.mark.e2e
def test_real_cli_killed_mid_ingest_then_rerun_equals_clean_ingest(tmp_path):
    """`citebot ingest` with the real model, SIGKILLed as soon as it has written a document."""
    docs = tmp_path / "docs"
    write_corpus(docs, 16, seed=7, paragraphs=5)
    # batches of 8 chunks: documents (about 5 chunks each) complete one or two at a time
    env = {**driver_env(), "CITEBOT_INDEX_DIR": str(tmp_path / "index"), "CITEBOT_INGEST_BATCH": "8"}
    cmd = [sys.executable, "-m", "bot.cli", "-v", "ingest", str(docs), "--json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    assert proc.stderr is not None
    for line in proc.stderr:
        if " added doc" in line:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL

    # same chunker as the CLI's defaults: same ids and texts as the real run
    clean = clean_view(docs, tmp_path / "clean", chunk_tokens=Settings().chunk_tokens)
    seen = open_view(tmp_path / "index", "citebot")
    assert seen.docs, "the kill came before any document was written"
    assert_complete(seen, clean)

    rerun = subprocess.run(cmd[:3] + cmd[4:], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    report = json.loads(rerun.stdout)
    assert report["added"] + report["updated"] + report["unchanged"] == 16 and not report["failed"]
    done = open_view(tmp_path / "index", "citebot")
    assert done.state == clean.state and done.manifest == clean.manifest
    assert done.hidden == 0 and not done.dirty
    if len(seen.docs) < 16:  # killed mid-run (nearly always): what was written is reused, not re-embedded
        assert report["embedded"] < sum(len(chunks) for chunks in clean.state.values())
