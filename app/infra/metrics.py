"""Prometheus text exposition: request counts and latencies, subscription progress."""

from __future__ import annotations

import bisect
import os
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Freshness is a few milliseconds when all is well: finer buckets there.
FRESHNESS_BUCKETS = (
    0.0005, 0.001, 0.0015, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05,
    0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
)  # fmt: skip


@dataclass
class Histogram:
    buckets: tuple[float, ...]
    counts: list[int]
    total: float = 0.0
    n: int = 0

    @classmethod
    def empty(cls, buckets: tuple[float, ...] = BUCKETS) -> Histogram:
        return cls(buckets, [0] * (len(buckets) + 1))

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, value)] += 1
        self.total += value
        self.n += 1

    def lines(self, name: str, **values: str) -> list[str]:
        out, cumulative = [], 0
        for bound, count in zip((*self.buckets, float("inf")), self.counts, strict=True):
            cumulative += count
            le = "+Inf" if bound == float("inf") else repr(bound)
            out.append(f"{name}_bucket{labels(**values, le=le)} {cumulative}")
        out.append(f"{name}_sum{labels(**values)} {self.total}")
        out.append(f"{name}_count{labels(**values)} {self.n}")
        return out


@dataclass(frozen=True)
class SubscriptionSample:
    name: str
    state: str
    owned: bool
    position_xid: int
    position_id: int
    lag_events: int
    lag_seconds: float
    events_applied: int
    failures: int
    checkpoint_conflicts: int
    # Commit of an event (its outbox row) -> commit of its effect here, for the events
    # this process applied: how fresh the view is.
    freshness: Histogram | None = None


def labels(**values: str) -> str:
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in values.items())
    return "{" + inner + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Metrics:
    def __init__(self) -> None:
        self._requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self._latency: dict[tuple[str, str], Histogram] = {}

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self._requests[(method, route, status)] += 1
        hist = self._latency.get((method, route))
        if hist is None:
            hist = self._latency[(method, route)] = Histogram.empty()
        hist.observe(seconds)

    def render(self, subscriptions: Iterable[SubscriptionSample]) -> str:
        out: list[str] = [
            "# HELP app_process The process that answered: with --workers N, one of the N, and the counters"
            " below are its own (lag, positions and stalls come from the database and agree on every worker).",
            "# TYPE app_process gauge",
            f"app_process{labels(pid=str(os.getpid()))} 1",
            "# HELP http_requests_total HTTP requests by method, route and status.",
            "# TYPE http_requests_total counter",
        ]
        for (method, route, status), count in sorted(self._requests.items()):
            out.append(f"http_requests_total{labels(method=method, route=route, status=str(status))} {count}")
        out += [
            "# HELP http_request_duration_seconds HTTP request latency.",
            "# TYPE http_request_duration_seconds histogram",
        ]
        for (method, route), hist in sorted(self._latency.items()):
            out += hist.lines("http_request_duration_seconds", method=method, route=route)
        out += _subscription_lines(list(subscriptions))
        return "\n".join(out) + "\n"


def _subscription_lines(samples: list[SubscriptionSample]) -> list[str]:
    gauges: list[tuple[str, str, Callable[[SubscriptionSample], float]]] = [
        ("subscription_position_xid", "Checkpoint: transaction id part.", lambda s: s.position_xid),
        ("subscription_position_id", "Checkpoint: outbox id part.", lambda s: s.position_id),
        ("subscription_lag_events", "Committed events not yet applied.", lambda s: s.lag_events),
        ("subscription_lag_seconds", "Age of the oldest unapplied event.", lambda s: s.lag_seconds),
        (
            "subscription_stalled",
            "1 when stalled on a failing event.",
            lambda s: int(s.state == "stalled"),
        ),
        (
            "subscription_owned",
            "1 when this process runs the subscription.",
            lambda s: int(s.owned),
        ),
        (
            "subscription_events_applied_total",
            "Events applied by this process.",
            lambda s: s.events_applied,
        ),
        ("subscription_failures_total", "Failed attempts in this process.", lambda s: s.failures),
        (
            "subscription_checkpoint_conflicts_total",
            "Compare-and-set losses.",
            lambda s: s.checkpoint_conflicts,
        ),
    ]
    out: list[str] = []
    for name, help_text, value in gauges:
        kind = "counter" if name.endswith("_total") else "gauge"
        out += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
        out += [f"{name}{labels(subscription=s.name)} {value(s)}" for s in samples]
    out += [
        "# HELP subscription_freshness_seconds From an event's commit to its effect's commit, events applied here.",
        "# TYPE subscription_freshness_seconds histogram",
    ]
    for s in samples:
        if s.freshness is not None:
            out += s.freshness.lines("subscription_freshness_seconds", subscription=s.name)
    return out
