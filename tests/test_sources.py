"""Several folders in one index: the real CLI and a real (embedded) Chroma; only the embedding model is the fake one."""

from __future__ import annotations

import functools
import json
import shutil
from pathlib import Path

import pytest

import bot.cli.common as cli
from bot.services import Services
from bot.settings import load_settings
from tests.support import FakeEmbedder
from tests.support import run_cli as run

GUIDE = {
    "index.md": "# Widgetlib guide\n\nInstall widgetlib with pip install widgetlib, then import it.\n",
    "install.md": "# Installing\n\nWidgetlib needs Python 3.10 or later and a C compiler for its extension.\n",
    "faq.md": "# FAQ\n\nThe default timeout of a widget request is thirty seconds.\n",
}
API = {
    "index.md": "# API reference\n\nThe connect function opens a socket to the gadget server on port 7400.\n",
    "errors.md": "# Errors\n\nA GadgetRefused error means the gadget server closed the socket.\n",
}


def folder(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).write_text(text)
    return root


@pytest.fixture
def embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embedder: FakeEmbedder) -> Path:
    monkeypatch.setattr(cli, "Services", functools.partial(Services, embedder=embedder))
    monkeypatch.setenv("CITEBOT_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("CITEBOT_DOCS_DIR", str(tmp_path / "nowhere"))
    return tmp_path


def cli_json(*args: str) -> dict:
    code, out, err = run(*args, "--json")
    assert code == 0, err
    return json.loads(out)


def sources(*args: str) -> dict[str, dict]:
    return {s["name"]: s for s in cli_json("sources", *args)["sources"]}


def found(query: str) -> list[tuple[str, str]]:
    return [(p["source_name"], p["source"]) for p in cli_json("search", query, "-k", "2")["passages"]]


def test_a_second_folder_is_a_second_source_and_the_first_stays(env):
    guide, api = folder(env / "guide", GUIDE), folder(env / "api", API)
    assert cli_json("ingest", str(guide))["added"] == 3
    assert cli_json("ingest", str(api))["added"] == 2  # before sources, this removed the guide's 3 documents

    listed = sources()
    assert list(listed) == ["guide", "api"]
    assert (listed["guide"]["documents"], listed["api"]["documents"]) == (3, 2)
    assert listed["guide"]["location"] == str(guide.resolve()) and listed["guide"]["chunks"] >= 3
    assert listed["api"]["last_ingest"]

    assert found("timeout of a widget request")[0] == ("guide", "faq.md")
    # both hold index.md: each keeps its own, named by its source, with its path as it is in the folder
    assert ("guide", "index.md") in found("install widgetlib with pip")
    assert ("api", "index.md") in found("connect function socket gadget server port")


def test_a_file_deleted_from_one_source_never_touches_the_other(env):
    guide, api = folder(env / "guide", GUIDE), folder(env / "api", API)
    cli_json("ingest", str(guide))
    cli_json("ingest", str(api))
    (api / "errors.md").unlink()
    report = cli_json("ingest", str(api))
    assert (report["removed"], report["unchanged"]) == (1, 1)
    listed = sources()
    assert (listed["guide"]["documents"], listed["api"]["documents"]) == (3, 1)

    (guide / "faq.md").write_text(GUIDE["faq.md"] + "\nRetries are off unless you set retries=3.\n")
    everything = cli_json("ingest")  # no folder: every source, each on its own
    assert (everything["updated"], everything["unchanged"], everything["removed"]) == (1, 3, 0)
    assert [s["name"] for s in everything["sources"]] == ["guide", "api"]


def test_removing_a_source_removes_its_documents_only(env):
    guide, api = folder(env / "guide", GUIDE), folder(env / "api", API)
    cli_json("ingest", str(guide))
    cli_json("ingest", str(api), "--name", "reference")
    code, _, err = run("sources", "remove", "reference")
    assert code == 0 and "removed source 'reference' (2 documents)" in err
    assert list(sources()) == ["guide"]
    assert all(name == "guide" for name, _ in found("connect function socket gadget server port"))
    assert api.is_dir() and len(list(api.iterdir())) == 2  # the folder itself is not touched

    code, _, err = run("sources", "remove", "reference")
    assert code == 1 and err.strip() == "error: no source named 'reference' in the index (its sources: guide)"


def test_names_are_checked_and_never_reused_for_another_folder(env):
    guide, api = folder(env / "guide", GUIDE), folder(env / "api", API)
    cli_json("ingest", str(guide))
    code, _, err = run("ingest", str(api), "--name", "guide")
    assert code == 1 and "already has a source named 'guide'" in err and len(err.strip().splitlines()) == 1
    code, _, err = run("ingest", str(api), "--name", "no/slashes")
    assert code == 1 and "invalid source name 'no/slashes'" in err
    code, _, err = run("ingest", str(guide), "--name", "other")
    assert code == 1 and "is already the source 'guide'" in err
    assert list(sources()) == ["guide"]


def test_a_missing_folder_is_reported_and_the_other_sources_are_refreshed(env):
    guide, api = folder(env / "guide", GUIDE), folder(env / "api", API)
    cli_json("ingest", str(guide))
    cli_json("ingest", str(api))
    shutil.rmtree(api)
    report = cli_json("ingest")
    assert report["unchanged"] == 3 and report["removed"] == 0
    assert report["failed"] == [{"path": "api", "reason": f"folder not found: {api.resolve()} (source 'api')"}]
    assert sources()["api"]["documents"] == 2  # kept: the folder may be on a drive not mounted now


def test_rebuild_rebuilds_every_source(env):
    guide, api = folder(env / "guide", GUIDE), folder(env / "api", API)
    cli_json("ingest", str(guide))
    cli_json("ingest", str(api))
    report = cli_json("ingest", "--rebuild")
    assert report["added"] == 5
    assert {n: s["documents"] for n, s in sources().items()} == {"guide": 3, "api": 2}


def test_an_index_from_before_sources_is_one_source_and_keeps_working(env, monkeypatch, embedder):
    guide, api = folder(env / "guide", GUIDE), folder(env / "api", API)
    # An index as the earlier citebot left it: documents keyed by their paths, no record of sources.
    old = Services(load_settings(), embedder=FakeEmbedder())
    old.ingestor().run(guide)
    assert not old.store().registry.all()

    monkeypatch.setenv("CITEBOT_DOCS_DIR", str(env / "docs"))
    listed = sources()
    assert list(listed) == ["docs"] and listed["docs"]["documents"] == 3  # named after CITEBOT_DOCS_DIR
    assert found("timeout of a widget request")[0] == ("docs", "faq.md")

    # Ingesting the folder it was built from recognises it: nothing is embedded again.
    before = embedder.texts_embedded
    report = cli_json("ingest", str(guide))
    assert (report["added"], report["unchanged"]) == (0, 3)
    assert list(sources()) == ["docs"] and sources()["docs"]["location"] == str(guide.resolve())
    assert embedder.texts_embedded == before

    assert cli_json("ingest", str(api))["added"] == 2
    assert {n: s["documents"] for n, s in sources().items()} == {"docs": 3, "api": 2}


def test_doctor_names_an_unrecorded_source_and_how_to_record_it(env, monkeypatch):
    guide = folder(env / "guide", GUIDE)
    Services(load_settings(), embedder=FakeEmbedder()).ingestor().run(guide)  # as an earlier citebot left it
    code, out, _ = run("doctor")
    assert "source 'docs'" not in out and "source 'nowhere'" in out and "is not recorded" in out
    assert "run `citebot ingest FOLDER` once with the folder it was built from" in out
    listed = sources()["nowhere"]
    assert listed["recorded"] is False and listed["documents"] == 3
    cli_json("ingest", str(guide))
    assert sources()["nowhere"]["recorded"] is True


def test_source_option_answers_from_the_named_sources_only(env):
    guide, api = folder(env / "guide", GUIDE), folder(env / "api", API)
    cli_json("ingest", str(guide))
    cli_json("ingest", str(api))
    assert {name for name, _ in found("connect function socket gadget server port")} == {"api"}
    code, out, err = run("--source", "guide", "search", "connect function socket gadget server port", "--json")
    assert code == 0, err
    assert {p["source_name"] for p in json.loads(out)["passages"]} == {"guide"}
    code, _, err = run("--source", "nope", "search", "widgets")
    assert code == 1 and err.strip() == "error: no source named 'nope' in the index (its sources: guide, api)"
