"""Rooms and reservations: the command tables and the four read models.

Read-model indexes are left unnamed on purpose: PostgreSQL's default names depend
only on table and column names, so a blue/green rebuild's shadow copy
(`CREATE TABLE ... (LIKE ... INCLUDING ALL)` in another schema) gets the very same
index names and swaps in without renames.

Revision ID: 0002
Revises: 0001
"""

from migrations.raw import execute

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute("""
    CREATE EXTENSION IF NOT EXISTS btree_gist;

    CREATE TABLE command.rooms (
        id         uuid        PRIMARY KEY,
        name       text        NOT NULL,
        capacity   integer     NOT NULL CHECK (capacity >= 1),
        location   text,
        created_at timestamptz NOT NULL
    );

    -- PostgreSQL itself refuses two overlapping active reservations of one room,
    -- whatever the concurrency: half-open [start, end) ranges, active rows only.
    CREATE TABLE command.reservations (
        id         uuid        PRIMARY KEY,
        room_id    uuid        NOT NULL REFERENCES command.rooms (id),
        user_id    text        NOT NULL,
        period     tstzrange   NOT NULL CHECK (NOT isempty(period)),
        status     text        NOT NULL CHECK (status IN ('active', 'cancelled')),
        version    integer     NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        CONSTRAINT reservations_no_overlap
            EXCLUDE USING gist (room_id WITH =, period WITH &&) WHERE (status = 'active')
    );

    CREATE TABLE query.rooms (
        id       uuid    PRIMARY KEY,
        name     text    NOT NULL,
        capacity integer NOT NULL,
        location text
    );
    CREATE INDEX ON query.rooms (name, id);

    CREATE TABLE query.user_reservation_rooms (id uuid PRIMARY KEY, name text NOT NULL);
    CREATE TABLE query.user_reservations (
        id        uuid        PRIMARY KEY,
        user_id   text        NOT NULL,
        room_id   uuid        NOT NULL,
        room_name text        NOT NULL,
        start_at  timestamptz NOT NULL,
        end_at    timestamptz NOT NULL,
        status    text        NOT NULL,
        version   integer     NOT NULL
    );
    CREATE INDEX ON query.user_reservations (user_id, start_at, id);
    CREATE INDEX ON query.user_reservations (user_id, status, start_at, id);

    CREATE TABLE query.reservation_history_rooms (id uuid PRIMARY KEY, name text NOT NULL);
    CREATE TABLE query.reservation_history (
        event_id         uuid        PRIMARY KEY,
        user_id          text        NOT NULL,
        reservation_id   uuid        NOT NULL,
        room_id          uuid        NOT NULL,
        room_name        text        NOT NULL,
        action           text        NOT NULL,
        start_at         timestamptz NOT NULL,
        end_at           timestamptz NOT NULL,
        previous_start   timestamptz,
        previous_end     timestamptz,
        previous_room_id uuid,
        at               timestamptz NOT NULL
    );
    CREATE INDEX ON query.reservation_history (user_id, at DESC, event_id DESC);

    CREATE TABLE query.room_popularity_rooms (id uuid PRIMARY KEY, name text NOT NULL);
    -- Active reservations only; the GiST index answers "what overlaps [from, to)".
    CREATE TABLE query.room_popularity_bookings (
        reservation_id uuid      PRIMARY KEY,
        room_id        uuid      NOT NULL,
        period         tstzrange NOT NULL,
        version        integer   NOT NULL
    );
    CREATE INDEX ON query.room_popularity_bookings USING gist (period);
    """)


def downgrade() -> None:
    execute("""
    DROP TABLE query.room_popularity_bookings;
    DROP TABLE query.room_popularity_rooms;
    DROP TABLE query.reservation_history;
    DROP TABLE query.reservation_history_rooms;
    DROP TABLE query.user_reservations;
    DROP TABLE query.user_reservation_rooms;
    DROP TABLE query.rooms;
    DROP TABLE command.reservations;
    DROP TABLE command.rooms;
    """)
