import re
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.errors import ConfigError
from bot.settings import Settings, load_settings

ENV_EXAMPLE = Path(__file__).parent.parent / ".env.example"


def test_env_example_lists_every_field_and_nothing_else():
    names = set(re.findall(r"^CITEBOT_([A-Z_]+)=", ENV_EXAMPLE.read_text(), re.MULTILINE))
    assert names == {name.upper() for name in Settings.model_fields}


def test_env_example_says_what_the_settings_class_says():
    """Each variable's comment starts with its field's description and its value is the field's default.

    .env.example is written by hand (grouped, with examples), so this is what keeps it from drifting:
    change a field's description or default and this fails until .env.example says the same.
    """
    text = ENV_EXAMPLE.read_text()
    entries = re.findall(r"((?:^#.*\n)+)^CITEBOT_([A-Z_]+)=(.*)$", text, re.MULTILINE)
    assert {name for _c, name, _v in entries} == {name.upper() for name in Settings.model_fields}
    drift = []
    for comment, name, value in entries:
        field = Settings.model_fields[name.lower()]
        lines = [line.lstrip("#").strip() for line in comment.splitlines()]
        said = " ".join(line for line in lines if line and not line.startswith(("---", "citebot settings")))
        if not said.startswith(field.description or "?"):
            drift.append(f"CITEBOT_{name}: comment {said!r} does not start with {field.description!r}")
        if field.default_factory is not None or isinstance(field.default, SecretStr):
            expected = ""  # computed or secret: left empty, which means the default
        elif field.default is None:
            expected = ""
        elif isinstance(field.default, bool):
            expected = str(field.default).lower()
        else:
            expected = str(field.default)
        if value != expected:
            drift.append(f"CITEBOT_{name}={value} but the default is {expected!r}")
    assert drift == []


def test_every_field_is_described():
    missing = [name for name, field in Settings.model_fields.items() if not field.description]
    assert missing == []


def test_design_fields_exist():
    for name in [
        "docs_dir",
        "index_dir",
        "collection",
        "chroma_host",
        "chroma_port",
        "embed_model",
        "embed_device",
        "top_k",
        "llm_base_url",
        "llm_model",
        "llm_api_key",
        "discord_token",
    ]:
        assert name in Settings.model_fields


def test_env_vars_are_read(monkeypatch):
    monkeypatch.setenv("CITEBOT_TOP_K", "7")
    monkeypatch.setenv("CITEBOT_DISCORD_CHANNELS", "12, 34")
    monkeypatch.setenv("CITEBOT_DISCORD_GUILD_ID", "")  # empty means default
    s = load_settings()
    assert s.top_k == 7
    assert s.discord_channels == [12, 34]
    assert s.discord_guild_id is None


def test_dotenv_file_is_read(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("CITEBOT_COLLECTION=from-dotenv\n")
    assert load_settings().collection == "from-dotenv"


def test_bad_value_is_one_line_naming_the_variable(monkeypatch):
    monkeypatch.setenv("CITEBOT_TOP_K", "many")
    with pytest.raises(ConfigError) as err:
        load_settings()
    message = str(err.value)
    assert "CITEBOT_TOP_K" in message
    assert "\n" not in message


def test_secrets_are_not_shown(monkeypatch):
    monkeypatch.setenv("CITEBOT_DISCORD_TOKEN", "super-secret-token")
    s = load_settings()
    assert "super-secret-token" not in repr(s)
    assert s.discord_token is not None and s.discord_token.get_secret_value() == "super-secret-token"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("CITEBOT_MAX_FILE_MB", "inf", "CITEBOT_MAX_FILE_MB: Input should be a finite number"),
        ("CITEBOT_LLM_TIMEOUT", "nan", "CITEBOT_LLM_TIMEOUT: Input should be a finite number"),
        ("CITEBOT_CACHE_DIR", "a-file", "CITEBOT_CACHE_DIR: Value error, a-file is a file, not a folder"),
        ("CITEBOT_INDEX_DIR", "a-file", "CITEBOT_INDEX_DIR: Value error, a-file is a file, not a folder"),
    ],
)
def test_values_that_used_to_end_in_tracebacks_are_one_line_errors(monkeypatch, tmp_path, variable, value, message):
    (tmp_path / "a-file").write_text("not a folder")
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert message in str(err.value) and "\n" not in str(err.value)


def test_a_dot_env_that_is_not_utf8_is_a_one_line_error(tmp_path):
    (tmp_path / ".env").write_bytes(b"CITEBOT_TOP_K=3\nCITEBOT_DOCS_DIR=caf\xe9\n")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert ".env is not UTF-8 text" in str(err.value) and "0xe9" in str(err.value)


def test_a_misspelt_variable_is_named_with_the_setting_it_resembles(monkeypatch, tmp_path, caplog):
    monkeypatch.setenv("CITEBOT_TOPK", "7")
    (tmp_path / ".env").write_text("CITEBOT_EMBED_DEVCE=cuda\n")
    settings = load_settings()
    assert settings.top_k == 4  # ignored, as before, but no longer silently
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert "CITEBOT_TOPK is not a citebot setting and is ignored; did you mean CITEBOT_TOP_K?" in warnings
    assert "CITEBOT_EMBED_DEVCE is not a citebot setting and is ignored; did you mean CITEBOT_EMBED_DEVICE?" in warnings


def test_a_line_of_dot_env_that_is_not_a_setting_is_named_once(tmp_path, caplog):
    (tmp_path / ".env").write_text("CITEBOT_TOP_K=3\nthis line is not valid\n")
    for _ in range(3):  # every command loads the settings more than once
        assert load_settings().top_k == 3
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings == [f"{tmp_path / '.env'} line 2 is not NAME=value and is ignored: this line is not valid"]
