"""Projects reservation events into each user's list of reservations.

Keeps its own copy of room names (from RoomAdded) so that a read is one table.
Updates carry the reservation version and only move forward, so a replayed event
changes nothing.
"""

from __future__ import annotations

from app.infra.batching import ColumnStatement
from app.infra.subscriptions import Subscription
from app.queries.reservation_views import RESERVATION_EVENTS, PerReservation

VIEW = "user_reservations"

ADD_ROOM = "INSERT INTO user_reservation_rooms (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING"
REGISTER = ColumnStatement("""
INSERT INTO user_reservations (id, user_id, room_id, room_name, start_at, end_at, status, version)
SELECT e.id, e.user_id, e.room_id, r.name, e.start_at, e.end_at, 'active', e.version
FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::timestamptz[], $5::timestamptz[], $6::int[])
     AS e(id, user_id, room_id, start_at, end_at, version)
JOIN user_reservation_rooms r ON r.id = e.room_id
ON CONFLICT (id) DO NOTHING
""")
CHANGE = """
UPDATE user_reservations u
SET room_id = $2, room_name = r.name, start_at = $3, end_at = $4, version = $5
FROM user_reservation_rooms r
WHERE u.id = $1 AND r.id = $2 AND u.version < $5
"""
CANCEL = "UPDATE user_reservations SET status = 'cancelled', version = $2 WHERE id = $1 AND version < $2"


VIEW_STATEMENTS = PerReservation(
    add_room=ADD_ROOM,
    register=REGISTER,
    registered=lambda e: (e.reservation_id, e.user_id, e.room_id, e.start, e.end, e.version),
    change=CHANGE,
    changed=lambda e: (e.reservation_id, e.room_id, e.start, e.end, e.version),
    cancel=CANCEL,
    cancelled=lambda e: (e.reservation_id, e.version),
)

subscription = Subscription(
    VIEW,
    VIEW_STATEMENTS.project,
    schema="query",
    tables=("user_reservations", "user_reservation_rooms"),
    event_types=RESERVATION_EVENTS,
    one_statement=VIEW_STATEMENTS.as_one_statement,
)
