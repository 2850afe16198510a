"""The SQLite store: WAL, migrations, pseudonymous keys, configurable location."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.config import Paths
from bot.pseudonym import Pseudonymizer, load_secret
from bot.store.migrations import MIGRATIONS
from bot.store.models import UserState
from bot.store.sqlite import SQLiteStore
from tests.conftest import TestBot, make_engine


async def test_wal_mode_and_schema_version(tmp_path: Path) -> None:
    store = await SQLiteStore.open(tmp_path / "a.sqlite3")
    await store.close()
    with sqlite3.connect(tmp_path / "a.sqlite3") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


async def test_reopening_keeps_data_and_does_not_migrate_twice(tmp_path: Path) -> None:
    store = await SQLiteStore.open(tmp_path / "a.sqlite3")
    await store.save_user(UserState(key="k1", lang="fr", country="FR", flow_data={"a": 1}))
    await store.close()
    store = await SQLiteStore.open(tmp_path / "a.sqlite3")
    got = await store.get_user("k1")
    await store.close()
    assert got == UserState(key="k1", lang="fr", country="FR", flow_data={"a": 1})


async def test_platform_ids_never_reach_the_database(services, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store = await SQLiteStore.open(tmp_path / "p.sqlite3")
    bot = TestBot(make_engine(services, store), user="987654321", platform="telegram")
    await bot.send("hi")
    await bot.send("I want to die")
    await bot.engine.aclose()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())  # noqa: ASYNC240
    assert b"987654321" not in raw
    assert b"I want to die" not in raw and b"want to die" not in raw


def test_pseudonyms_are_stable_keyed_and_distinct() -> None:
    one = Pseudonymizer(b"secret-a")
    assert one.key("telegram", "42") == one.key("telegram", "42")
    assert one.key("telegram", "42") != one.key("discord", "42")
    assert one.key("telegram", "42") != Pseudonymizer(b"secret-b").key("telegram", "42")


def test_secret_is_generated_once_and_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MUSICBOT_PSEUDONYM_KEY", raising=False)
    first = load_secret(tmp_path)
    assert load_secret(tmp_path) == first
    assert (tmp_path / "pseudonym.key").stat().st_mode & 0o077 == 0


def test_database_location_from_flag_then_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MUSICBOT_DB", str(tmp_path / "env.sqlite3"))
    assert Paths.from_env().db == tmp_path / "env.sqlite3"
    assert Paths.from_env(db=str(tmp_path / "flag.sqlite3")).db == tmp_path / "flag.sqlite3"
    monkeypatch.delenv("MUSICBOT_DB")
    monkeypatch.setenv("MUSICBOT_DATA_DIR", str(tmp_path / "data"))
    assert Paths.from_env().db == tmp_path / "data" / "bot.sqlite3"


async def test_adapter_settings_are_kept_and_deleted(store: SQLiteStore) -> None:
    assert await store.get_setting("discord", "guild-1", "staff_role") is None
    await store.set_setting("discord", "guild-1", "staff_role", "42")
    await store.set_setting("discord", "guild-1", "staff_role", "43")
    assert await store.get_setting("discord", "guild-1", "staff_role") == "43"
    await store.set_setting("discord", "guild-1", "staff_role", None)
    assert await store.get_setting("discord", "guild-1", "staff_role") is None
