import re
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.settings import Settings, load_settings

ENV_EXAMPLE = Path(__file__).parent.parent / ".env.example"


def test_env_example_lists_every_field_and_nothing_else():
    names = set(re.findall(r"^CITEBOT_([A-Z_]+)=", ENV_EXAMPLE.read_text(), re.MULTILINE))
    assert names == {name.upper() for name in Settings.model_fields}


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
