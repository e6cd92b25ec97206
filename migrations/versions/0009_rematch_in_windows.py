"""Matching a listener against the past (a past `starts_at`, a new filter or end) is done in
windows by the dispatching process, not inside the registration's transaction: the listener
holds where that matching has come (`rematch_*`) and up to where it goes (`rematch_until_*`),
and is not dispatched until it is done.

Revision ID: 0009
Revises: 0008
"""

from migrations.raw import execute

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute("""
    ALTER TABLE command.listeners
        ADD COLUMN rematch_xid bigint, ADD COLUMN rematch_id bigint,
        ADD COLUMN rematch_until_xid bigint, ADD COLUMN rematch_until_id bigint;
    """)


def downgrade() -> None:
    execute("""
    ALTER TABLE command.listeners
        DROP COLUMN rematch_xid, DROP COLUMN rematch_id, DROP COLUMN rematch_until_xid, DROP COLUMN rematch_until_id;
    """)
