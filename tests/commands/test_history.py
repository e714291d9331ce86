"""Migration names, checksums and the two history stores."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sandbox.migrate.history import (
    LOCK_FILE_TEXT,
    FolderHistory,
    MemoryHistory,
    Migration,
    MigrationFileMissing,
    new_migration_name,
    slugify,
)


@pytest.mark.parametrize(
    ("raw", "slug"),
    [
        ("add email", "add_email"),
        ("Add User Email!", "add_user_email"),
        ("addUserEmail", "add_user_email"),
        ("HTMLParser v2", "html_parser_v2"),
        ("  --weird__name--  ", "weird_name"),
        ("café crème", "cafe_creme"),
        ("", ""),
    ],
)
def test_names_are_slugified_like_prisma(raw: str, slug: str) -> None:
    assert slugify(raw) == slug


def test_slug_is_cut_at_200_characters() -> None:
    assert len(slugify("x" * 300)) == 200


def test_name_carries_the_utc_timestamp() -> None:
    now = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    assert new_migration_name("init", [], now) == "20240506070809_init"


def test_timestamps_strictly_increase_within_one_second() -> None:
    now = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    first = new_migration_name("a", [], now)
    second = new_migration_name("b", [first], now)
    third = new_migration_name("c", [first, second], now)
    assert (first[:14], second[:14], third[:14]) == ("20240506070809", "20240506070810", "20240506070811")
    assert sorted([third, first, second]) == [first, second, third]


def test_checksum_is_sha256_of_the_file_bytes_so_crlf_counts() -> None:
    unix = Migration("20240101000000_a", "SELECT 1;\n")
    windows = Migration("20240101000000_a", "SELECT 1;\r\n")
    assert unix.checksum == hashlib.sha256(b"SELECT 1;\n").hexdigest()
    assert unix.checksum != windows.checksum


def test_folder_history_writes_prisma_layout_and_reads_it_back(tmp_path: Path) -> None:
    store = FolderHistory(tmp_path / "migrations")
    assert store.list() == []
    store.add(Migration("20240101000001_second", "-- b\r\nSELECT 2;\r\n"))
    store.add(Migration("20240101000000_first", "SELECT 1;\n"))
    assert (tmp_path / "migrations/migration_lock.toml").read_text() == LOCK_FILE_TEXT
    assert 'provider = "postgresql"' in LOCK_FILE_TEXT
    listed = store.list()
    assert [m.name for m in listed] == ["20240101000000_first", "20240101000001_second"]
    # CRLF survives the round trip, so the checksum is the file's.
    assert listed[1].sql == "-- b\r\nSELECT 2;\r\n"
    written = tmp_path / "migrations/20240101000001_second/migration.sql"
    assert written.read_bytes() == b"-- b\r\nSELECT 2;\r\n"


def test_folder_without_migration_file_is_p3015(tmp_path: Path) -> None:
    (tmp_path / "20240101000000_broken").mkdir()
    with pytest.raises(MigrationFileMissing) as caught:
        FolderHistory(tmp_path).list()
    assert caught.value.code == "P3015"
    assert "20240101000000_broken/migration.sql" in str(caught.value)


def test_memory_history_reports_new_migrations_to_its_owner() -> None:
    received: list[Migration] = []
    store = MemoryHistory([Migration("20240101000001_b", "")], on_add=received.append)
    store.add(Migration("20240101000000_a", "SELECT 1;"))
    assert [m.name for m in store.list()] == ["20240101000000_a", "20240101000001_b"]
    assert received == [Migration("20240101000000_a", "SELECT 1;")]
