"""Projects active reservations into bookings per room, for popularity over any window."""

from __future__ import annotations

from app.infra.batching import ColumnStatement
from app.infra.subscriptions import Subscription
from app.queries.reservation_views import RESERVATION_EVENTS, PerReservation

VIEW = "room_popularity"

ADD_ROOM = """
INSERT INTO room_popularity_rooms (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING
"""
BOOK = ColumnStatement("""
INSERT INTO room_popularity_bookings (reservation_id, room_id, period, version)
SELECT e.reservation_id, e.room_id, tstzrange(e.start_at, e.end_at, '[)'), e.version
FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[], $4::timestamptz[], $5::int[])
     AS e(reservation_id, room_id, start_at, end_at, version)
ON CONFLICT (reservation_id) DO NOTHING
""")
MOVE = """
UPDATE room_popularity_bookings SET room_id = $2, period = tstzrange($3, $4, '[)'), version = $5
WHERE reservation_id = $1 AND version < $5
"""
UNBOOK = "DELETE FROM room_popularity_bookings WHERE reservation_id = $1"


VIEW_STATEMENTS = PerReservation(
    add_room=ADD_ROOM,
    register=BOOK,
    registered=lambda e: (e.reservation_id, e.room_id, e.start, e.end, e.version),
    change=MOVE,
    changed=lambda e: (e.reservation_id, e.room_id, e.start, e.end, e.version),
    cancel=UNBOOK,
    cancelled=lambda e: (e.reservation_id,),
)

subscription = Subscription(
    VIEW,
    VIEW_STATEMENTS.project,
    schema="query",
    tables=("room_popularity_bookings", "room_popularity_rooms"),
    event_types=RESERVATION_EVENTS,
    one_statement=VIEW_STATEMENTS.as_one_statement,
)
