"""Settings: notices.toml and the environment, validated once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from support.repos import SETTINGS

from notifier.errors import ConfigError
from notifier.settings import load_settings


def _repo_with(tmp_path: Path, toml: str) -> Path:
    (tmp_path / "notices.toml").write_text(toml, encoding="utf-8")
    return tmp_path


def test_project_settings_load() -> None:
    """When the project's notices.toml is read, then the documented defaults are in force."""
    settings = load_settings(SETTINGS.parent, {})
    assert settings.notice_period == timedelta(days=30)
    assert settings.timezone.key == "Asia/Shanghai"
    assert sorted(settings.services) == ["azure", "office365", "powerbi"]
    assert settings.services["powerbi"].name("en") == "Power BI"
    assert settings.mail_backend == "outbox"
    assert settings.database_url == f"sqlite:///{SETTINGS.parent.as_posix()}/var/notices.db"


def test_unknown_key_is_named(tmp_path: Path) -> None:
    """When a setting is misspelt, then the error names the key and the file."""
    repo = _repo_with(tmp_path, "[notices]\nnotice_perid_days = 10\n")
    with pytest.raises(ConfigError) as raised:
        load_settings(repo, {})
    assert "notices.notice_perid_days" in str(raised.value)
    assert str(raised.value).startswith(f"{repo / 'notices.toml'}:2: unknown setting")


def test_unknown_table_is_named(tmp_path: Path) -> None:
    """When a table is unknown, then the error names it and lists the known ones."""
    repo = _repo_with(tmp_path, "[sendgird]\nkey = 1\n")
    with pytest.raises(ConfigError, match=r"unknown table \[sendgird\]"):
        load_settings(repo, {})


def test_wrong_type_is_named(tmp_path: Path) -> None:
    """When a setting has the wrong type, then the error names the key and the expected type."""
    repo = _repo_with(tmp_path, '[notices]\nnotice_period_days = "30"\n')
    with pytest.raises(ConfigError, match="'notices.notice_period_days' must be an integer"):
        load_settings(repo, {})


def test_bool_is_not_an_integer(tmp_path: Path) -> None:
    """When an integer setting is given true, then it is refused rather than read as 1."""
    repo = _repo_with(tmp_path, "[mail]\nbatch_size = true\n")
    with pytest.raises(ConfigError, match="'mail.batch_size' must be an integer"):
        load_settings(repo, {})


def test_broken_toml_names_the_line(tmp_path: Path) -> None:
    """When notices.toml is not TOML, then the error names the file and line."""
    repo = _repo_with(tmp_path, "[notices]\ntimezone = \n")
    with pytest.raises(ConfigError) as raised:
        load_settings(repo, {})
    assert raised.value.line == 2


def test_unknown_timezone(tmp_path: Path) -> None:
    """When the timezone is not an IANA name, then the error says so."""
    repo = _repo_with(tmp_path, '[notices]\ntimezone = "Beijing"\n')
    with pytest.raises(ConfigError, match="no known time zone"):
        load_settings(repo, {})


def test_batch_size_limit(tmp_path: Path) -> None:
    """When a batch would exceed SendGrid's 1000 personalizations, then it is refused."""
    repo = _repo_with(tmp_path, "[mail]\nbatch_size = 1001\n")
    with pytest.raises(ConfigError, match="between 1 and 1000"):
        load_settings(repo, {})


def test_environment_secrets_are_masked(tmp_path: Path) -> None:
    """When a SendGrid key is set, then sendgrid is the backend and the key never prints."""
    settings = load_settings(tmp_path, {"SENDGRID_API_KEY": "SG.test-key-value"})
    assert settings.mail_backend == "sendgrid"
    assert settings.sendgrid_api_key is not None
    assert settings.sendgrid_api_key.reveal() == "SG.test-key-value"
    assert "SG.test" not in repr(settings) and "SG.test" not in str(settings.sendgrid_api_key)


def test_environment_overrides(tmp_path: Path) -> None:
    """When the environment names a database, backend and API host, then they are used."""
    settings = load_settings(
        tmp_path,
        {
            "NOTICES_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1/test",
            "NOTICES_MAIL_BACKEND": "smtp",
            "SENDGRID_API_HOST": "http://127.0.0.1:9999",
        },
    )
    assert settings.database_url.startswith("postgresql+psycopg://")
    assert settings.mail_backend == "smtp"
    assert settings.sendgrid_api_host == "http://127.0.0.1:9999"


def test_unknown_backend(tmp_path: Path) -> None:
    """When NOTICES_MAIL_BACKEND names no backend, then the error lists the valid ones."""
    with pytest.raises(ConfigError, match="outbox, sendgrid, smtp"):
        load_settings(tmp_path, {"NOTICES_MAIL_BACKEND": "pigeon"})
