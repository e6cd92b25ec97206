"""The spine: schemas, outbox (the event log), subscription checkpoints, idempotency keys.

Revision ID: 0001
Revises:
"""

from migrations.raw import execute

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute("""
    CREATE SCHEMA IF NOT EXISTS command;
    CREATE SCHEMA IF NOT EXISTS query;

    -- xid: the writing transaction (pg_current_xact_id()), which orders readers.
    CREATE TABLE command.outbox (
        id          bigserial   NOT NULL,
        xid         bigint      NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
        event_id    uuid        NOT NULL,
        type        text        NOT NULL,
        version     integer     NOT NULL,
        stream_id   text        NOT NULL,
        payload     jsonb       NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        PRIMARY KEY (xid, id)
    );

    -- One row per subscription (projector or process manager): its checkpoint,
    -- written in the same transaction as its effects.
    CREATE TABLE command.subscriptions (
        name        text        PRIMARY KEY,
        -- The origin sorts before every event, even a log re-based to negative xids.
        xid         bigint      NOT NULL DEFAULT -9223372036854775808,
        id          bigint      NOT NULL DEFAULT 0,
        updated_at  timestamptz NOT NULL DEFAULT now(),
        stalled     boolean     NOT NULL DEFAULT false,
        last_error  text
    );

    CREATE TABLE command.idempotency_keys (
        key         text        PRIMARY KEY,
        fingerprint bytea       NOT NULL,
        status      integer     NOT NULL,
        body        bytea       NOT NULL,
        position    text,
        created_at  timestamptz NOT NULL DEFAULT now()
    );
    """)


def downgrade() -> None:
    execute("""
    DROP TABLE command.idempotency_keys;
    DROP TABLE command.subscriptions;
    DROP TABLE command.outbox;
    DROP SCHEMA query;
    DROP SCHEMA command;
    """)
