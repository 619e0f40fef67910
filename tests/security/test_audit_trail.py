"""The audit trail kept in the store: a login's events in order, with the request they came
with, masked, never a code; bounded per subject, dropped after the retention, queried by
subject, time and type, on every store."""

from __future__ import annotations

import json
import re

import pytest

import stepup
from stepup.senders import MemorySender

SECRET = "s" * 40


def test_the_trail_holds_a_logins_events_in_order_with_their_context_and_no_code(bank):
    browser = bank.browser()
    browser.login("alice")
    code_url = browser.choose(browser.follow(browser.get("/")), "sms").location
    code = bank.code("sms")
    assert browser.enter(code_url, "000000").status_code == 400
    assert browser.enter(code_url, code).status_code == 303

    # (the demo's seed bound her phone and email before: those events come first)
    events = [e for e in bank.call("audit_events", "alice") if e.type != "bound"]

    types = [e.type for e in events]
    assert types == ["issued", "sent", "failed", "verified", "login_passed"], types
    assert [e.at for e in events] == sorted(e.at for e in events)
    for event in events:
        assert event.context.get("client") and event.context.get("route", "").startswith("/stepup/")
        assert event.target == "+44 •••• ••0001" and event.method == "sms" and event.purpose == "login"
    dumped = json.dumps([e.as_dict() for e in events], ensure_ascii=False)
    assert code not in dumped and "+447700900001" not in dumped


def test_a_remembered_browser_used_and_forgotten_is_in_the_trail(make_bank):
    bank = make_bank(STEPUP_TRUSTED_DEVICE_DAYS=30)
    browser = bank.browser()
    browser.login("alice")
    code_url = browser.choose(browser.follow(browser.get("/")), "sms").location
    browser.enter(code_url, bank.code("sms"), remember="y")
    browser.logout()
    browser.login("alice")
    browser.get("/transfers")
    account = browser.get("/stepup/account")
    browser.press(account, browser="all")

    types = [
        e.type
        for e in bank.call("audit_events", "alice", types=["browser_remembered", "browser_used", "browser_forgotten"])
    ]

    assert types == ["browser_remembered", "browser_used", "browser_forgotten"]
    logins = [e for e in bank.call("audit_events", "alice", types=["login_passed"])]
    assert [e.detail.get("by") for e in logins] == [None, "remembered_browser"]  # the code, then the browser


@pytest.fixture
def engine_on(store_url):
    made = []

    def make(**settings):
        engine = stepup.Engine(
            secret_key=SECRET, store_url=store_url, sms=MemorySender(), email=MemorySender(),
            clock=stepup.FrozenClock(), **settings,
        )  # fmt: skip
        made.append(engine)
        return engine

    yield make
    for engine in made:
        engine.close()


def test_the_trail_keeps_the_newest_events_of_each_subject_up_to_the_cap(engine_on):
    engine = engine_on(audit_events_per_subject=5)
    for method in ("sms", "email", "totp", "recovery"):
        engine.unlock("bob", method)  # one "unlocked" event each
        engine.clock.advance(10)
    engine.unlock("carol", "sms")
    for _ in range(3):
        engine.support_action("bob", "unlock", by="alice", method="sms")  # two events each

    kept = engine.audit_events("bob")

    assert len(kept) == 5 and [e.type for e in kept][-2:] == ["unlocked", "admin_action"]
    assert [e.method for e in kept][0] == "sms" and kept[-1].actor == "alice"
    assert [e.subject for e in engine.audit_events("carol")] == ["carol"]


def test_what_a_subject_s_trail_keeps_in_the_store_stays_capped(engine_on):
    """Events past the cap are dropped from the store too, not only from what is read: a
    subject who makes events without end (a refusal is counted, not stored again, but
    unlocks are not refusals) keeps the head and the sealed chunks the cap needs."""
    from stepup.engine._keys import part

    engine = engine_on(audit_events_per_subject=10)
    for n in range(65):
        engine.unlock("bob", ("sms", "email", "totp", "recovery")[n % 4])
        engine.clock.advance(400)  # past the window in which a repeat is only counted
    key = "s/" + part("bob")
    head = engine.store.get("audit", key)
    assert head is not None and head["chunk"] == 6
    chunks = [engine.store.get("audit", f"{key}/{n}") for n in range(6)]
    assert [c is not None for c in chunks] == [False] * 5 + [True]
    assert len(engine.audit_events("bob")) == 10


class _OneAtATime:
    """A store of the plain protocol (``get``, ``update``, ``delete``: atomic per record),
    as an app's own store may be: stepup makes a step over several records of single-record
    calls on it. ``before_head`` runs once, before the next update of bob's trail head;
    while ``chunks_fail``, every write of a sealed chunk fails."""

    def __init__(self) -> None:
        self.inner, self.before_head, self.chunks_fail = stepup.stores.MemoryStore(), None, False

    def get(self, kind, key):
        return self.inner.get(kind, key)

    def update(self, kind, key, fn, ttl=None):
        self._between(kind, key)
        if self.chunks_fail and kind == "audit" and key.count("/") == 2:
            raise stepup.StoreUnavailable("the store is down")
        return self.inner.update(kind, key, fn, ttl)

    def delete(self, kind, key):
        self.inner.delete(kind, key)

    def close(self):
        pass

    def _between(self, kind, key):
        if kind == "audit" and key == "s/bob" and self.before_head is not None:
            hook, self.before_head = self.before_head, None
            hook()


class _AllAtOnce(_OneAtATime):
    """The same with ``update_many`` (all or nothing), as the memory store has it."""

    def get_many(self, items):
        return self.inner.get_many(items)

    def update_many(self, items, fn):
        for kind, key, _ in items:
            self._between(kind, key)
        if self.chunks_fail and any(kind == "audit" and key.count("/") == 2 for kind, key, _ in items):
            raise stepup.StoreUnavailable("the store is down")
        return self.inner.update_many(items, fn)


def _engines(store, clock, n=1):
    made = [
        stepup.Engine(secret_key=SECRET, store=store, sms=MemorySender(), email=MemorySender(), clock=clock)
        for _ in range(n)
    ]
    return made[0] if n == 1 else made


_METHODS = ("sms", "email", "totp", "recovery")


@pytest.mark.parametrize("store_kind", [_OneAtATime, _AllAtOnce])
def test_a_full_head_that_cannot_be_sealed_keeps_the_events_it_held(store_kind):
    """A seal writes its chunk before the head that names the next one: a store that fails
    the chunk's write (all of the step, or only that record) leaves the trail as it was,
    never a head past a chunk it lost."""
    store, clock = store_kind(), stepup.FrozenClock()
    engine = _engines(store, clock)
    for n in range(10):  # a full head: ten "unlocked" events
        engine.unlock("bob", _METHODS[n % 4])
        clock.advance(400)
    store.chunks_fail = True
    engine.unlock("bob", "sms")  # its event is lost from the trail (the logger had it)
    clock.advance(400)
    assert len(engine.audit_events("bob")) == 10

    store.chunks_fail = False
    engine.unlock("bob", "email")
    assert [e.method for e in engine.audit_events("bob")] == [*(_METHODS[n % 4] for n in range(10)), "email"]


@pytest.mark.parametrize("store_kind", [_OneAtATime, _AllAtOnce])
def test_an_append_made_while_another_process_seals_the_head_is_kept(store_kind):
    """Where a seal's read and write are two calls, another process's append in between is
    sealed with the rest (or the seal starts again), never written over."""
    store, clock = store_kind(), stepup.FrozenClock()
    one, two = _engines(store, clock, 2)
    for n in range(10):
        one.unlock("bob", _METHODS[n % 4])
        clock.advance(400)
    store.before_head = lambda: two.unlock("bob", "totp")  # lands between one's read and write
    clock.advance(1)
    one.unlock("bob", "sms")
    methods = [e.method for e in one.audit_events("bob")]
    assert methods == [*(_METHODS[n % 4] for n in range(10)), "totp", "sms"]


def test_two_processes_appending_to_one_trail_keep_every_event_in_order():
    """Each process knows the head's length as it last wrote it, and appends without a
    seal while that says there is room: when the other process filled the head meanwhile,
    the head runs over its ten events once, and the next append seals them all."""
    store, clock = stepup.stores.MemoryStore(), stepup.FrozenClock()
    one, two = _engines(store, clock, 2)
    order = [one] * 8 + [two] * 2 + [one] * 3 + [two] * 9
    for n, engine in enumerate(order):
        engine.unlock("bob", _METHODS[n % 4])
        clock.advance(400)  # past the window in which a repeat is only counted
    events = one.audit_events("bob")
    assert len(events) == len(order) and events == two.audit_events("bob")
    assert [e.method for e in events] == [_METHODS[n % 4] for n in range(len(order))]
    assert [e.at for e in events] == sorted(e.at for e in events)
    head = store.get("audit", "s/bob")
    assert head is not None and len(head["events"]) <= 10
    one.close()
    two.close()


def test_strangers_contact_requests_do_not_push_the_others_out_of_the_trail_soon(engine_on):
    # Events without a subject come from contact verification, which anyone may start:
    # their trail keeps audit_events_without_subject, not a subject's 200, and stays capped.
    engine = engine_on(
        audit_events_per_subject=5, audit_events_without_subject=60, contact_parallel_requests=True,
        test_number_prefixes=("+447700900",),
    )  # fmt: skip
    first = engine.contact.request("sms", "+447700900100")
    engine.contact.cancel(first)
    early = [e.type for e in engine.audit_events(None)]
    for n in range(20):  # a flood of requests from strangers: issued and sent, 40 events
        engine.contact.request("sms", f"+4477009002{n:02d}")
        engine.clock.advance(1)

    kept = engine.audit_events(None)
    assert early == ["issued", "sent", "cancelled"] and [e.type for e in kept][:3] == early
    for n in range(20):
        engine.contact.request("sms", f"+4477009003{n:02d}")
    assert len(engine.audit_events(None)) == 60  # the cap holds


def test_the_trail_is_queried_by_time_and_type_and_dropped_after_its_retention(engine_on):
    engine = engine_on(audit_retention_days=1)
    start = engine.clock()
    engine.unlock("bob", "sms")
    engine.clock.advance(3600)
    engine.support_action("bob", "forget_browsers", by="alice")

    assert [e.type for e in engine.audit_events("bob", since=start + 1)] == ["browser_forgotten", "admin_action"]
    assert [e.type for e in engine.audit_events("bob", until=start + 1)] == ["unlocked"]
    assert [e.type for e in engine.audit_events("bob", types=["admin_action"])] == ["admin_action"]
    assert len(engine.audit_events("bob", limit=1)) == 1
    engine.clock.advance(86400 - 3600 + 1)
    assert [e.type for e in engine.audit_events("bob")] == ["browser_forgotten", "admin_action"]
    engine.clock.advance(3600)
    assert engine.audit_events("bob") == []


def test_a_flow_that_raises_keeps_its_events(engine_on):
    engine = engine_on()
    engine.import_binding("bob", "sms", "+447400123456")
    challenge = engine.start("bob", "sms")

    with pytest.raises(stepup.WrongCode):
        engine.verify(challenge.id, "000000", subject="bob")

    assert [e.type for e in engine.audit_events("bob")][-1] == "failed"


def test_the_trail_keeps_what_the_hooks_get_and_the_same_with_no_hook_listening(engine_on):
    # An event is built whole only for the logger and the hooks; with neither listening,
    # the trail keeps its stored form straight away. Both must keep the same events.
    heard: list[stepup.AuditEvent] = []
    trails = []
    for subject, hooks in (("bob", [heard.append]), ("carol", [])):
        engine = engine_on(audit_hooks=hooks)
        engine.import_binding(subject, "sms", "+447400123456")
        challenge = engine.start(subject, "sms")
        with pytest.raises(stepup.WrongCode):
            engine.verify(challenge.id, "000000", subject=subject)
        code = re.search(r"\d{6}", engine.sms.last.body).group(0)
        engine.verify(challenge.id, code, subject=subject)
        trails.append([{**e.as_dict(), "subject": None, "challenge_id": None} for e in engine.audit_events(subject)])

    with_hook, alone = trails
    assert [e["type"] for e in alone] == ["bound", "issued", "sent", "failed", "verified", "step_up_passed"]
    assert with_hook == alone
    assert [{**e.as_dict(), "subject": None, "challenge_id": None} for e in heard] == with_hook
    assert alone[2]["target"] == "+44 •••• ••3456" and alone[2]["detail"] and alone[0]["context"] == {}


def test_with_no_retention_nothing_is_stored(engine_on):
    engine = engine_on(audit_retention_days=0)
    engine.unlock("bob", "sms")

    assert engine.audit_events("bob") == [] and engine.store.get("audit", "s/bob") is None


def test_what_the_store_keeps_of_a_trail_is_bounded_however_many_events_come(engine_on):
    engine = engine_on(audit_events_per_subject=30)
    for _ in range(150):  # distinct events: a repeat within minutes is counted, not stored
        engine.unlock("bob", "sms")
        engine.clock.advance(301)

    chunks = [n for n in range(20) if engine.store.get("audit", f"s/bob/{n}") is not None]
    records = [engine.store.get("audit", f"s/bob/{n}") for n in chunks] + [engine.store.get("audit", "s/bob")]
    kept = sum(len(record["events"]) for record in records)

    assert len(engine.audit_events("bob")) == 30
    # 150 events in chunks of 10: the head is chunk 14, and the three chunks before it hold
    # the rest of the newest 30; every older chunk was dropped.
    assert chunks == [11, 12, 13] and kept <= 30 + 2 * 10


def test_a_flood_of_refusals_is_counted_not_stored_and_pushes_no_event_out(bank):
    # Someone with carol's password asks for codes again and again: each refusal is a
    # rate_limited event, at no cost to them. They must not wipe her trail (a reset by
    # support, the methods she bound) by sheer number.
    bank.call("import_binding", "carol", "sms", "+447700900003")
    before = [e.type for e in bank.call("audit_events", "carol")]
    browser = bank.browser()
    browser.login("carol")
    choose = browser.follow(browser.get("/"))
    binding = browser.form(choose, "/stepup/").radios["binding"][0][0]
    statuses = [browser.submit(choose, "/stepup/", binding=binding).status_code for _ in range(300)]
    assert 429 in statuses

    events = bank.call("audit_events", "carol")
    limited = [e for e in events if e.type == "rate_limited"]
    assert [e.type for e in events][: len(before)] == before  # nothing earlier was pushed out
    assert len(events) < 40 and sum(1 + e.detail.get("repeats", 0) for e in limited) == statuses.count(429)


def test_a_requests_context_is_cut_before_the_trail_keeps_it():
    # A path is as long as the server takes (tens of kilobytes): a trail of 200 events
    # per subject must not become megabytes by way of the request's route.
    from stepup._audit import current_request, request_context

    with request_context("192.0.2.1", "U" * 5000, "bank", "/" + "A" * 60000):
        context = current_request()
    assert context["client"] == "192.0.2.1" and context["app"] == "bank"
    assert len(context["route"]) == 200 and len(context["user_agent"]) == 200
