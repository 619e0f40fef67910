"""A page reads the signed-in subject's record once: the methods it offers, its enrolment
rule and its language all come from one read (on SQLite each read is a query, and was a
hop to a worker thread under an ASGI server)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stepup.stores import SQLiteStore
from tests.support.flows import held


class CountingStore:
    """The bank's SQLite store, counting reads of each record."""

    def __init__(self, path: Path) -> None:
        self.store = SQLiteStore(path)
        self.reads: dict[tuple[str, str], int] = {}

    def _count(self, items: Any) -> None:
        for item in items:
            self.reads[tuple(item)] = self.reads.get(tuple(item), 0) + 1

    def get(self, kind: str, key: str) -> Any:
        self._count([(kind, key)])
        return self.store.get(kind, key)

    def get_many(self, items: Any) -> Any:
        self._count(items)
        return self.store.get_many(items)

    def update(self, *args: Any) -> Any:
        return self.store.update(*args)

    def update_many(self, *args: Any) -> Any:
        return self.store.update_many(*args)

    def delete(self, kind: str, key: str) -> None:
        self.store.delete(kind, key)

    def close(self) -> None:
        self.store.close()


def test_the_choose_page_reads_the_subject_once(make_bank, tmp_path):
    store = CountingStore(tmp_path / "counted.sqlite3")
    bank = make_bank(store=store)
    browser = held(bank)
    url = browser.get("/").location
    store.reads.clear()
    page = browser.get(url)
    assert page.status_code == 200 and 'name="binding"' in page.text
    assert store.reads.get(("subject", "alice")) == 1
