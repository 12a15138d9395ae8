from __future__ import annotations

from pathlib import Path

import pytest

from lapor.settings import Settings, SettingsError


def load(**environ: str) -> Settings:
    return Settings.load(environ=environ, env_file=None)


def test_defaults() -> None:
    settings = load()
    assert settings.data_dir == Path("var")
    assert settings.database_url == "sqlite:///var/lapor.db"
    assert settings.timezone.key == "Asia/Makassar"
    assert settings.deadline_rules.verify_days == 3


@pytest.mark.parametrize(
    "name, value",
    [
        ("LAPOR_TIMEZONE", "Mars/Olympus"),
        ("LAPOR_BASE_URL", "ftp://x"),
        ("LAPOR_DATABASE_URL", "mysql://x"),
        ("LAPOR_VERIFY_DAYS", "three"),
        ("LAPOR_SUBMIT_LIMIT_PER_ADDRESS", "lots"),
        ("LAPOR_SECRET_KEYS", "short"),
        ("LAPOR_EXTRA_HOLIDAYS", "2026-13-01"),
        ("LAPOR_DEFAULT_LANGUAGE", "fr"),
        ("LAPOR_WHATSAPP_VERIFY_TOKEN", "short"),
        ("LAPOR_WHATSAPP_GRAPH_URL", "graph.facebook.com"),
        ("LAPOR_WHATSAPP_LIMIT_PER_NUMBER", "lots"),
        ("LAPOR_WHATSAPP_GATHER_SECONDS", "-1"),
        ("LAPOR_PHOTO_STORAGE", "s3"),
    ],
)
def test_bad_values_name_the_setting(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load(**{name: value})


def test_env_file_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("LAPOR_TIMEZONE=Asia/Jakarta\nLAPOR_MAIL_FROM=a@b.go.id\n")
    settings = Settings.load(environ={"LAPOR_MAIL_FROM": "env@b.go.id"}, env_file=env_file)
    assert settings.timezone.key == "Asia/Jakarta" and settings.mail_from == "env@b.go.id"


def test_unknown_key_in_env_file_is_refused(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("LAPOR_TIMEZONES=Asia/Jakarta\n")
    with pytest.raises(SettingsError, match="LAPOR_TIMEZONES"):
        Settings.load(environ={}, env_file=env_file)


def test_keys_newest_first_become_oldest_first_for_itsdangerous() -> None:
    settings = load(LAPOR_SECRET_KEYS="new-key-0123456789, old-key-0123456789")
    assert settings.signing_keys() == ["old-key-0123456789", "new-key-0123456789"]


def test_generated_key_is_stable(tmp_path: Path) -> None:
    settings = load(LAPOR_DATA_DIR=str(tmp_path))
    assert settings.signing_keys() == settings.signing_keys()
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600


def test_an_empty_key_file_is_refused_not_used(tmp_path: Path) -> None:
    (tmp_path / "secret.key").write_text("")
    with pytest.raises(SettingsError, match="no usable key"):
        load(LAPOR_DATA_DIR=str(tmp_path)).signing_keys()
