"""Fixtures for the suites that drive whole apps: the demo bank and the lab, fresh for each
test, on each adapter.

``adapter`` is parametrised over :data:`ADAPTERS`, so a test that uses ``bank`` or
``lab`` runs once on Flask and once on Starlette; a folder whose tests are for one
adapter overrides ``adapter`` in its conftest. Every site made is closed at teardown
(its engine, and on Starlette its ``TestClient`` and event loop).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import stepup
from stepup.senders import MemorySender
from stepup.stores import Store

from .banks import build_bank
from .labs import LabRecords, build_lab
from .passkeys import PASSKEYS
from .sites import Outboxes, Site

ADAPTERS = ["flask", "starlette"]


@pytest.fixture(params=ADAPTERS)
def adapter(request: pytest.FixtureRequest) -> str:
    """The framework the sites of a test run on."""
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def outboxes(clock: stepup.FrozenClock, sms: MemorySender, email: MemorySender) -> Outboxes:
    """The suite's frozen clock and in-memory outboxes, for a site's engine."""
    return Outboxes(clock, sms, email)


def _factory(
    build: Callable[..., Site], adapter: str, tmp_path: Path, outboxes: Outboxes
) -> Iterator[Callable[..., Site]]:
    made: list[Site] = []

    def make(*, store: Store | None = None, sms_url: str | None = None, **config: Any) -> Site:
        site = build(adapter, tmp_path, outboxes, config, store=store, sms_url=sms_url)
        made.append(site)
        return site

    yield make
    for site in made:
        site.close()


@pytest.fixture
def make_bank(adapter: str, tmp_path: Path, outboxes: Outboxes) -> Iterator[Callable[..., Site]]:
    """``make_bank(**config)``: the demo bank; ``config`` overrides its ``STEPUP_*`` settings,
    ``store=`` gives it a store object (a faulty one) and ``sms_url=`` a real SMS sender."""
    yield from _factory(build_bank, adapter, tmp_path, outboxes)


@pytest.fixture
def bank(make_bank: Callable[..., Site]) -> Site:
    """The demo bank as it ships: alice (SMS and email), bob (nothing), carol (TOTP)."""
    return make_bank()


@pytest.fixture
def passkey_bank(make_bank: Callable[..., Site]) -> Site:
    """The demo bank with the test client's host as passkeys' relying party
    (:data:`tests.support.passkeys.PASSKEYS`)."""
    return make_bank(**PASSKEYS)


@pytest.fixture
def make_lab(adapter: str, tmp_path: Path, outboxes: Outboxes) -> Iterator[Callable[..., Site]]:
    """``make_lab(**config)``: the lab; dana has SMS and email, erin TOTP, finn nothing
    (``store=`` and ``sms_url=`` as for :func:`make_bank`)."""
    yield from _factory(build_lab, adapter, tmp_path, outboxes)


@pytest.fixture
def lab(make_lab: Callable[..., Site]) -> Site:
    """The lab with stepup's defaults."""
    return make_lab()


@pytest.fixture
def lab_records(lab: Site) -> LabRecords:
    """What the ``lab`` app saw and did."""
    return lab.records  # type: ignore[no-any-return]
