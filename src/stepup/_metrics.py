"""Prometheus metrics of stepup, on ``prometheus-client`` (``pip install stepup[metrics]``).

:class:`Metrics` is an audit hook: every event an engine fires updates its counters, so
nothing on the hot path is counted or timed, and it works the same for both engines. Give
it to the engine with ``audit_hooks=[metrics]`` (``StepUp(app, audit_hooks=[metrics])``,
``StepUpMiddleware(app, audit_hooks=[metrics])``) and mount :meth:`Metrics.wsgi_app` or
:meth:`Metrics.asgi_app` where Prometheus scrapes. docs/operations.md names the alerts.
"""

from __future__ import annotations

import functools
from typing import Any

from ._errors import ConfigurationError
from ._models import AuditEvent

__all__ = ["Metrics"]

#: audit event -> the counter of challenges it counts (by method and purpose).
_CHALLENGES = {"issued": "started", "verified": "passed", "failed": "failed", "exhausted": "exhausted"}
#: seconds a verification may take, as histogram buckets (store and hashing, no network).
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    """stepup's counters and histogram on a Prometheus registry.

    :param registry: the ``CollectorRegistry`` to register on; default the global one
        (``prometheus_client.REGISTRY``), which a default ``/metrics`` endpoint shows.
    :param namespace: the prefix of every metric's name.
    :raises ConfigurationError: ``prometheus-client`` is not installed.
    """

    def __init__(self, registry: Any = None, *, namespace: str = "stepup") -> None:
        try:
            import prometheus_client as prom
        except ImportError as e:
            raise ConfigurationError("stepup's metrics need prometheus-client: pip install 'stepup[metrics]'.") from e
        self._prom = prom
        self.registry = registry if registry is not None else prom.REGISTRY
        counter = functools.partial(prom.Counter, namespace=namespace, registry=self.registry)
        route = ["channel", "provider", "country"]
        self.challenges = {
            name: counter(f"challenges_{name}", f"Challenges {name}, by method and purpose.", ["method", "purpose"])
            for name in ("started", "passed", "failed", "exhausted")
        }
        self.messages = counter("messages_sent", "Messages sent, codes and notices.", route)
        billed = ["provider", "country", "encoding"]
        self.segments = counter("sms_segments", "SMS segments sent (what providers bill).", billed)
        self.failures = counter("delivery_failures", "Sends a provider refused or never took.", route)
        self.failovers = counter("delivery_failovers", "Codes sent by a fallback after a failure.", ["channel", "via"])
        self.locks = counter("locks", "Back-offs and locks started by wrong codes.", ["method"])
        self.refusals = counter("rate_limited", "Requests refused by a rate limit.", ["limit"])
        self.latency = prom.Histogram(
            "verify_seconds", "Time to check a code.", namespace=namespace, registry=self.registry, buckets=_BUCKETS
        )

    def __call__(self, event: AuditEvent) -> None:
        """Count ``event`` (an audit hook)."""
        detail, kind = event.detail, event.type
        if kind in _CHALLENGES:
            self.challenges[_CHALLENGES[kind]].labels(event.method or "", event.purpose or "").inc()
        elif kind in ("sent", "delivery_failed"):
            channel = str(detail.get("channel", ""))
            labels = (channel, str(detail.get("provider", "")), str(detail.get("country", "")))
            if kind == "delivery_failed":
                self.failures.labels(*labels).inc()
                return
            self.messages.labels(*labels).inc()
            if "segments" in detail:  # the send's own count (stepup.sms_length), not counted again here
                self.segments.labels(labels[1], labels[2], str(detail.get("encoding", ""))).inc(int(detail["segments"]))
            if "fallback" in detail:
                self.failovers.labels(channel, str(detail["fallback"])).inc()
        elif kind == "locked":
            self.locks.labels(event.method or "").inc()
        elif kind == "rate_limited":
            self.refusals.labels(str(detail.get("limit", ""))).inc()

    def observe_verify(self, seconds: float) -> None:
        """Time one verification (the engine calls it for a hook that has it)."""
        self.latency.observe(seconds)

    def wsgi_app(self) -> Any:
        """A WSGI app answering with this registry's metrics, to mount at ``/metrics``."""
        return self._prom.make_wsgi_app(self.registry)

    def asgi_app(self) -> Any:
        """An ASGI app answering with this registry's metrics, to mount at ``/metrics``."""
        return self._prom.make_asgi_app(self.registry)

    def render(self) -> bytes:
        """The metrics in Prometheus' text format (for an app's own route)."""
        return bytes(self._prom.generate_latest(self.registry))
