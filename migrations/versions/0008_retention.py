"""Retention: idempotency keys expire (IDEMPOTENCY_KEY_TTL_S) and listener delivery attempts
are kept for LISTENER_ATTEMPTS_RETENTION_S; the purger finds the old rows by these indexes
and records what it removed in `command.purges` (for /metrics and `app status`).

Revision ID: 0008
Revises: 0007
"""

from migrations.raw import execute

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute("""
    CREATE INDEX idempotency_keys_created_at ON command.idempotency_keys (created_at);
    CREATE INDEX listener_deliveries_at ON command.listener_deliveries (at);
    CREATE TABLE command.purges (
        name         text        PRIMARY KEY,
        removed      bigint      NOT NULL DEFAULT 0,
        last_removed bigint      NOT NULL DEFAULT 0,
        last_run_at  timestamptz
    );
    """)


def downgrade() -> None:
    execute("""
    DROP TABLE command.purges;
    DROP INDEX command.listener_deliveries_at;
    DROP INDEX command.idempotency_keys_created_at;
    """)
