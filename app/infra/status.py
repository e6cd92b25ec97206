"""Where every subscription stands: for /metrics, /health/ready and `app projections status`."""

from __future__ import annotations

from collections.abc import Sequence

from app.events import event_type
from app.infra.db import Connection, Pool
from app.infra.metrics import SubscriptionSample
from app.infra.outbox import ORIGIN, Position, lags
from app.infra.subscriptions import LOCK_NAMESPACE, State, Subscription, SubscriptionHost

CHECKPOINTS = """
SELECT s.name, s.xid, s.id, s.stalled, s.last_error,
       EXISTS (SELECT 1 FROM pg_locks l
               WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::int::oid
                 AND l.objid = hashtext(s.name)::oid AND l.objsubid = 2) AS owned_somewhere
FROM command.subscriptions s WHERE s.name = ANY($2::text[])
"""


async def sample(
    conn: Connection | Pool,
    subscriptions: Sequence[Subscription],
    host: SubscriptionHost | None = None,
) -> list[SubscriptionSample]:
    names = [s.name for s in subscriptions]
    interests = {s.name: [event_type(t) for t in s.event_types] or None for s in subscriptions}
    rows = {r["name"]: r for r in await conn.fetch(CHECKPOINTS, LOCK_NAMESPACE, names)}
    local = host.states() if host else {}
    positions = {name: Position(rows[name]["xid"], rows[name]["id"]) if name in rows else ORIGIN for name in names}
    behind = await lags(conn, [(positions[name], interests[name]) for name in names])
    samples = []
    for name, (events, seconds) in zip(names, behind, strict=True):
        row = rows.get(name)
        position = positions[name]
        stats = local.get(name)
        owned = bool(host and name in host.runners)
        if row is not None and row["stalled"]:
            state = State.STALLED.value
        elif row is not None and row["owned_somewhere"]:
            state = State.RUNNING.value
        else:
            state = State.STOPPED.value
        samples.append(
            SubscriptionSample(
                name=name,
                state=state,
                owned=owned,
                position_xid=position.xid,
                position_id=position.id,
                lag_events=events,
                lag_seconds=seconds,
                events_applied=stats.events_applied if stats else 0,
                failures=stats.failures if stats else 0,
                checkpoint_conflicts=stats.checkpoint_conflicts if stats else 0,
                freshness=stats.freshness if stats else None,
            )
        )
    return samples
