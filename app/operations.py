"""The operations endpoints: liveness, readiness, Prometheus metrics."""

from __future__ import annotations

from typing import Any

from litestar import MediaType, Request, Response, get

from app.commands.listeners import store as listeners
from app.infra import purger, status
from app.infra.metrics import labels
from app.infra.migrations import current_revision
from app.infra.modules import Module
from app.infra.standbys import Standbys
from app.infra.web.access import an_admin, public
from app.infra.web.openapi import plain_read
from app.infra.web.services import ServicesDep, Timed
from app.tags import OPERATIONS

# Prometheus' text exposition format (Litestar adds "; charset=utf-8").
PROMETHEUS_TEXT = "text/plain; version=0.0.4"
STALLED = "SELECT name, last_error FROM command.subscriptions WHERE stalled ORDER BY name"


@get(
    "/health/live",
    summary="The process is up",
    description="Answers as long as the process runs; it checks nothing else.",
    operation_id="live",
    opt={**plain_read(), **public()},
)
async def live() -> dict[str, str]:
    return {"status": "ok"}


@get(
    "/health/ready",
    summary="Database reachable, migrations at head, no stalled subscription",
    description=(
        "503 with the same document while any check fails. Error texts (a stalled subscription's "
        "`last_error`, a standby's `error`) are shown to admins only: anyone else sees which check failed."
    ),
    operation_id="ready",
    opt={**plain_read(also={503: "Not ready: the same document, saying which check failed"}), **public()},
)
async def ready(services: ServicesDep, request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    admin = await an_admin(request)
    checks: dict[str, Any] = {}
    try:
        async with services.pool.acquire(timeout=2) as conn:
            revision = await current_revision(conn)
            checks["migrations"] = {"current": revision, "head": services.head_revision}
            stalled = await conn.fetch(STALLED)
        checks["stalled_subscriptions"] = [dict(r) if admin else {"name": r["name"]} for r in stalled]
        ok = revision == services.head_revision and not stalled
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"unreachable: {type(exc).__name__}" if admin else "unreachable"
        ok = False
    if services.standbys is not None:
        # Informative only: without a usable standby the views are read on the primary.
        checks["standbys"] = [
            {
                "name": s.name,
                "state": s.state(services.standbys.max_lag_s),
                "lag_ms": None if s.lag_s is None else round(s.lag_s * 1000),
                **({"error": s.error} if admin else {}),
            }
            for s in services.standbys.standbys
        ]
    return Response({"status": "ready" if ok else "not ready", **checks}, status_code=200 if ok else 503)


@get(
    "/metrics",
    summary="Prometheus metrics",
    description="Requests by route, and each subscription's state, lag and freshness, in Prometheus text format.",
    media_type=MediaType.TEXT,
    operation_id="metrics",
    opt={**plain_read(503), **public()},
)
async def metrics(services: ServicesDep) -> Response[str]:
    samples = await status.sample(services.pool, services.subscriptions, services.host)
    lines = services.metrics.render(samples) + listener_lines(await listeners.samples(services.pool), services.dispatcher)
    if services.standbys is not None:
        lines += standby_lines(services.standbys)
    lines += purge_lines(await services.pool.fetch(purger.PURGES))
    return Response(lines, media_type=PROMETHEUS_TEXT)


def listener_lines(rows: list[Any], dispatcher: Timed | None) -> str:
    """Per listener: pending, delivered, failed attempts, dead letters, paused/disabled; and
    the latency of the deliveries this process made (commit to acknowledgement)."""
    gauges = [
        ("listener_pending_events", "gauge", "Matching events not yet delivered.", "pending"),
        ("listener_delivered_total", "counter", "Events delivered.", "delivered"),
        ("listener_failed_attempts_total", "counter", "Failed delivery attempts.", "failed_attempts"),
        ("listener_dead_letters", "gauge", "Events given up on (redeliver them).", "dead_letters"),
        ("listener_paused", "gauge", "1 when paused.", "paused"),
        ("listener_disabled", "gauge", "1 when its target answered 410 Gone.", "disabled"),
    ]
    out: list[str] = []
    for name, kind, help_text, column in gauges:
        out += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
        # By id alone: a listener's name is its registrant's text, and /metrics is public.
        out += [f"{name}{labels(listener=str(r['id']))} {int(r[column])}" for r in rows]
    if dispatcher is not None:
        out += [
            "# HELP listener_delivery_latency_seconds From an event's commit to its delivery's acknowledgement (this process).",
            "# TYPE listener_delivery_latency_seconds histogram",
            *dispatcher.latency.lines("listener_delivery_latency_seconds"),
        ]
    return "\n".join(out) + "\n"


def purge_lines(rows: list[Any]) -> str:
    """Per purge (from the database: the same on every worker): rows removed, and when it last ran."""
    out = [
        "# HELP purge_removed_total Rows the purger removed (expired idempotency keys, old listener attempts...).",
        "# TYPE purge_removed_total counter",
        *(f"purge_removed_total{labels(purge=r['name'])} {r['removed']}" for r in rows),
        "# HELP purge_last_run_timestamp_seconds When the purge last ran (Unix time).",
        "# TYPE purge_last_run_timestamp_seconds gauge",
        *(
            f"purge_last_run_timestamp_seconds{labels(purge=r['name'])} {r['last_run_at'].timestamp():.0f}"
            for r in rows
            if r["last_run_at"]
        ),
    ]
    return "\n".join(out) + "\n"


def standby_lines(standbys: Standbys) -> str:
    """Per standby: usable, lag, reads it served and reads it failed (then served by the
    primary); and the reads this process sent to the primary."""
    out = [
        "# HELP query_standby_up 1 when the standby answers and lags at most QUERY_MAX_LAG_MS (reads go there).",
        "# TYPE query_standby_up gauge",
        *(f"query_standby_up{labels(standby=s.name)} {int(s.state(standbys.max_lag_s) == 'up')}" for s in standbys.standbys),
        "# HELP query_standby_lag_seconds Since the primary first wrote past what the standby has replayed.",
        "# TYPE query_standby_lag_seconds gauge",
        *(f"query_standby_lag_seconds{labels(standby=s.name)} {s.lag_s:.3f}" for s in standbys.standbys if s.lag_s is not None),
        "# HELP query_standby_reads_total View reads served by the standby (this process).",
        "# TYPE query_standby_reads_total counter",
        *(f"query_standby_reads_total{labels(standby=s.name)} {s.reads}" for s in standbys.standbys),
        "# HELP query_standby_failed_reads_total Reads the standby failed, served by the primary instead (this process).",
        "# TYPE query_standby_failed_reads_total counter",
        *(f"query_standby_failed_reads_total{labels(standby=s.name)} {s.fallbacks}" for s in standbys.standbys),
        "# HELP query_primary_reads_total View reads served by the primary while standbys are configured (this process).",
        "# TYPE query_primary_reads_total counter",
        f"query_primary_reads_total {standbys.primary_reads}",
    ]
    return "\n".join(out) + "\n"


routes = [live, ready, metrics]
module = Module("operations", tag=OPERATIONS, routes=routes)
