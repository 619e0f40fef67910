"""The demo banks' ``/metrics``: Prometheus counters of challenges started, failed and
passed by method and purpose, messages and SMS segments by provider and country, and the
verification latency histogram, on both adapters."""

from __future__ import annotations

import re
import sys

import pytest

import stepup
from stepup.senders import MemorySender


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the exposition ``text`` (0 when it is absent)."""
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}(?:\{{(.*)\}})? (\S+)", line)
        if match and dict(re.findall(r'(\w+)="([^"]*)"', match.group(1) or "")) == labels:
            return float(match.group(2))
    return 0.0


def test_metrics_count_a_start_a_failure_and_a_pass(bank):
    browser = bank.browser()
    browser.login("alice")
    code_url = browser.choose(browser.follow(browser.get("/")), "sms").location
    browser.enter(code_url, "000000")
    browser.enter(code_url, bank.code("sms"))

    scraped = bank.browser().get("/metrics")

    assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
    text, login = scraped.text, {"method": "sms", "purpose": "login"}
    assert sample(text, "stepup_challenges_started_total", **login) == 1
    assert sample(text, "stepup_challenges_failed_total", **login) == 1
    assert sample(text, "stepup_challenges_passed_total", **login) == 1
    assert sample(text, "stepup_challenges_exhausted_total", **login) == 0
    # alice's demo number is in a range set aside for drama: no region, its calling code.
    assert sample(text, "stepup_messages_sent_total", channel="sms", provider="memory", country="+44") == 1
    assert sample(text, "stepup_sms_segments_total", provider="memory", country="+44", encoding="GSM-7") == 1
    assert sample(text, "stepup_verify_seconds_count") == 2


def test_a_back_off_is_counted_as_a_lock(make_bank):
    bank = make_bank(STEPUP_BACKOFF_AFTER=1)
    browser = bank.browser()
    browser.login("alice")
    code_url = browser.choose(browser.follow(browser.get("/")), "sms").location
    browser.enter(code_url, "000000")

    text = bank.browser().get("/metrics").text

    assert sample(text, "stepup_locks_total", method="sms") == 1


def test_metrics_without_prometheus_client_say_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "prometheus_client", None)

    with pytest.raises(stepup.ConfigurationError, match=r"pip install 'stepup\[metrics\]'"):
        stepup.Metrics()


def test_an_sms_in_a_script_other_than_gsm_is_counted_in_shorter_segments():
    from prometheus_client import CollectorRegistry

    metrics = stepup.Metrics(CollectorRegistry())
    sent = {
        "channel": "sms", "provider": "twilio", "locale": "ja", "country": "JP", "encoding": "UCS-2", "segments": 3,
        "fallback": "sms:fallback",
    }  # fmt: skip
    metrics(stepup.AuditEvent("sent", 0.0, method="sms", detail=sent))
    metrics(stepup.AuditEvent("delivery_failed", 0.0, method="sms", detail={**sent, "reason": "down"}))
    metrics(stepup.AuditEvent("rate_limited", 0.0, detail={"limit": "sms_per_country"}))

    text = metrics.render().decode()
    assert sample(text, "stepup_sms_segments_total", provider="twilio", country="JP", encoding="UCS-2") == 3
    assert sample(text, "stepup_delivery_failures_total", channel="sms", provider="twilio", country="JP") == 1
    assert sample(text, "stepup_delivery_failovers_total", channel="sms", via="sms:fallback") == 1
    assert sample(text, "stepup_rate_limited_total", limit="sms_per_country") == 1


def test_a_japanese_sms_is_counted_as_the_send_measured_it():
    from prometheus_client import CollectorRegistry

    metrics, events = stepup.Metrics(CollectorRegistry()), []
    engine = stepup.Engine(
        secret_key="s" * 40, store_url="memory://", app_name="Demo Bank", sms=MemorySender(), email=MemorySender(),
        clock=stepup.FrozenClock(), audit_hooks=[metrics, events.append],
    )  # fmt: skip
    engine.begin_bind("alice", "sms", "+81 90 1234 5678", locale="ja")

    sent = next(e.detail for e in events if e.type == "sent")
    assert (sent["locale"], sent["encoding"], sent["segments"]) == ("ja", "UCS-2", 1)
    text = metrics.render().decode()
    assert sample(text, "stepup_sms_segments_total", provider="memory", country="JP", encoding="UCS-2") == 1


def test_the_registry_mounts_as_a_wsgi_or_an_asgi_app():
    from prometheus_client import CollectorRegistry
    from starlette.applications import Starlette
    from starlette.routing import Mount
    from starlette.testclient import TestClient
    from werkzeug.test import Client

    metrics = stepup.Metrics(CollectorRegistry(), namespace="bank")
    metrics(stepup.AuditEvent("issued", 0.0, method="email", purpose="step_up"))

    wsgi = Client(metrics.wsgi_app()).get("/")
    with TestClient(Starlette(routes=[Mount("/metrics", metrics.asgi_app())])) as client:
        asgi = client.get("/metrics/")

    for body in (wsgi.get_data(as_text=True), asgi.text):
        assert sample(body, "bank_challenges_started_total", method="email", purpose="step_up") == 1
