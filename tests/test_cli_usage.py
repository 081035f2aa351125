"""The command line without the model: usage errors, one-line failures, a fast --help."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import run_cli as run


@pytest.fixture
def index_env(tmp_path, monkeypatch):
    monkeypatch.setenv("CITEBOT_INDEX_DIR", str(tmp_path / "index"))
    return tmp_path / "index"


def test_ask_before_ingest_is_one_line_error(index_env):
    code, out, err = run("ask", "anything at all?")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "citebot ingest" in err and "Traceback" not in err


def test_missing_folder_is_one_line_error(index_env, tmp_path):
    code, _, err = run("ingest", str(tmp_path / "missing"))
    assert code == 1 and err.startswith("error: folder not found") and err.count("\n") == 1


def cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=120,
    )


def test_help_and_version_do_not_import_heavy_libraries(tmp_path):
    probe = (
        "import sys, runpy; sys.argv=['citebot','--help']\n"
        "try:\n runpy.run_module('bot.cli', run_name='__main__')\nexcept SystemExit: pass\n"
        "heavy=[m for m in ('torch','chromadb','llama_index','sentence_transformers','discord','openai')"
        " if m in sys.modules]\n"
        "print('HEAVY', heavy)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60).stdout
    assert "HEAVY []" in out and "ingest" in out and "ask" in out
    version = cli("--version")
    assert version.returncode == 0 and version.stdout.startswith("citebot ")


def test_bad_setting_is_one_line_error_exit_1(tmp_path):
    result = cli("ask", "hello?", env={"CITEBOT_TOP_K": "lots"}, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "CITEBOT_TOP_K" in result.stderr


def test_usage_error_exits_2():
    assert cli("ask").returncode == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [("", "no questions"), ('{"question": "x"}\nnot json\n', "q.jsonl:2: bad eval line"), ('{"id": 1}\n', "bad eval")],
)
def test_eval_rejects_bad_files_with_one_line(tmp_path, content, message):
    questions = tmp_path / "q.jsonl"
    questions.write_text(content)
    code, stdout, err = run("eval", str(questions))
    assert code == 1 and message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_eval_missing_file_is_a_user_error(tmp_path):
    code, _, err = run("eval", str(tmp_path / "absent.jsonl"))
    assert code == 1 and "not found" in err
