"""Every setting of every class in DOCUMENTED_SETTINGS has its row in the README's Settings table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.settings import DOCUMENTED_SETTINGS, AppSettings, InsecureSettingsError, Settings, prepare


def readme_settings_rows(readme: Path) -> dict[str, str]:
    text = readme.read_text()
    section = text.split("\n## Settings", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\|\s*`(MIGRATION_LAB_[A-Z0-9_]+)`\s*\|(.*)$", section, re.MULTILINE)
    return dict(rows)


def test_every_setting_is_documented_in_the_readme(repo_root: Path) -> None:
    rows = readme_settings_rows(repo_root / "README.md")
    expected = {
        f"{cls.model_config.get('env_prefix', '')}{name}".upper(): (cls.__name__, field.description)
        for cls in DOCUMENTED_SETTINGS
        for name, field in cls.model_fields.items()
    }
    assert AppSettings in DOCUMENTED_SETTINGS
    assert sorted(set(expected) - set(rows)) == [], "add these rows to the README's Settings table"
    undescribed = [name for name, (_, description) in expected.items() if not description]
    assert undescribed == [], "give these fields a description"


def test_settings_come_from_prefixed_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIGRATION_LAB_PORT", "9123")
    monkeypatch.setenv("MIGRATION_LAB_ASSETS", "local")
    settings = Settings()
    assert (settings.port, settings.assets, settings.host) == (9123, "local", "127.0.0.1")


def test_secret_key_is_generated_once_and_kept_in_the_data_dir(tmp_path: Path) -> None:
    first = prepare(Settings(data_dir=tmp_path / "data"))
    second = prepare(Settings(data_dir=tmp_path / "data"))
    assert len(first.secret_key) >= 32 and first.secret_key == second.secret_key
    assert (tmp_path / "data" / "secret_key").stat().st_mode & 0o077 == 0


def test_production_refuses_a_weak_secret_key(tmp_path: Path) -> None:
    for weak in ["changeme", "short-but-random-7f3a"]:
        with pytest.raises(InsecureSettingsError, match="too weak"):
            prepare(Settings(data_dir=tmp_path, environment="production", secret_key=weak))
    assert prepare(Settings(data_dir=tmp_path, secret_key="changeme")).secret_key == "changeme"  # development
    assert len(prepare(Settings(data_dir=tmp_path / "p", environment="production")).secret_key) >= 32
