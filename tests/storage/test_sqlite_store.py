"""The store contract on ``sqlite:///path``, and what only a file-backed store can do."""

from __future__ import annotations

from pathlib import Path

import pytest

import stepup
from stepup.stores import SQLiteStore, store_from_url
from stepup.testing import StoreContract, StoreFactory


class TestSQLiteStore(StoreContract):
    @pytest.fixture
    def make_store(self, tmp_path: Path) -> StoreFactory:
        return lambda clock: SQLiteStore(tmp_path / "stepup.sqlite3", clock)


class TestSQLiteStoreFromUrl(StoreContract):
    @pytest.fixture
    def make_store(self, tmp_path: Path) -> StoreFactory:
        return lambda clock: store_from_url(f"sqlite:///{tmp_path}/stepup.sqlite3", clock)


def test_records_survive_reopening(tmp_path: Path) -> None:
    clock = stepup.FrozenClock()
    first = SQLiteStore(tmp_path / "db.sqlite3", clock)
    first.update("subject", "alice", lambda r: ({"bindings": ["sms"]}, None))
    first.update("challenge", "c", lambda r: ({"state": "pending"}, None), ttl=60)
    first.close()
    second = SQLiteStore(tmp_path / "db.sqlite3", clock)
    try:
        assert second.get("subject", "alice") == {"bindings": ["sms"]}
        assert second.get("challenge", "c") == {"state": "pending"}
        clock.advance(60)
        assert second.get("challenge", "c") is None  # the expiry was kept too
    finally:
        second.close()


def test_two_open_stores_on_one_file_see_each_others_writes(tmp_path: Path) -> None:
    a, b = SQLiteStore(tmp_path / "db.sqlite3"), SQLiteStore(tmp_path / "db.sqlite3")
    try:
        a.update("counter", "n", lambda r: ({"n": 1}, None))
        b.update("counter", "n", lambda r: ({"n": (r or {"n": 0})["n"] + 1}, None))
        assert a.get("counter", "n") == {"n": 2}
    finally:
        a.close()
        b.close()


@pytest.mark.parametrize("where", ["missing/folder/db.sqlite3", "a-folder", "not-a-database"])
def test_a_bad_path_is_a_clear_store_unavailable(tmp_path: Path, where: str) -> None:
    (tmp_path / "a-folder").mkdir()
    (tmp_path / "not-a-database").write_bytes(b"this is not SQLite " * 100)
    path = tmp_path / where
    with pytest.raises(stepup.StoreUnavailable) as caught:
        SQLiteStore(path)
    assert str(path) in str(caught.value)
    assert "cannot be opened" in str(caught.value)


def test_in_memory_sqlite_is_refused_with_advice() -> None:
    with pytest.raises(stepup.ConfigurationError, match="memory://"):
        store_from_url("sqlite:///:memory:")
    with pytest.raises(stepup.ConfigurationError, match="file path"):
        store_from_url("sqlite://")


def test_an_unknown_scheme_names_the_known_ones() -> None:
    with pytest.raises(stepup.ConfigurationError) as caught:
        store_from_url("postgres://db/stepup")
    assert "postgres" in str(caught.value)
    assert "memory://" in str(caught.value) and "sqlite://" in str(caught.value)
